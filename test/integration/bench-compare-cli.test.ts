/**
 * `ofa-ve bench compare` on real result files of the demo model: two instances of the same build
 * pass the gate (exit 0), a planted 20% inference regression fails it (exit 1) and is named as the
 * cause, and bad input exits 2 saying why.
 *
 * The two instances come from one `ofa-ve bench --max-batch-size 8,8` run: two services of the same
 * build, measured in alternating slices, so that a shared machine's drift (its speed changes from
 * minute to minute) hits both alike; the run's steps are then split into two files. Small images
 * keep decoding short, so a few seconds give enough samples and inference is most of the latency.
 *
 * A busy machine can hide a 20% change in its own noise, and make two runs of one build differ:
 * when any figure the gate judges (inference P50, end-to-end P90, at each concurrency) is known no
 * better than ±10% (as when other work starves the worker), an exit-code check that fails says so
 * and is skipped; everything else is checked always.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { blockLength } from '../../main/cli/bench/bench-compare.ts';
import type { BenchResult } from '../../main/cli/bench/bench-result-file.ts';
import { bootstrap, nearestRank, percentileInterval } from '../../main/cli/bench/bench-stats.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';
import { cli } from '../support/cli-in-process.ts';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');

/** The real binary, for its process exit status. */
async function cliProcess(args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT });
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

type Step = BenchResult['steps'][number];
const samplesOf = (step: Step) => step.samples!;
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * The same run with inference 20% slower: every request's inference time × 1.2, its end-to-end
 * latency longer by the same amount, and the throughput lower as a closed loop's is (QPS ∝ 1 /
 * mean latency). `bench compare` reads the samples and the QPS.
 */
function plantSlowerInference(result: BenchResult, factor: number): BenchResult {
  return {
    ...result,
    steps: result.steps.map((step) => {
      const samples = samplesOf(step);
      const inference = samples.stages_ms.inference!;
      const latency = samples.latency_ms.map((ms, i) => ms + (factor - 1) * (inference[i] ?? 0));
      return {
        ...step,
        qps: (step.qps * mean(samples.latency_ms)) / mean(latency),
        samples: {
          ...samples,
          latency_ms: latency,
          stages_ms: { ...samples.stages_ms, inference: inference.map((v) => (v === null ? null : v * factor)) },
        },
      };
    }),
  };
}

/**
 * How finely a run pins down the figures the gate judges: for every step, the inference P50 and the
 * end-to-end P90, the half-width of each one's 95% interval relative to it; the worst of them.
 */
function resolution(result: BenchResult): { resolution: number; samples: number; figure: string } {
  let worst = { resolution: 0, samples: 0, figure: '' };
  for (const step of result.steps) {
    const figures: [string, number[], number][] = [
      ['inference P50', samplesOf(step).stages_ms.inference!.filter((v): v is number => v !== null), 0.5],
      ['end-to-end P90', samplesOf(step).latency_ms, 0.9],
    ];
    for (const [name, values, q] of figures) {
      const ci = percentileInterval(bootstrap(values, [q], 2000, 17, blockLength(step.concurrency, values.length)).quantiles[0]!, 0.95);
      const point = nearestRank(Float64Array.from(values).sort(), q);
      const r = (ci.hi - ci.lo) / 2 / point;
      if (r > worst.resolution) worst = { resolution: r, samples: values.length, figure: `${name} at concurrency ${step.concurrency}` };
    }
  }
  return worst;
}

