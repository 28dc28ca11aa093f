import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CheckError } from '../errors.ts';

/** The model directory contract (models/README.md) as a schema: the one place it is spelled out. */
const fileEntry = z.object({
  path: z
    .string()
    .min(1)
    .refine((p) => !path.isAbsolute(p) && !p.split(/[\\/]/).includes('..'), {
      message: 'must be a file name inside the model directory',
    }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  bytes: z.number().int().nonnegative(),
});

const rgbTriple = z.tuple([z.number(), z.number(), z.number()]);
const tokenId = z.number().int().nonnegative();

export const manifestSchema = z.object({
  schema_version: z.literal(1),
  name: z.string().min(1),
  version: z.string().min(1),
  demo: z.boolean(),
  description: z.string().optional(),
  image: z.object({
    size: z.number().int().min(16).max(2048),
    mean: rgbTriple,
    std: rgbTriple.refine((s) => s.every((v) => v > 0), { message: 'std must be positive' }),
    resample: z.literal('bicubic'),
    patch_size: z.number().int().positive().optional(),
  }),
  text: z.object({
    max_words: z.number().int().positive(),
    max_length: z.number().int().min(8),
    prompt: z.string().includes('{text}'),
    prompt_with_premise: z.string().includes('{text}').includes('{premise}'),
    bos_id: tokenId,
    pad_id: tokenId,
    eos_id: tokenId,
  }),
  answers: z.object({ YES: tokenId, NO: tokenId, MAYBE: tokenId }),
  files: z.object({
    model: fileEntry,
    /** ONNX external weights (a graph over 2 GB, e.g. OFA-Large fp32, keeps them beside it). */
    model_data: fileEntry.optional(),
    tokenizer: fileEntry,
    tokenizer_config: fileEntry.optional(),
  }),
});

export type ModelManifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof fileEntry>;

export const MANIFEST_FILE = 'model.json';

/** MODEL_INVALID naming the directory, the file and the problem (the contract's promise). */
export function modelError(dir: string, file: string, problem: string): CheckError {
  return new CheckError('MODEL_INVALID', `model directory ${dir}: ${file}: ${problem}`);
}

/** Reads and validates model.json; every problem names the file and the field. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'cannot be read';
    throw modelError(dir, MANIFEST_FILE, reason);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw modelError(dir, MANIFEST_FILE, `not valid JSON (${(err as Error).message})`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw modelError(dir, MANIFEST_FILE, `invalid manifest: ${problems}`);
  }
  return parsed.data;
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks that a manifest file exists with the promised size and checksum; returns its path. */
export async function verifyManifestFile(dir: string, entry: ManifestFile): Promise<string> {
  const file = path.join(dir, entry.path);
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw modelError(dir, entry.path, 'is not a regular file');
    size = info.size;
  } catch (err) {
    if (err instanceof CheckError) throw err;
    throw modelError(dir, entry.path, 'not found (listed in model.json)');
  }
  if (size !== entry.bytes) {
    throw modelError(dir, entry.path, `size is ${size} bytes, model.json says ${entry.bytes}`);
  }
  const actual = await sha256OfFile(file);
  if (actual !== entry.sha256) {
    throw modelError(dir, entry.path, `sha256 mismatch (file ${actual}, model.json ${entry.sha256})`);
  }
  return file;
}

/** Reads a JSON file listed in the manifest, after its checksum was verified. */
export async function readJsonFile(dir: string, entry: ManifestFile): Promise<Record<string, unknown>> {
  const file = await verifyManifestFile(dir, entry);
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error('expected a JSON object');
    }
    return value as Record<string, unknown>;
  } catch (err) {
    throw modelError(dir, entry.path, `not valid JSON (${(err as Error).message})`);
  }
}
