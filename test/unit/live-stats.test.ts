import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DDSketch } from '@datadog/sketches-js';
import { STAGE_NAMES, type ResultType, type StageName } from '../../preload/wire-types.ts';
import { emptySeriesPoint, LiveStats, type RequestSample } from '../../main/telemetry/live-stats.ts';
import { DurationSketch, RELATIVE_ACCURACY, mergedMean, mergedQuantiles } from '../../main/telemetry/quantile-sketch.ts';
import { uniform01 } from '../../models/tools/seeded-random.ts';

/** Not aligned to a minute or a 10 s period, so windows cut through the aggregates. */
const T0 = 1_700_000_017_250;
const SEC0 = Math.floor(T0 / 1000);

function gaussianFrom(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

class Clock {
  constructor(public ms = T0) {}
  readonly now = () => this.ms;
  get second() {
    return Math.floor(this.ms / 1000);
  }
}

/** Exact order statistic by the nearest-rank rule: the ⌈q·n⌉-th smallest value. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(Number((q * sorted.length).toFixed(9))) - 1)]!;
}

function assertClose(actual: number | null, expected: number, tolerance: number, what: string): void {
  assert.ok(actual !== null, `${what}: got null`);
  const error = Math.abs(actual - expected) / expected;
  assert.ok(error <= tolerance, `${what}: ${actual} vs exact ${expected} (relative error ${error.toFixed(5)} > ${tolerance})`);
}

/** α, the documented bound (0.5%), which is inside the 1% promise. */
const WITHIN = RELATIVE_ACCURACY * (1 + 1e-9);

type Distribution = (random: () => number, gaussian: () => number) => number;
const DISTRIBUTIONS: Record<string, Distribution> = {
  uniform: (random) => 5 + 495 * random(),
  'lognormal heavy tail': (_random, gaussian) => Math.exp(3 + 1.2 * gaussian()),
  bimodal: (random, gaussian) => (random() < 0.7 ? 20 + 2 * gaussian() : 300 + 30 * gaussian()),
};

interface Recorded extends RequestSample {
  second: number;
}

/** Stage generators: sub-millisecond, around 1 ms (bin key 0), exponential and lognormal. */
function stagesFor(random: () => number, gaussian: () => number): Record<StageName, number> {
  return {
    queue: -Math.log(1 - random()) * 4,
    decode_image: 0.5 + 1.5 * random(),
    tokenize: 0.05 + 0.4 * random(),
    inference: Math.exp(3.4 + 0.4 * gaussian()),
    postprocess: 0.98 + 0.03 * random(),
  };
}

/**
 * Drives a LiveStats with a fake clock: `perSecond` requests per second for `seconds` seconds, the
 * clock following the requests. 5% fail (with huge latencies that must not reach the quantiles).
 */
function fill(stats: LiveStats, clock: Clock, seconds: number, perSecond: number, latency: Distribution, seed: number): Recorded[] {
  const random = uniform01(seed);
  const gaussian = gaussianFrom(random);
  const out: Recorded[] = [];
  const failures: Array<[number, string]> = [
    [400, 'INVALID_IMAGE'],
    [413, 'IMAGE_TOO_LARGE'],
    [415, 'UNSUPPORTED_MEDIA_TYPE'],
    [401, 'UNAUTHORIZED'],
    [500, 'INTERNAL'],
    [503, 'OVERLOADED'],
  ];
  const labels = ['YES', 'NO', 'MAYBE'] as const;
  for (let s = 0; s < seconds; s++) {
    const base = (clock.second + 1) * 1000;
    for (let i = 0; i < perSecond; i++) {
      clock.ms = base + Math.floor(((i + random()) * 1000) / perSecond);
      const failed = random() < 0.05;
      const [statusCode, errorCode] = failed ? failures[Math.floor(random() * failures.length)]! : [200, undefined];
      const sample: Recorded = {
        id: `r${out.length}`,
        endedAtMs: clock.ms,
        latencyMs: failed ? 10_000 + 1000 * random() : Math.max(0.01, latency(random, gaussian)),
        statusCode,
        resultType: failed ? 'ERROR' : labels[Math.floor(random() * 3)]!,
        stages: failed ? { queue: 5000 } : stagesFor(random, gaussian),
        batchSize: 1 + Math.floor(random() * 8),
        errorCode,
        second: Math.floor(clock.ms / 1000),
      };
      stats.record(sample);
      out.push(sample);
    }
  }
  return out;
}

const inWindow = (samples: readonly Recorded[], now: number, window: number) =>
  samples.filter((s) => s.second > now - window && s.second <= now);
const successful = (samples: readonly Recorded[]) => samples.filter((s) => s.statusCode === 200 && s.resultType !== 'ERROR');
const failed = (samples: readonly Recorded[]) => samples.filter((s) => !(s.statusCode === 200 && s.resultType !== 'ERROR'));
const slowestFirst = (a: RequestSample, b: RequestSample) => b.latencyMs - a.latencyMs || b.endedAtMs - a.endedAtMs;

/**
 * The slow-requests list computed the slow way: the `successes` slowest successful requests and the
 * `failures` most recent failed ones (of two that ended in the same ms, the later recorded), slowest first.
 */
function expectedSlowest(samples: readonly Recorded[], successes = 20, failures = 10): Recorded[] {
  const slow = successful(samples).sort(slowestFirst).slice(0, successes);
  const recent = failed(samples)
    .reverse()
    .sort((a, b) => b.endedAtMs - a.endedAtMs)
    .slice(0, failures);
  return [...slow, ...recent].sort(slowestFirst);
}

/** Counts computed the slow way, to compare a snapshot with. */
function expectedTotals(samples: readonly Recorded[]) {
  const by_status: Record<string, number> = {};
  const totals = { requests: samples.length, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, client_errors: 0, server_errors: 0, by_status };
  for (const s of samples) {
    totals[s.statusCode === 200 ? s.resultType : 'ERROR']++;
    if (s.statusCode >= 400 && s.statusCode < 500) totals.client_errors++;
    else if (s.statusCode !== 200 || s.resultType === 'ERROR') totals.server_errors++;
    by_status[String(s.statusCode)] = (by_status[String(s.statusCode)] ?? 0) + 1;
  }
  return totals;
}

/**
 * Checks a snapshot against what was recorded. `since`: the second the stats were created (T0's
 * by default): a window reaching back before it is covered only from it on, and its QPS with it.
 */
function assertCounts(stats: LiveStats, samples: readonly Recorded[], now: number, window: number, since = Math.floor(T0 / 1000)): void {
  const snap = stats.snapshot(window);
  const expected = inWindow(samples, now, window);
  const totals = expectedTotals(expected);
  assert.deepEqual(snap.totals, totals, `totals for window ${window}`);
  const covered = now >= since ? Math.min(window, now - since + 1) : window;
  assert.equal(snap.covered_s, covered, `covered seconds of window ${window}`);
  assert.equal(snap.qps, expected.length / covered);
  assert.equal(
    snap.error_rate,
    expected.length > totals.client_errors ? totals.server_errors / (expected.length - totals.client_errors) : 0,
  );
  assert.equal(snap.client_error_rate, expected.length ? totals.client_errors / expected.length : 0);
  assert.equal(snap.series.length, window);
  assert.equal(snap.series[0]!.t, now - window + 1);
  assert.equal(snap.series.at(-1)!.t, now);
  snap.series.forEach((point, i) => assert.equal(point.t, now - window + 1 + i));
  assert.equal(
    snap.series.reduce((sum, p) => sum + p.requests, 0),
    expected.length,
  );
}

describe('LiveStats quantile accuracy', () => {
  for (const [name, distribution] of Object.entries(DISTRIBUTIONS)) {
    it(`${name}: p50/p90/p99 within 1% of exact for 60, 300 and 900 s windows, stages too`, () => {
      const clock = new Clock();
      const stats = new LiveStats({ now: clock.now });
      const samples = fill(stats, clock, 905, 40, distribution, name.length * 7919);
      const now = clock.second;
      for (const window of [60, 300, 900]) {
        const snap = stats.snapshot(window);
        const ok = successful(inWindow(samples, now, window));
        const sorted = ok.map((s) => s.latencyMs).sort((a, b) => a - b);
        assertClose(snap.p50_ms, exactQuantile(sorted, 0.5), WITHIN, `${name} p50 @${window}s`);
        assertClose(snap.p90_ms, exactQuantile(sorted, 0.9), WITHIN, `${name} p90 @${window}s`);
        assertClose(snap.p99_ms, exactQuantile(sorted, 0.99), WITHIN, `${name} p99 @${window}s`);
        assertClose(snap.mean_ms, sorted.reduce((a, b) => a + b, 0) / sorted.length, 1e-9, `${name} mean @${window}s`);
        for (const stage of STAGE_NAMES) {
          const values = ok.map((s) => s.stages![stage]!).sort((a, b) => a - b);
          const got = snap.stages[stage];
          assertClose(got.p50_ms, exactQuantile(values, 0.5), WITHIN, `${name} ${stage} p50 @${window}s`);
          assertClose(got.p90_ms, exactQuantile(values, 0.9), WITHIN, `${name} ${stage} p90 @${window}s`);
          const mean = values.reduce((a, b) => a + b, 0) / values.length;
          assertClose(got.mean_ms, mean, 1e-9, `${name} ${stage} mean @${window}s`);
        }
      }
    });
  }

  it('series quantiles are each second’s own, within 1%', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const samples = fill(stats, clock, 30, 200, DISTRIBUTIONS['lognormal heavy tail']!, 11);
    const now = clock.second;
    const snap = stats.snapshot(30);
    for (const point of snap.series) {
      const sorted = successful(samples.filter((s) => s.second === point.t))
        .map((s) => s.latencyMs)
        .sort((a, b) => a - b);
      assertClose(point.p50_ms, exactQuantile(sorted, 0.5), WITHIN, `p50 at ${point.t}`);
      assertClose(point.p90_ms, exactQuantile(sorted, 0.9), WITHIN, `p90 at ${point.t}`);
      assertClose(point.p99_ms, exactQuantile(sorted, 0.99), WITHIN, `p99 at ${point.t}`);
    }
    assert.equal(snap.series.at(-1)!.t, now);
  });

  it('with few checks P90 and P99 are the slowest ones (nearest rank), in the window and in its second', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const record = (latencyMs: number, i: number) =>
      stats.record({ id: `few${i}`, endedAtMs: clock.ms, latencyMs, statusCode: 200, resultType: 'YES', stages: {}, batchSize: 1 });
    [44.5, 217.8].forEach(record);
    let snap = stats.snapshot(60);
    assertClose(snap.p50_ms, 44.5, WITHIN, 'P50 of two');
    assertClose(snap.p90_ms, 217.8, WITHIN, 'P90 of two: the slower, not the faster');
    assertClose(snap.p99_ms, 217.8, WITHIN, 'P99 of two');
    const second = snap.series.at(-1)!;
    assertClose(second.p99_ms, 217.8, WITHIN, "the second's own P99 of two");
    clock.ms += 1000;
    [136, 140, 378, 468].forEach((ms, i) => record(ms, i + 2));
    snap = stats.snapshot(1);
    assertClose(snap.p50_ms, 140, WITHIN, 'P50 of four: the 2nd');
    assertClose(snap.p90_ms, 468, WITHIN, 'P90 of four: the 4th (the slowest-requests list shows it)');
    assertClose(snap.p99_ms, 468, WITHIN, 'P99 of four');
  });

  it('windows that cut through the 10 s and 60 s aggregates give exact counts and accurate quantiles', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const samples = fill(stats, clock, 950, 7, DISTRIBUTIONS.bimodal!, 5);
    const now = clock.second;
    for (const window of [1, 2, 9, 10, 11, 59, 60, 61, 119, 120, 121, 333, 599, 600, 601, 899, 900]) {
      assertCounts(stats, samples, now, window);
      const sorted = successful(inWindow(samples, now, window))
        .map((s) => s.latencyMs)
        .sort((a, b) => a - b);
      assertClose(stats.snapshot(window).p90_ms, exactQuantile(sorted, 0.9), WITHIN, `p90 @${window}s`);
    }
  });
});

