/**
 * A bench result file (`ofa-ve bench --json FILE`): written compactly, read back for
 * `ofa-ve bench compare` with a message that names the file and the field for anything wrong.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { stepSamplesSchema } from './bench-samples.ts';

/** The fields of a result file the comparison reads (the file holds more). */
const benchResultSchema = z.object({
  tool: z.literal('ofa-ve bench'),
  version: z.string(),
  date: z.string(),
  command: z.string(),
  machine: z.object({ cpus: z.number(), cpu_model: z.string(), memory_gib: z.number(), platform: z.string(), node: z.string() }),
  mode: z.string(),
  model: z.object({ name: z.string(), version: z.string(), provider: z.string(), demo: z.boolean() }).nullable(),
  steps: z
    .array(
      z.object({
        concurrency: z.number().int().positive(),
        max_batch_size: z.number().int().nonnegative(),
        requests: z.number().int().nonnegative(),
        errors: z.number().int().nonnegative(),
        elapsed_s: z.number().positive(),
        qps: z.number().nonnegative(),
        samples: stepSamplesSchema.optional(),
      }),
    )
    .min(1),
});

export type BenchResult = z.infer<typeof benchResultSchema>;
export type BenchResultStep = BenchResult['steps'][number];

/** A result file that cannot be compared: exit 2, with this message. */
export class BenchInputError extends Error {}

/** Where a step sits in a sweep; steps of two runs are matched by it. */
export function stepName(step: { concurrency: number; max_batch_size: number }): string {
  return `concurrency ${step.concurrency}, max batch ${step.max_batch_size}`;
}

/** Reads and checks a result file, including that every step carries its samples. */
export async function readBenchResult(file: string): Promise<BenchResult> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BenchInputError(`${file}: ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? (err as Error).message})`}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new BenchInputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if ((json as { tool?: unknown } | null)?.tool !== 'ofa-ve bench') {
    throw new BenchInputError(`${file}: not an ofa-ve bench result (the file \`ofa-ve bench --json FILE\` writes)`);
  }
  const parsed = benchResultSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new BenchInputError(`${file}: not a readable ofa-ve bench result: ${problems}`);
  }
  const result = parsed.data;
  const bare = result.steps.filter((s) => s.samples === undefined);
  if (bare.length > 0) {
    throw new BenchInputError(
      `${file}: written by ofa-ve bench ${result.version} without per-request samples (${bare.map(stepName).join('; ')}), so no ` +
        'confidence interval can be computed from it; run `ofa-ve bench --json FILE` again with this version',
    );
  }
  return result;
}

/**
 * JSON with two-space indentation, except that arrays of numbers stay on one line: a step's
 * samples are thousands of numbers, one per line would make the file unreadable.
 */
const NUMBER_ARRAY = /\[\s+((?:-?[\d.e+-]+|null)(?:,\s+(?:-?[\d.e+-]+|null))*)\s+\]/g;

export function formatBenchJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(NUMBER_ARRAY, (_, inner: string) => `[${inner.split(/,\s+/).join(',')}]`)}\n`;
}
