/**
 * Cost of the live statistics at 1000 requests/s: record() per call, and snapshot() for 60/300/900 s
 * windows with 15 minutes of data. Run: node --import tsx bench/live-stats-bench.ts
 * (add --expose-gc for a cleaner heap figure).
 */
import { STAGE_NAMES } from '../preload/wire-types.ts';
import { LiveStats, type RequestSample } from '../main/telemetry/live-stats.ts';
import { acceptDuration, createSketch, mergedQuantiles } from '../main/telemetry/quantile-sketch.ts';
import { seededDraws, syntheticSample } from './synthetic-checks.ts';

const RATE = 1000;
const RETENTION = 900;
const T0 = 1_700_000_000_000;

const draws = seededDraws(42);
const STATUSES = [400, 413, 415, 401, 500, 503];

/** Pre-built samples, reused round-robin so the timing loop measures record() and not the generator. */
const POOL: RequestSample[] = Array.from({ length: 20_000 }, (_, i) =>
  syntheticSample(i, draws, { idPrefix: 'req-', failedStatus: (k) => STATUSES[k % STATUSES.length]! }),
);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

let nowMs = T0;
const stats = new LiveStats({ now: () => nowMs, retentionSeconds: RETENTION });
let poolIndex = 0;

/** Records one second's worth of requests, spread over the second; returns the elapsed ms. */
function fillSecond(): number {
  const start = performance.now();
  for (let i = 0; i < RATE; i++) {
    const sample = POOL[poolIndex++ % POOL.length]!;
    nowMs += 1000 / RATE;
    sample.endedAtMs = nowMs;
    stats.record(sample);
  }
  return performance.now() - start;
}

const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const memory = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
const heapBefore = memory();

// 15 minutes at 1000 requests/s.
const perCallUs: number[] = [];
for (let s = 0; s < RETENTION; s++) perCallUs.push((fillSecond() * 1000) / RATE);
gc?.();
const heapAfter = memory();

// Single calls, timer overhead included.
const single: number[] = [];
for (let i = 0; i < 20_000; i++) {
  const sample = POOL[poolIndex++ % POOL.length]!;
  nowMs += 1000 / RATE;
  sample.endedAtMs = nowMs;
  const t = process.hrtime.bigint();
  stats.record(sample);
  single.push(Number(process.hrtime.bigint() - t) / 1000);
}

const coldStart = performance.now();
stats.snapshot(RETENTION);
const cold900 = performance.now() - coldStart;

// Steady state: a second of traffic, then the queries a dashboard makes each second.
const timings: Record<string, number[]> = { snapshot60: [], snapshot300: [], snapshot900: [], snapshot900sameSecond: [], slowest20: [] };
const time = (key: string, fn: () => unknown) => {
  const start = performance.now();
  fn();
  timings[key]!.push(performance.now() - start);
};
for (let round = 0; round < 60; round++) {
  fillSecond();
  time('snapshot900', () => stats.snapshot(900));
  time('snapshot900sameSecond', () => stats.snapshot(900));
  time('snapshot300', () => stats.snapshot(300));
  time('snapshot60', () => stats.snapshot(60));
  time('slowest20', () => stats.slowest(20));
}

// What merging 900 per-second sketches (no aggregates) would cost, for one of the six sketch kinds.
const seconds = Array.from({ length: RETENTION }, (_, s) => {
  const sketch = createSketch();
  for (let i = 0; i < RATE; i++) acceptDuration(sketch, POOL[(s * RATE + i) % POOL.length]!.latencyMs);
  return sketch;
});
const flat: number[] = [];
for (let i = 0; i < 20; i++) {
  const start = performance.now();
  mergedQuantiles(seconds, [0.5, 0.9, 0.99]);
  flat.push(performance.now() - start);
}

const snap = stats.snapshot(900);
const fmt = (x: number, digits = 3) => x.toFixed(digits);
console.log(`live stats at ${RATE} req/s, ${RETENTION} s retained, stages: ${STAGE_NAMES.join(', ')}`);
console.log(`record(): median ${fmt(median(perCallUs))} µs/call (per-second batches), p99 batch ${fmt(pct(perCallUs, 0.99))} µs/call`);
console.log(
  `record(): single calls median ${fmt(median(single))} µs, p99 ${fmt(pct(single, 0.99))} µs, max ${fmt(Math.max(...single))} µs (timer included)`,
);
console.log(`snapshot(900) first call (includes JIT compilation): ${fmt(cold900)} ms`);
for (const [key, xs] of Object.entries(timings))
  console.log(`${key}: median ${fmt(median(xs))} ms, p90 ${fmt(pct(xs, 0.9))} ms, max ${fmt(Math.max(...xs))} ms`);
console.log(`one kind of sketch merged from 900 seconds, no aggregates: median ${fmt(median(flat))} ms (x6 kinds per window)`);
console.log(
  `memory (heap + array buffers) for 15 min of data: ${fmt((heapAfter - heapBefore) / 1048576, 1)} MiB${gc ? '' : ' (approximate; run with --expose-gc)'}`,
);
console.log(
  `check: qps ${fmt(snap.qps, 1)}, p50 ${fmt(snap.p50_ms ?? NaN, 2)} ms, p99 ${fmt(snap.p99_ms ?? NaN, 2)} ms, error_rate ${fmt(snap.error_rate, 4)}`,
);

// Machine-readable figures for bench/bench-report.ts (BENCHMARKS.md).
const jsonOut = process.argv.indexOf('--json');
if (jsonOut > 0 && process.argv[jsonOut + 1]) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    process.argv[jsonOut + 1]!,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'node --expose-gc --import tsx bench/live-stats-bench.ts',
        rate_per_s: RATE,
        retention_s: RETENTION,
        record_us_median: median(perCallUs),
        snapshot60_ms_median: median(timings.snapshot60!),
        snapshot300_ms_median: median(timings.snapshot300!),
        snapshot900_ms_median: median(timings.snapshot900!),
        slowest20_ms_median: median(timings.slowest20!),
        flat_merge_one_kind_ms_median: median(flat),
        memory_mib: (heapAfter - heapBefore) / 1048576,
      },
      null,
      2,
    )}\n`,
  );
}