describe('LiveStats counts and series', () => {
  it('counts, qps, error rates (5xx and 4xx apart), by_status and mean latency are exact; series is zero-filled per second', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const samples: Recorded[] = [];
    const record = (offsetS: number, statusCode: number, resultType: ResultType, latencyMs: number) => {
      clock.ms = T0 + offsetS * 1000;
      const sample: Recorded = { id: `r${samples.length}`, endedAtMs: clock.ms, latencyMs, statusCode, resultType, second: clock.second };
      stats.record(sample);
      samples.push(sample);
    };
    record(0, 200, 'YES', 10);
    record(0, 200, 'NO', 20);
    record(3, 200, 'MAYBE', 30);
    record(3, 400, 'ERROR', 1);
    record(7, 413, 'ERROR', 2);
    record(7, 415, 'ERROR', 3);
    record(7, 401, 'ERROR', 4);
    record(12, 500, 'ERROR', 5000);
    record(12, 503, 'ERROR', 6);
    record(12, 200, 'YES', 40);
    const now = clock.second;

    const snap = stats.snapshot(60);
    assert.equal(snap.window_s, 60);
    assert.equal(snap.generated_at, new Date(clock.ms).toISOString());
    assert.deepEqual(snap.totals, {
      requests: 10,
      YES: 2,
      NO: 1,
      MAYBE: 1,
      ERROR: 6,
      client_errors: 4,
      server_errors: 2,
      by_status: { '200': 4, '400': 1, '401': 1, '413': 1, '415': 1, '500': 1, '503': 1 },
    });
    // The stats have existed 13 s (T0 to T0 + 12 s): the QPS is over those, not over the 47 s before.
    assert.equal(snap.covered_s, 13);
    assert.equal(snap.qps, 10 / 13);
    assert.equal(snap.error_rate, 2 / 6, '5xx over the checks that were not 4xx');
    assert.equal(snap.client_error_rate, 0.4);
    assert.equal(snap.mean_ms, (10 + 20 + 30 + 40) / 4, 'mean latency of the successful requests');
    assert.equal(snap.mean_batch_size, null, 'no batch ran');
    assert.equal(snap.series.length, 60);
    const bySecond = new Map(snap.series.map((p) => [p.t, p]));
    assert.deepEqual(
      { ...bySecond.get(SEC0 + 3)!, p50_ms: null, p90_ms: null, p99_ms: null },
      {
        t: SEC0 + 3,
        requests: 2,
        YES: 0,
        NO: 0,
        MAYBE: 1,
        ERROR: 1,
        client_errors: 1,
        server_errors: 0,
        p50_ms: null,
        p90_ms: null,
        p99_ms: null,
        error_rate: 0,
        client_error_rate: 0.5,
      },
    );
    const empty = bySecond.get(SEC0 + 5)!;
    assert.deepEqual(empty, emptySeriesPoint(SEC0 + 5));
    const counted = Object.entries(empty).filter(([key, value]) => key !== 't' && value !== 0 && value !== null);
    assert.deepEqual(counted, [], 'a second without requests counts nothing and has no latency');
    assert.equal(bySecond.get(SEC0 + 7)!.p50_ms, null, 'a second with only failures has no latency quantiles');
    assert.equal(bySecond.get(SEC0 + 7)!.error_rate, 0, 'a second of 4xx only has no server errors');
    assert.equal(bySecond.get(SEC0 + 7)!.client_error_rate, 1);
    assert.equal(bySecond.get(SEC0 + 12)!.server_errors, 2);
    assert.equal(bySecond.get(SEC0 + 12)!.error_rate, 2 / 3);
    assertCounts(stats, samples, now, 60);
    assertCounts(stats, samples, now, 5);
    assertCounts(stats, samples, now, 1);
  });

  it('mean_batch_size is the mean over model runs (sum of sizes / runs), not over requests', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    // Two full runs of 8 and one of 1: 17 requests answered, 3 batches. Weighted by request the
    // mean would be (8·8 + 8·8 + 1·1) / 17 ≈ 7.6; Prometheus' sum / count of ofa_ve_batch_size is 17 / 3.
    stats.recordBatch(8);
    clock.ms += 2000;
    stats.recordBatch(8, clock.ms - 200); // the same second (T0 is 250 ms into one)
    stats.recordBatch(1, clock.ms);
    assert.equal(stats.snapshot(60).mean_batch_size, 17 / 3);
    assert.equal(stats.snapshot(1).mean_batch_size, (8 + 1) / 2, 'only the runs that ended in the window');
    assert.equal(stats.snapshot(60).totals.requests, 0, 'a batch is not a request');

    // A run of no pair is no batch; nonsense sizes are ignored.
    for (const size of [0, -3, NaN, Infinity]) stats.recordBatch(size);
    assert.equal(stats.snapshot(60).mean_batch_size, 17 / 3);

    // Time as for requests: the future counts now, before the retention not at all, late ones in their own second.
    stats.recordBatch(4, clock.ms + 3_600_000);
    stats.recordBatch(32, clock.ms - 900_000);
    stats.recordBatch(2, clock.ms - 30_000);
    assert.equal(stats.snapshot(1).mean_batch_size, (8 + 1 + 4) / 3);
    assert.equal(stats.snapshot(60).mean_batch_size, (17 + 4 + 2) / 5);
    assert.equal(stats.snapshot(900).mean_batch_size, (17 + 4 + 2) / 5);

    // Runs leave the window with the seconds they ended in, across the 10 s and 60 s aggregates.
    clock.ms += 61_000;
    assert.equal(stats.snapshot(60).mean_batch_size, null);
    assert.equal(stats.snapshot(900).mean_batch_size, (17 + 4 + 2) / 5);
  });

  it('only successful requests feed the latency and stage figures', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    for (let i = 0; i < 100; i++) {
      clock.ms += 10;
      stats.record({ id: `ok${i}`, endedAtMs: clock.ms, latencyMs: 10, statusCode: 200, resultType: 'YES', stages: { inference: 8 } });
      stats.record({
        id: `bad${i}`,
        endedAtMs: clock.ms,
        latencyMs: 9000,
        statusCode: 500,
        resultType: 'ERROR',
        stages: { inference: 8000 },
      });
    }
    // Inconsistent pairs count as errors and stay out of the quantiles too.
    stats.record({ id: 'odd1', endedAtMs: clock.ms, latencyMs: 7000, statusCode: 200, resultType: 'ERROR' });
    stats.record({ id: 'odd2', endedAtMs: clock.ms, latencyMs: 7000, statusCode: 503, resultType: 'YES' });
    const snap = stats.snapshot(60);
    assert.equal(snap.totals.ERROR, 102);
    assert.equal(snap.totals.YES, 100);
    assert.equal(snap.error_rate, 102 / 202, "a failure that is not a 4xx is the service's");
    assert.equal(snap.totals.server_errors, 102);
    assert.equal(snap.client_error_rate, 0);
    for (const q of [snap.p50_ms, snap.p90_ms, snap.p99_ms]) assertClose(q, 10, WITHIN, 'latency');
    assert.equal(snap.mean_ms, 10);
    assertClose(snap.stages.inference.p90_ms, 8, WITHIN, 'inference p90');
    assert.equal(snap.stages.inference.mean_ms, 8);
    assert.equal(snap.stages.queue.p50_ms, null);
    // The 20 slowest successes, and the 10 most recent failures (odd2 and odd1 recorded last), slowest first.
    const slowest = stats.slowest();
    assert.deepEqual(
      slowest.map((r) => r.latency_ms),
      [...Array(8).fill(9000), 7000, 7000, ...Array(20).fill(10)],
    );
    assert.deepEqual(
      slowest.slice(0, 10).map((r) => r.id),
      [...Array.from({ length: 8 }, (_, i) => `bad${99 - i}`), 'odd2', 'odd1'],
    );
    assert.ok(slowest.slice(0, 10).every((r) => r.result_type === 'ERROR'));
  });

  it('an empty window gives null quantiles, 0 qps and 0 error_rate', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const snap = stats.snapshot(900);
    assert.equal(snap.qps, 0);
    assert.equal(snap.error_rate, 0);
    assert.equal(snap.client_error_rate, 0);
    assert.equal(snap.p50_ms, null);
    assert.equal(snap.p90_ms, null);
    assert.equal(snap.p99_ms, null);
    assert.equal(snap.mean_ms, null);
    assert.equal(snap.mean_batch_size, null);
    assert.deepEqual(snap.totals, { requests: 0, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, client_errors: 0, server_errors: 0, by_status: {} });
    assert.equal(snap.series.length, 900);
    assert.ok(snap.series.every((p) => p.requests === 0 && p.p50_ms === null && p.error_rate === 0 && p.client_error_rate === 0));
    for (const stage of STAGE_NAMES) assert.deepEqual(snap.stages[stage], { p50_ms: null, p90_ms: null, mean_ms: null });
    assert.deepEqual(stats.slowest(), []);
  });

  it('rejects windows outside 1..retention', () => {
    const stats = new LiveStats({ now: () => T0 });
    for (const bad of [0, -1, 1.5, 901, NaN]) assert.throws(() => stats.snapshot(bad), RangeError);
    assert.equal(stats.snapshot(1).series.length, 1);
    assert.equal(new LiveStats({ now: () => T0, retentionSeconds: 120 }).snapshot(120).series.length, 120);
  });

  it('ignores unusable durations without losing the request', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    for (const latencyMs of [NaN, -5, Infinity])
      stats.record({ id: 'x', endedAtMs: clock.ms, latencyMs, statusCode: 200, resultType: 'YES', stages: { queue: -1, inference: NaN } });
    stats.record({ id: 'y', endedAtMs: clock.ms, latencyMs: 12, statusCode: 200, resultType: 'NO', stages: { queue: 0 } });
    const snap = stats.snapshot(60);
    assert.equal(snap.totals.requests, 4);
    assertClose(snap.p99_ms, 12, WITHIN, 'p99');
    assert.equal(snap.stages.queue.p50_ms, 0);
    assert.equal(snap.stages.inference.p50_ms, null);
  });
});

