import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STAGE_NAMES, type StageName } from '../../preload/wire-types.ts';
import { blockLength, compareBenchResults, type BenchComparison } from '../../main/cli/bench/bench-compare.ts';
import { parseMaxRegression } from '../../main/cli/bench/bench-compare-command.ts';
import { formatComparison } from '../../main/cli/bench/bench-compare-report.ts';
import { BenchInputError, formatBenchJson, readBenchResult, type BenchResult } from '../../main/cli/bench/bench-result-file.ts';
import { stepSamples, type MeasuredRequest } from '../../main/cli/bench/bench-samples.ts';
import { bootstrap, nearestRank, percentileInterval } from '../../main/cli/bench/bench-stats.ts';
import { UsageError } from '../../main/cli/exit-codes.ts';
import { uniform01 } from '../../models/tools/seeded-random.ts';

function gaussianFrom(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Log-normal values around `median` ms with a spread of `sigma` (in log units), seeded. */
function logNormal(seed: number, count: number, median: number, sigma: number): number[] {
  const gaussian = gaussianFrom(uniform01(seed));
  return Array.from({ length: count }, () => median * Math.exp(sigma * gaussian()));
}

interface StepPlan {
  concurrency: number;
  requests: number;
  /** Multiplies one stage's times (a planted regression or improvement). */
  scale?: Partial<Record<StageName, number>>;
  /** Adds to one stage's times, in ms. */
  add?: Partial<Record<StageName, number>>;
}

/** Typical medians of the demo model's stages on a laptop, ms. */
const STAGE_MEDIANS: Record<StageName, number> = { queue: 0.03, decode_image: 6, tokenize: 0.2, inference: 40, postprocess: 0.02 };

/** A bench result as `ofa-ve bench --json` writes it, from synthetic requests (seeded). */
function syntheticRun(seed: number, steps: readonly StepPlan[], overrides: Partial<BenchResult> = {}): BenchResult {
  return {
    tool: 'ofa-ve bench',
    version: '0.1.0',
    date: '2026-01-01T00:00:00.000Z',
    command: 'ofa-ve bench --concurrency 1,4',
    machine: { cpus: 8, cpu_model: 'test', memory_gib: 16, platform: 'linux', node: 'v20' },
    mode: 'in-process',
    model: { name: 'ofa-ve-demo', version: '1.0.0', provider: 'cpu', demo: true },
    ...overrides,
    steps: steps.map((plan, k) => {
      const columns = Object.fromEntries(
        STAGE_NAMES.map((stage, s) => [
          stage,
          logNormal(seed * 1000 + k * 10 + s, plan.requests, STAGE_MEDIANS[stage], 0.15).map(
            (v) => v * (plan.scale?.[stage] ?? 1) + (plan.add?.[stage] ?? 0),
          ),
        ]),
      ) as Record<StageName, number[]>;
      const overhead = logNormal(seed * 1000 + k * 10 + 9, plan.requests, 1, 0.3);
      const requests: MeasuredRequest[] = overhead.map((o, i) => ({
        ok: true,
        latencyMs: o + STAGE_NAMES.reduce((sum, stage) => sum + columns[stage][i]!, 0),
        stages: Object.fromEntries(STAGE_NAMES.map((stage) => [stage, columns[stage][i]!])),
      }));
      const meanMs = requests.reduce((a, r) => a + r.latencyMs, 0) / requests.length;
      return {
        concurrency: plan.concurrency,
        max_batch_size: 8,
        requests: plan.requests,
        errors: 0,
        elapsed_s: (plan.requests * meanMs) / 1000 / plan.concurrency,
        qps: (1000 * plan.concurrency) / meanMs,
        samples: stepSamples(requests),
      };
    }),
  };
}

const STEPS: StepPlan[] = [
  { concurrency: 1, requests: 400 },
  { concurrency: 4, requests: 400 },
];

const withPlan = (change: Omit<StepPlan, 'concurrency' | 'requests'>) => STEPS.map((s) => ({ ...s, ...change }));

describe('bench statistics: nearest rank and the bootstrap', () => {
  it('nearestRank is the rank rule of the bench step table: ceil(q·n)-th smallest', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(nearestRank(sorted, 0.5), 5);
    assert.equal(nearestRank(sorted, 0.9), 9);
    assert.equal(nearestRank(sorted, 0.99), 10);
    assert.equal(nearestRank(sorted, 0), 1);
    assert.equal(nearestRank([7], 0.99), 7);
  });

  it('is reproducible: the same seed gives the same replicates, another seed others', () => {
    const values = logNormal(1, 200, 40, 0.3);
    const a = bootstrap(values, [0.5, 0.9], 500, 17);
    const b = bootstrap(values, [0.5, 0.9], 500, 17);
    const c = bootstrap(values, [0.5, 0.9], 500, 18);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.quantiles[0], c.quantiles[0]);
  });

  it('every replicate is a value of the sample, and the replicates of the mean centre on the mean', () => {
    const values = logNormal(2, 150, 10, 0.5);
    const set = new Set(values);
    const { quantiles, means } = bootstrap(values, [0.99, 0.5], 1000, 3);
    for (const q of quantiles) for (const v of q) assert.ok(set.has(v));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const meanOfMeans = means.reduce((a, b) => a + b, 0) / means.length;
    assert.ok(Math.abs(meanOfMeans - mean) / mean < 0.01, `${meanOfMeans} vs ${mean}`);
  });

  it('the 95% interval of P50 covers the true median in about 95% of seeded repetitions', () => {
    // Log-normal with median 40: 100 samples of 120, each with its own interval.
    let covered = 0;
    const repetitions = 100;
    for (let r = 0; r < repetitions; r++) {
      const { quantiles } = bootstrap(logNormal(100 + r, 120, 40, 0.4), [0.5], 1000, 17);
      const ci = percentileInterval(quantiles[0]!, 0.95);
      if (ci.lo <= 40 && 40 <= ci.hi) covered += 1;
    }
    assert.ok(covered >= 88 && covered <= 100, `covered ${covered} of ${repetitions}`);
  });

  it('blocks keep dependent neighbours together: batches of 4 equal times give a wider interval than the plain bootstrap', () => {
    // 30 batches of 4 requests sharing the batch's time, as at concurrency 4.
    const batches = logNormal(5, 30, 100, 0.3);
    const values = batches.flatMap((t) => [t, t, t, t]);
    const width = (block: number) => {
      const ci = percentileInterval(bootstrap(values, [0.5], 2000, 17, block).quantiles[0]!, 0.95);
      return ci.hi - ci.lo;
    };
    assert.ok(width(4) > 1.3 * width(1), `block 4: ${width(4)}, plain: ${width(1)}`);
    assert.equal(blockLength(8, 120), 8, 'the requests in flight together');
    assert.equal(blockLength(1, 1000), 10, 'at least the cube root of the sample count');
    assert.equal(blockLength(16, 20), 5, 'at most a quarter of the samples');
    assert.equal(blockLength(1, 3), 1);
  });
});

