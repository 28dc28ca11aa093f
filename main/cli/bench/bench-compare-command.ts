/** `ofa-ve bench compare BASELINE.json CURRENT.json`: the CI gate on two bench result files. */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CliIo } from '../cli-io.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { compareBenchResults } from './bench-compare.ts';
import { describeFinding, describeShares, formatComparison, formatVerdict } from './bench-compare-report.ts';
import { BenchInputError, readBenchResult } from './bench-result-file.ts';

export const BENCH_COMPARE_USAGE = `usage: ofa-ve bench compare BASELINE.json CURRENT.json [--max-regression 10%] [--markdown FILE]

Compares two result files of \`ofa-ve bench --json FILE\`, step by step: throughput and P50/P90/P99 of
the end-to-end latency and of each stage, each with a 95% bootstrap confidence interval (seeded: the
same files give the same report), the difference and whether it is significant, and the stage that
explains most of the change. Prints a markdown report (or writes it to --markdown FILE).
Exit 1 when a significant change is worse than --max-regression (latency up or throughput down by
more than it; default 10%), 0 otherwise, 2 for a file that is missing, is not a bench result, was
written without per-request samples, or whose steps do not match the other's.`;

/** "10%", "10" or "2.5%": a percentage above 0, as a fraction. */
export function parseMaxRegression(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(value);
  const n = match ? Number(match[1]) : NaN;
  if (!(n > 0 && n < 1000)) throw new UsageError(`--max-regression must be a percentage above 0, such as 10% (got "${value}")`);
  return n / 100;
}

export async function runBenchCompare(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'max-regression': { type: 'string', default: '10%' },
      markdown: { type: 'string' },
    },
  });
  if (positionals.length !== 2) {
    throw new UsageError(`compare takes two result files, BASELINE.json and CURRENT.json (got ${positionals.length})`);
  }
  const maxRegression = parseMaxRegression(values['max-regression'] as string);
  const [baselineFile, currentFile] = positionals as [string, string];

  let comparison;
  let runs;
  try {
    runs = { baseline: await readBenchResult(baselineFile), current: await readBenchResult(currentFile) };
    comparison = compareBenchResults(runs.baseline, runs.current, { maxRegression });
  } catch (err) {
    if (!(err instanceof BenchInputError)) throw err;
    io.stderr(`ofa-ve bench compare: ${err.message}`);
    return EXIT.BAD_INPUT;
  }

  const report = formatComparison(comparison, { baseline: baselineFile, current: currentFile }, runs);
  if (values.markdown) {
    try {
      await writeFile(values.markdown, `${report}\n`);
    } catch (err) {
      io.stderr(`ofa-ve bench compare: cannot write --markdown ${values.markdown}: ${(err as Error).message}`);
      return EXIT.BAD_INPUT;
    }
    // The full report is in the file; the log gets the verdict and the cause.
    io.stdout(`${formatVerdict(comparison)}\n\n(report written to ${values.markdown})`);
  } else {
    io.stdout(report);
  }
  if (comparison.regressions.length === 0) return EXIT.OK;
  const cause = comparison.attribution.length > 0 ? ` (most of the change: ${describeShares(comparison.attribution, 1)})` : '';
  io.stderr(
    `ofa-ve bench compare: regression beyond ${Number((100 * maxRegression).toFixed(2))}%${cause}: ` +
      comparison.regressions.map((f) => describeFinding(f, comparison.confidence)).join('; '),
  );
  return EXIT.FAILURE;
}