describe('LiveStats time handling', () => {
  it('old data leaves the window, then the retention', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    stats.record({ id: 'a', endedAtMs: clock.ms, latencyMs: 50, statusCode: 200, resultType: 'YES' });
    clock.ms += 59_000;
    assert.equal(stats.snapshot(60).totals.requests, 1);
    clock.ms += 1000;
    assert.equal(stats.snapshot(60).totals.requests, 0);
    assert.equal(stats.snapshot(61).totals.requests, 1);
    assert.equal(stats.snapshot(900).totals.requests, 1);
    assert.equal(stats.slowest().length, 1);
    clock.ms = T0 + 899_000;
    assert.equal(stats.snapshot(900).totals.requests, 1);
    clock.ms = T0 + 900_000;
    assert.equal(stats.snapshot(900).totals.requests, 0);
    assert.equal(stats.snapshot(900).p50_ms, null);
    assert.deepEqual(stats.slowest(), []);
  });

  it('a request that ended in the past counts in its own second; the future counts now; before the retention, not at all', () => {
    const clock = new Clock(T0 + 100_000);
    const stats = new LiveStats({ now: clock.now });
    stats.record({ id: 'late', endedAtMs: T0 + 40_000, latencyMs: 5, statusCode: 200, resultType: 'YES' });
    stats.record({ id: 'future', endedAtMs: T0 + 500_000, latencyMs: 6, statusCode: 200, resultType: 'NO' });
    stats.record({ id: 'ancient', endedAtMs: T0 - 900_000, latencyMs: 7, statusCode: 200, resultType: 'MAYBE' });
    const snap = stats.snapshot(900);
    assert.deepEqual([snap.totals.YES, snap.totals.NO, snap.totals.MAYBE], [1, 1, 0]);
    assert.equal(snap.series.find((p) => p.t === SEC0 + 40)!.YES, 1);
    assert.equal(snap.series.at(-1)!.NO, 1);
    assert.deepEqual(
      stats.slowest().map((r) => r.id),
      ['future', 'late'],
    );
  });

  it('a late request for a frozen second thaws it without losing what it held', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const samples = fill(stats, clock, 20, 50, DISTRIBUTIONS.uniform!, 3);
    const late: Recorded = { id: 'late', endedAtMs: T0 + 5_000, latencyMs: 42, statusCode: 200, resultType: 'YES', second: SEC0 + 5 };
    clock.ms += 3000;
    stats.record(late);
    samples.push(late);
    const now = clock.second;
    assertCounts(stats, samples, now, 60);
    const secondFive = stats.snapshot(60).series.find((p) => p.t === SEC0 + 5)!;
    const sorted = successful(samples.filter((s) => s.second === SEC0 + 5))
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    assertClose(secondFive.p50_ms, exactQuantile(sorted, 0.5), WITHIN, 'p50 of the thawed second');
    const all = successful(inWindow(samples, now, 60))
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    assertClose(stats.snapshot(60).p90_ms, exactQuantile(all, 0.9), WITHIN, 'window p90');
  });

  it('a jump forward by more than the retention empties every window', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    fill(stats, clock, 120, 5, DISTRIBUTIONS.uniform!, 1);
    clock.ms += 5_000_000;
    for (const window of [60, 900]) {
      const snap = stats.snapshot(window);
      assert.equal(snap.totals.requests, 0);
      assert.ok(snap.series.every((p) => p.requests === 0));
      assert.equal(snap.p50_ms, null);
    }
    assert.deepEqual(stats.slowest(), []);
    const fresh = fill(stats, clock, 70, 5, DISTRIBUTIONS.uniform!, 2);
    assertCounts(stats, fresh, clock.second, 900);
    assertCounts(stats, fresh, clock.second, 60);
  });

  it('a jump backward drops the seconds that are now in the future and counts nothing twice', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const before = fill(stats, clock, 200, 6, DISTRIBUTIONS.bimodal!, 9);
    const rewindTo = SEC0 + 137; // mid-minute, mid-10 s period
    clock.ms = rewindTo * 1000 + 400;
    const kept = before.filter((s) => s.second <= rewindTo);
    for (const window of [1, 10, 60, 61, 300, 900]) assertCounts(stats, kept, rewindTo, window);
    assert.ok(stats.slowest().every((r) => Date.parse(r.ended_at) < (rewindTo + 1) * 1000));

    // Time runs again over the same seconds: only the new requests count there.
    const after = fill(stats, clock, 150, 6, DISTRIBUTIONS.bimodal!, 10);
    const all = [...kept, ...after];
    const now = clock.second;
    for (const window of [1, 9, 10, 11, 59, 60, 61, 120, 300, 900]) assertCounts(stats, all, now, window);
    const sorted = successful(inWindow(all, now, 900))
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    assertClose(stats.snapshot(900).p99_ms, exactQuantile(sorted, 0.99), WITHIN, 'p99 after the rewind');
    assert.deepEqual(
      stats.slowest().map((r) => r.id),
      expectedSlowest(all).map((s) => s.id),
    );
  });

  it('a jump backward by more than the retention starts from empty', () => {
    const clock = new Clock(T0 + 5_000_000);
    const stats = new LiveStats({ now: clock.now });
    fill(stats, clock, 30, 5, DISTRIBUTIONS.uniform!, 4);
    clock.ms = T0;
    assert.equal(stats.snapshot(900).totals.requests, 0);
    assert.deepEqual(stats.slowest(), []);
    const fresh = fill(stats, clock, 30, 5, DISTRIBUTIONS.uniform!, 5);
    // The clock went back, not the process: it has existed for the whole window (QPS over 900 s).
    assertCounts(stats, fresh, clock.second, 900, Math.floor((T0 + 5_000_000) / 1000));
  });
});