describe('ofa-ve bench compare on real runs of the demo model', () => {
  let dir: string;
  let sweep: BenchResult;
  let files: { a: string; b: string; planted: string };
  /** Set when this machine is too busy to resolve a 20% change in the runs just taken. */
  let tooNoisy: string | false = false;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-bench-compare-'));
    const images = path.join(dir, 'images');
    await mkdir(images);
    for (let i = 0; i < 4; i++) {
      const background = { r: 60 * i, g: 120, b: 200 - 40 * i };
      const image = sharp({ create: { width: 160 + 40 * i, height: 120 + 30 * i, channels: 3, background } });
      await (i % 2 === 0 ? image.jpeg() : image.png()).toFile(path.join(images, `photo-${i}.${i % 2 === 0 ? 'jpg' : 'png'}`));
    }
    const sweepFile = path.join(dir, 'sweep.json');
    const bench = await cliProcess([
      'bench',
      '--images',
      images,
      '--concurrency',
      '1,4',
      '--max-batch-size',
      '8,8',
      '--duration',
      '3',
      '--warmup',
      '0.5',
      '--provider',
      'cpu',
      '--json',
      sweepFile,
    ]);
    assert.equal(bench.code, 0, bench.err);
    sweep = JSON.parse(await readFile(sweepFile, 'utf8')) as BenchResult;
    // Steps come per concurrency, one per service: [c1 first, c1 second, c4 first, c4 second].
    const a = { ...sweep, steps: sweep.steps.filter((_, i) => i % 2 === 0) };
    const b = { ...sweep, steps: sweep.steps.filter((_, i) => i % 2 === 1) };
    files = { a: path.join(dir, 'same-a.json'), b: path.join(dir, 'same-b.json'), planted: path.join(dir, 'planted.json') };
    await writeFile(files.a, JSON.stringify(a));
    await writeFile(files.b, JSON.stringify(b));
    await writeFile(files.planted, JSON.stringify(plantSlowerInference(a, 1.2)));
    const noise = [resolution(a), resolution(b)];
    const worst = noise.reduce((x, y) => (y.resolution > x.resolution ? y : x));
    if (worst.resolution > 0.1) {
      const [load] = os.loadavg();
      tooNoisy =
        `this machine is too busy to resolve a 10% bound now: ${worst.figure} known to ±${(100 * worst.resolution).toFixed(0)}% ` +
        `from ${worst.samples} samples (load average ${load!.toFixed(1)} on ${os.availableParallelism()} cores)`;
    }
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('the result file keeps every step’s per-request samples: latency and the five stages', () => {
    assert.equal(sweep.steps.length, 4);
    for (const step of sweep.steps) {
      const samples = samplesOf(step);
      assert.equal(samples.kept, samples.latency_ms.length);
      assert.equal(samples.answered, step.requests - step.errors);
      assert.ok(samples.kept >= 10, `${samples.kept} samples at concurrency ${step.concurrency}`);
      for (const stage of ['queue', 'decode_image', 'tokenize', 'inference', 'postprocess'] as const) {
        assert.equal(samples.stages_ms[stage]!.length, samples.kept);
        assert.ok(samples.stages_ms[stage]!.every((v) => typeof v === 'number' && v >= 0));
      }
      // End to end covers every stage (the client's clock runs around the service's).
      samples.latency_ms.forEach((ms, i) => assert.ok(ms >= samplesOf(step).stages_ms.inference![i]!));
    }
  });

  it('two instances of the same build: no regression beyond 10%, exit 0', async (t) => {
    const { code, out, err } = await cli(['bench', 'compare', files.a, files.b]);
    if (tooNoisy && code !== 0) return t.skip(`${tooNoisy}; it said: ${err.split('\n')[0]}`);
    assert.equal(code, 0, `${err}\n${out}`);
    assert.match(out, /\*\*No regression\*\* beyond the 10% bound \(exit 0\)/);
    assert.match(out, /## Concurrency 1, max batch 8[\s\S]*## Concurrency 4, max batch 8/);
  });

  it('a planted 20% inference regression: exit 1, inference named first as the cause', async (t) => {
    const { code, out, err } = await cliProcess(['bench', 'compare', files.a, files.planted]);
    // The cause is exact whatever the noise: only inference (and so end to end) moved.
    assert.match(out, /most of it: inference \(\+[\d.]+ ms, 100\.0%\)/);
    assert.match(out, /\| inference P50 ms \| [\d.]+ \([^)]*\) \| [\d.]+ \([^)]*\) \| \+[\d.]+ \([^)]*\) \| \+20\.0% /);
    if (tooNoisy && code !== 1) return t.skip(`${tooNoisy}; it said: no regression`);
    assert.equal(code, 1, `${err}\n${out}`);
    assert.match(err, /^ofa-ve bench compare: regression beyond 10% \(most of the change: inference /);
    assert.match(err, /inference P\d+ at concurrency \d, max batch 8: [\d.]+ → [\d.]+ ms \(\+20\.0%/);
    assert.match(out, /\*\*yes: regression\*\*/);
  });

  it('the same comparison twice gives the same report (seeded bootstrap)', async () => {
    const first = await cli(['bench', 'compare', files.a, files.planted]);
    const second = await cli(['bench', 'compare', files.a, files.planted]);
    assert.equal(second.out, first.out);
  });

  it('--markdown FILE: the report goes to the file, the verdict and the cause to stdout', async () => {
    const report = path.join(dir, 'report.md');
    const { out } = await cli(['bench', 'compare', files.a, files.planted, '--max-regression', '50%', '--markdown', report]);
    const text = await readFile(report, 'utf8');
    assert.match(text, /^# ofa-ve bench compare\n\n\*\*No regression\*\* beyond the 50% bound/);
    assert.match(text, /\| figure \| baseline \(95% CI\) \| current \(95% CI\) \| difference \(95% CI\) \| change \(95% CI\) \|/);
    assert.match(out, /^\*\*No regression\*\*/);
    assert.match(out, /most of it: inference/);
    assert.match(out, /report written to /);
    assert.doesNotMatch(out, /\| figure \|/);
  });

  it('bad input exits 2 and says why: a missing file, a file from before the samples, steps that do not match', async () => {
    const missing = await cli(['bench', 'compare', path.join(dir, 'nope.json'), files.b]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.json: not found/);

    const old = path.join(dir, 'old.json');
    const a = JSON.parse(await readFile(files.a, 'utf8')) as BenchResult;
    await writeFile(old, JSON.stringify({ ...a, steps: a.steps.map(({ samples: _, ...rest }) => rest) }));
    const older = await cli(['bench', 'compare', old, files.b]);
    assert.equal(older.code, 2);
    assert.match(older.err, /old\.json: written by ofa-ve bench [\d.]+ without per-request samples/);

    const fewer = path.join(dir, 'fewer.json');
    await writeFile(fewer, JSON.stringify({ ...a, steps: a.steps.filter((s) => s.concurrency === 1) }));
    const mismatch = await cli(['bench', 'compare', fewer, files.b]);
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.err, /steps do not match \(only in the current run: concurrency 4, max batch 8\)/);

    const usage = await cli(['bench', 'compare', files.a]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /two result files/);
  });
});