describe('bench compare on synthetic runs (seeded)', () => {
  it('two runs from the same distribution: no regression, nothing beyond the bound', () => {
    const c = compareBenchResults(syntheticRun(1, STEPS), syntheticRun(2, STEPS), { maxRegression: 0.1 });
    assert.deepEqual(c.regressions, []);
    assert.deepEqual(c.improvements, []);
    assert.equal(c.steps.length, 2);
    assert.deepEqual(
      c.steps[0]!.figures.map((f) => f.figure),
      ['end_to_end', ...STAGE_NAMES],
    );
    for (const step of c.steps) {
      const e2e = step.figures[0]!.quantiles[0]!;
      assert.ok(e2e.baseline.ci.lo <= e2e.baseline.value && e2e.baseline.value <= e2e.baseline.ci.hi);
      assert.ok(e2e.difference.ci.lo < 0 && e2e.difference.ci.hi > 0, 'the interval of the difference holds 0');
    }
  });

  it('a 20% slower inference: a significant regression of inference, named first as the cause', () => {
    const c = compareBenchResults(syntheticRun(1, STEPS), syntheticRun(2, withPlan({ scale: { inference: 1.2 } })), { maxRegression: 0.1 });
    const inference = c.regressions.filter((f) => f.figure === 'inference');
    assert.ok(inference.length >= 2, JSON.stringify(c.regressions.map((f) => [f.figure, f.quantile, f.step])));
    assert.ok(c.regressions.every((f) => f.figure === 'inference' || f.figure === 'end_to_end' || f.figure === 'throughput'));
    const p50 = inference.find((f) => f.quantile === 0.5)!;
    assert.ok(Math.abs(p50.change.relative!.value - 0.2) < 0.05, `P50 +${p50.change.relative!.value}`);
    assert.ok(p50.change.relative!.ci.lo > 0.1 && p50.change.relative!.ci.hi < 0.3);
    assert.equal(c.attribution[0]!.stage, 'inference');
    assert.ok(c.attribution[0]!.share! > 0.8, `share ${c.attribution[0]!.share}`);
    for (const step of c.steps) assert.equal(step.attribution[0]!.stage, 'inference');
  });

  it('the same change with a 30% bound: significant, but no regression (exit 0)', () => {
    const c = compareBenchResults(syntheticRun(1, STEPS), syntheticRun(2, withPlan({ scale: { inference: 1.2 } })), { maxRegression: 0.3 });
    assert.deepEqual(c.regressions, []);
    const p50 = c.steps[0]!.figures.find((f) => f.figure === 'inference')!.quantiles[0]!;
    assert.equal(p50.significant, true);
    assert.equal(p50.regression, false);
  });

  it('a faster inference is an improvement, never a regression; the cause is still inference', () => {
    const c = compareBenchResults(syntheticRun(1, STEPS), syntheticRun(2, withPlan({ scale: { inference: 0.7 } })), { maxRegression: 0.1 });
    assert.deepEqual(c.regressions, []);
    assert.ok(c.improvements.some((f) => f.figure === 'inference'));
    assert.ok(
      c.improvements.some((f) => f.figure === 'throughput'),
      'throughput up',
    );
    assert.equal(c.attribution[0]!.stage, 'inference');
    assert.ok(c.attribution[0]!.difference_ms < 0);
  });

  it('throughput down by more than the bound is a regression of its own', () => {
    const slower = syntheticRun(2, withPlan({ scale: { decode_image: 3 } }));
    const c = compareBenchResults(syntheticRun(1, STEPS), slower, { maxRegression: 0.1 });
    const throughput = c.regressions.filter((f) => f.figure === 'throughput');
    assert.equal(throughput.length, 2);
    assert.ok(throughput[0]!.change.relative!.value < -0.1);
    assert.equal(c.attribution[0]!.stage, 'decode_image');
  });

  it('a tiny stage that doubles (0.02 → 0.04 ms) is significant but immaterial: no regression', () => {
    const c = compareBenchResults(syntheticRun(1, STEPS), syntheticRun(2, withPlan({ scale: { postprocess: 2 } })), { maxRegression: 0.1 });
    assert.deepEqual(c.regressions, []);
    const p50 = c.steps[0]!.figures.find((f) => f.figure === 'postprocess')!.quantiles[0]!;
    assert.equal(p50.significant, true);
    assert.ok(p50.relative!.value > 0.8);
  });

  it('a quantile without enough samples beyond it is not judged, however large its change', () => {
    const few = [{ concurrency: 1, requests: 40 }];
    const slower = syntheticRun(2, [{ concurrency: 1, requests: 40, scale: { inference: 3 } }]);
    const c = compareBenchResults(syntheticRun(1, few), slower, { maxRegression: 0.1 });
    const inference = c.steps[0]!.figures.find((f) => f.figure === 'inference')!;
    assert.deepEqual(
      inference.quantiles.map((q) => [q.quantile, q.judged]),
      [
        [0.5, true],
        [0.9, false],
        [0.99, false],
      ],
    );
    assert.ok(c.regressions.every((f) => f.quantile === null || f.quantile === 0.5));
    assert.ok(c.regressions.some((f) => f.figure === 'inference' && f.quantile === 0.5));
  });

  it('a step where every request failed: no latency to compare, and its throughput of 0 is a regression', () => {
    const failed = syntheticRun(2, STEPS);
    failed.steps[1] = { ...failed.steps[1]!, errors: 400, qps: 0, samples: stepSamples([]) };
    const c = compareBenchResults(syntheticRun(1, STEPS), failed, { maxRegression: 0.1 });
    assert.deepEqual(c.steps[1]!.figures, []);
    assert.deepEqual(
      c.regressions.map((f) => [f.figure, f.step, f.change.relative?.value]),
      [['throughput', 'concurrency 4, max batch 8', -1]],
    );
    const text = formatComparison(c, { baseline: 'a', current: 'b' }, { baseline: syntheticRun(1, STEPS), current: failed });
    assert.match(text, /Requests: 400 \(0 failed\) in the baseline, 400 \(400 failed\) in the current run; no answered requests/);
  });

  it('steps that do not match are bad input, and the message names them', () => {
    const a = syntheticRun(1, STEPS);
    const b = syntheticRun(2, [
      { concurrency: 1, requests: 100 },
      { concurrency: 8, requests: 100 },
    ]);
    assert.throws(
      () => compareBenchResults(a, b, { maxRegression: 0.1 }),
      (err: Error) =>
        err instanceof BenchInputError &&
        /only in the baseline: concurrency 4, max batch 8/.test(err.message) &&
        /only in the current run: concurrency 8, max batch 8/.test(err.message),
    );
  });

  it('the report: verdict and cause first, the same text every time, notes on different settings', () => {
    const runs = {
      baseline: syntheticRun(1, STEPS),
      current: syntheticRun(2, withPlan({ scale: { inference: 1.2 } }), { mode: 'http-in-process' }),
    };
    const compare = (): BenchComparison => compareBenchResults(runs.baseline, runs.current, { maxRegression: 0.1 });
    const files = { baseline: 'a.json', current: 'b.json' };
    const text = formatComparison(compare(), files, runs);
    assert.equal(formatComparison(compare(), files, runs), text, 'seeded: reproducible to the digit');
    const lines = text.split('\n');
    assert.equal(lines[0], '# ofa-ve bench compare');
    assert.match(lines[2]!, /^\*\*Regression\*\* beyond the 10% bound/);
    assert.match(text, /most of it: inference \(\+[\d.]+ ms, 9\d\.\d%\)/);
    assert.ok(text.indexOf('most of it: inference') < text.indexOf('| file |'), 'the cause comes before the details');
    assert.match(text, /Note: modes differ: in-process → http-in-process/);
    assert.match(text, /## Concurrency 1, max batch 8/);
    assert.match(text, /\| inference P50 ms \| [\d.]+ \([\d.]+ … [\d.]+\) \| .* \| \*\*yes: regression\*\* \|/);
    assert.match(text, /\| throughput QPS \|/);
  });
});

describe('bench result files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-bench-compare-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const write = async (name: string, content: string) => {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  };
  const rejects = async (file: string, message: RegExp) =>
    assert.rejects(
      readBenchResult(file),
      (err: Error) => err instanceof BenchInputError && message.test(err.message) && err.message.startsWith(file),
    );

  it('round-trips what bench writes, with numeric arrays kept on one line', async () => {
    const run = syntheticRun(3, [{ concurrency: 2, requests: 50 }]);
    const text = formatBenchJson(run);
    const file = await write('run.json', text);
    assert.deepEqual(await readBenchResult(file), run);
    assert.match(text, /"latency_ms": \[[\d.]+(,[\d.]+){49}\]/);
    assert.ok(text.split('\n').length < 60, 'not one line per number');
  });

  it('refuses, naming the file: missing, not JSON, not a bench result, a wrong field, no samples (an older bench)', async () => {
    await rejects(path.join(dir, 'absent.json'), /not found/);
    await rejects(await write('broken.json', '{"tool": '), /not valid JSON/);
    await rejects(await write('other.json', '{"name": "something else"}'), /not an ofa-ve bench result/);
    const run = syntheticRun(3, [{ concurrency: 2, requests: 20 }]) as unknown as { steps: Array<Record<string, unknown>> };
    await rejects(await write('field.json', JSON.stringify({ ...run, steps: [{ ...run.steps[0], qps: 'fast' }] })), /steps\.0\.qps/);
    const { samples: _, ...bare } = run.steps[0]!;
    await rejects(
      await write('old.json', JSON.stringify({ ...run, steps: [bare] })),
      /written by ofa-ve bench 0\.1\.0 without per-request samples \(concurrency 2, max batch 8\).*run `ofa-ve bench --json FILE` again/,
    );
  });
});