describe('LiveStats marks', () => {
  it('keeps a mark within the history and refuses one it would drop unseen or one ahead of the clock', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const oldestKept = (Math.floor(T0 / 60_000) - 25 * 60 + 1) * 60_000; // the default history: 25 h of minutes
    assert.equal(stats.addMark('now').at_ms, T0);
    assert.equal(stats.addMark('oldest kept', oldestKept).at_ms, oldestKept);
    assert.equal(stats.addMark('a clock a little ahead', T0 + 60_000).at_ms, T0 + 60_000);
    assert.throws(() => stats.addMark('too old', oldestKept - 1), /within the kept history/);
    assert.throws(() => stats.addMark('negative', -1), /within the kept history/);
    assert.throws(() => stats.addMark('year 5138', 99_999_999_999_999), /at most 60 s ahead of now/);
    assert.deepEqual(
      stats.marks().map((m) => m.name),
      ['oldest kept', 'now', 'a clock a little ahead'],
    );
  });
});

describe('LiveStats.slowest', () => {
  it('keeps the 20 slowest successes and the 10 most recent failures, slowest first, and drops those older than the retention', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now });
    const samples = fill(stats, clock, 600, 5, DISTRIBUTIONS['lognormal heavy tail']!, 21);
    const ranked = (now: number, successes?: number, failures?: number) =>
      expectedSlowest(
        samples.filter((s) => s.second > now - 900),
        successes,
        failures,
      );

    const top = stats.slowest();
    const expected = ranked(clock.second);
    assert.equal(top.length, 30);
    assert.deepEqual(
      top.map((r) => r.id),
      expected.map((s) => s.id),
    );
    assert.equal(top.filter((r) => r.result_type === 'ERROR').length, 10);
    for (const [i, r] of top.entries()) {
      const s = expected[i]!;
      assert.equal(r.latency_ms, s.latencyMs);
      assert.deepEqual(r.stages, s.stages);
      assert.equal(r.result_type, s.resultType);
      assert.equal(r.status_code, s.statusCode);
      assert.equal(r.error_code, s.errorCode, 'failed checks carry their code, answered ones none');
      assert.equal(r.batch_size, s.batchSize);
      assert.equal(r.ended_at, new Date(s.endedAtMs).toISOString());
      if (i > 0) assert.ok(top[i - 1]!.latency_ms >= r.latency_ms);
    }
    assert.deepEqual(
      stats.slowest(5).map((r) => r.id),
      ranked(clock.second, 5, 5).map((s) => s.id),
      'a limit bounds each part',
    );
    assert.equal(stats.slowest(500).length, 30, 'never more than slowestKept + failuresKept');

    // Let the first 450 s leave the retention: the next slowest of what remains move up.
    clock.ms += 750_000;
    const remaining = ranked(clock.second);
    assert.ok(remaining.length > 0 && remaining.length <= 30);
    assert.notDeepEqual(
      remaining.map((s) => s.id),
      expected.map((s) => s.id),
    );
    assert.deepEqual(
      stats.slowest().map((r) => r.id),
      remaining.map((s) => s.id),
    );
  });

  it('a flood of fast failures neither pushes out the slow successes nor hides behind them', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now, slowestKept: 3, failuresKept: 2 });
    const ok = (id: string, latencyMs: number) =>
      stats.record({ id, endedAtMs: clock.ms, latencyMs, statusCode: 200, resultType: 'YES', batchSize: 4 });
    ok('slow1', 900);
    ok('slow2', 800);
    clock.ms += 1000;
    stats.record({ id: 'timeout', endedAtMs: clock.ms, latencyMs: 30_000, statusCode: 504, resultType: 'ERROR', errorCode: 'TIMEOUT' });
    ok('slow3', 700);
    ok('fast', 5);
    // A client sends 2,000 empty captions over 20 s, each refused in under a millisecond.
    for (let i = 0; i < 2000; i++) {
      clock.ms += 10;
      stats.record({ id: `empty${i}`, endedAtMs: clock.ms, latencyMs: 0.5, statusCode: 400, resultType: 'ERROR', errorCode: 'EMPTY_TEXT' });
    }
    const list = stats.slowest();
    assert.deepEqual(
      list.map((r) => r.id),
      ['slow1', 'slow2', 'slow3', 'empty1999', 'empty1998'],
      'the slow successes stay; the most recent failures show (the older timeout has been pushed out by newer failures)',
    );
    assert.deepEqual(list[3], {
      id: 'empty1999',
      ended_at: new Date(clock.ms).toISOString(),
      latency_ms: 0.5,
      result_type: 'ERROR',
      status_code: 400,
      error_code: 'EMPTY_TEXT',
      batch_size: null,
      stages: {},
    });
    assert.equal(list[0]!.error_code, undefined);
    assert.equal(list[0]!.batch_size, 4);

    // Slow successes cannot hide a failure either: a new one shows at once.
    clock.ms += 10;
    stats.record({ id: 'crash', endedAtMs: clock.ms, latencyMs: 3, statusCode: 500, resultType: 'ERROR', errorCode: 'INTERNAL' });
    assert.deepEqual(
      stats.slowest().map((r) => [r.id, r.error_code]),
      [
        ['slow1', undefined],
        ['slow2', undefined],
        ['slow3', undefined],
        ['crash', 'INTERNAL'],
        ['empty1999', 'EMPTY_TEXT'],
      ],
    );
  });

  it('returns copies that callers cannot use to change what is kept', () => {
    const clock = new Clock();
    const stats = new LiveStats({ now: clock.now, slowestKept: 3 });
    const stages = { inference: 5 };
    stats.record({ id: 'a', endedAtMs: clock.ms, latencyMs: 9, statusCode: 200, resultType: 'YES', stages });
    stages.inference = 99;
    stats.slowest()[0]!.stages.inference = 77;
    assert.deepEqual(stats.slowest()[0]!.stages, { inference: 5 });
  });
});

describe('quantile sketch helpers', () => {
  it('mergedQuantiles over many sketches equals one DDSketch fed everything, including values near 1 ms', () => {
    const random = uniform01(77);
    const reference = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
    const parts: DurationSketch[] = [];
    for (let p = 0; p < 12; p++) {
      const part = new DurationSketch();
      // Some parts stay below 1 ms, some reach into (0.99, 1] ms (bin key 0), some go far above.
      const scale = [0.5, 0.995, 300][p % 3]!;
      for (let i = 0; i < 200; i++) {
        const v = p % 3 === 1 ? 0.991 + 0.009 * random() : scale * random();
        part.add(v);
        reference.accept(v);
      }
      if (p % 2) part.freeze();
      parts.push(part);
    }
    const qs = [0, 0.1, 0.5, 0.9, 0.99, 1];
    assert.deepEqual(
      mergedQuantiles(
        parts.map((p) => p.data),
        qs,
      ),
      qs.map((q) => reference.getValueAtQuantile(q)),
    );
    assert.ok(Math.abs(mergedMean(parts.map((p) => p.data))! - reference.sum / reference.count) < 1e-9);
  });

  it('a frozen sketch reads the same and thaws back without loss', () => {
    const random = uniform01(5);
    const sketch = new DurationSketch();
    const reference = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
    for (let i = 0; i < 500; i++) {
      const v = i % 50 === 0 ? 0 : Math.exp(4 * random());
      sketch.add(v);
      reference.accept(v);
    }
    const qs = [0, 0.5, 0.9, 0.99, 1];
    const live = mergedQuantiles([sketch.data], qs);
    sketch.freeze();
    // Frozen into the narrowest typed array its largest bin count fits: bytes here (500 values).
    assert.ok(sketch.data.store.bins instanceof Uint8Array);
    assert.deepEqual(mergedQuantiles([sketch.data], qs), live);
    sketch.add(1000);
    reference.accept(1000);
    assert.deepEqual(
      mergedQuantiles([sketch.data], qs),
      qs.map((q) => reference.getValueAtQuantile(q)),
    );
    assert.equal(sketch.data.count, 501);
  });

  it('a frozen sketch whose bins hold more than a byte or two keeps every count', () => {
    for (const [copies, kind] of [
      [300, Uint16Array],
      [70_000, Uint32Array],
    ] as const) {
      const sketch = new DurationSketch();
      const reference = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
      for (let i = 0; i < copies; i++) {
        sketch.add(12.5);
        reference.accept(12.5);
      }
      sketch.add(400);
      reference.accept(400);
      sketch.freeze();
      assert.ok(sketch.data.store.bins instanceof kind, `${copies} copies: ${sketch.data.store.bins.constructor.name}`);
      assert.equal(sketch.data.store.count, copies + 1);
      const qs = [0.5, 0.99, 1];
      assert.deepEqual(
        mergedQuantiles([sketch.data], qs),
        qs.map((q) => reference.getValueAtQuantile(q)),
      );
    }
  });
});