describe('step samples', () => {
  const request = (i: number, ok = true): MeasuredRequest => ({
    ok,
    latencyMs: i + 0.123456,
    stages: { decode_image: i / 10, inference: i / 2 },
  });

  it('keeps every answered request, at microsecond resolution, and null for a stage not reported', () => {
    const samples = stepSamples([request(1), request(2, false), request(3)]);
    assert.equal(samples.answered, 2);
    assert.equal(samples.kept, 2);
    assert.deepEqual(samples.latency_ms, [1.123, 3.123]);
    assert.deepEqual(samples.stages_ms.inference, [0.5, 1.5]);
    assert.deepEqual(samples.stages_ms.queue, [null, null]);
  });

  it('above the cap: a seeded uniform subset, in measurement order', () => {
    const requests = Array.from({ length: 1000 }, (_, i) => request(i));
    const a = stepSamples(requests, 100, 7);
    assert.equal(a.answered, 1000);
    assert.equal(a.kept, 100);
    assert.deepEqual(stepSamples(requests, 100, 7), a);
    assert.ok(
      a.latency_ms.every((v, i) => i === 0 || v > a.latency_ms[i - 1]!),
      'in order',
    );
    assert.ok(a.latency_ms[0]! < 100 && a.latency_ms[99]! > 900, 'spread over the whole step');
  });
});

describe('--max-regression', () => {
  it('takes a percentage, with or without %', () => {
    assert.equal(parseMaxRegression('10%'), 0.1);
    assert.equal(parseMaxRegression('2.5'), 0.025);
    for (const bad of ['0', '-5%', 'ten', '', '1e3', '1000%']) assert.throws(() => parseMaxRegression(bad), UsageError, bad);
  });
});
