/**
 * Cost of the instrumentation per request: what CheckService records for every answer (the
 * prom-client counter and histograms with an exemplar, and the live stats), measured against the
 * same loop with the recording left out, in one run. Run:
 *   node --import tsx bench/instrumentation-bench.ts [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import { median as medianOf } from '../main/cli/bench/bench-stats.ts';
import { LiveStats } from '../main/telemetry/live-stats.ts';
import { ServiceMetrics } from '../main/telemetry/service-metrics.ts';
import { uniform01 } from '../models/tools/seeded-random.ts';

const PER_ROUND = 20_000;
const ROUNDS = 15;
const random = uniform01(11);
const samples = Array.from({ length: 4096 }, (_, i) => {
  const inference = 20 + random() * 60;
  const stages = { queue: random() * 5, decode_image: 10 + random() * 20, tokenize: 0.2 + random(), inference, postprocess: 0.02 };
  const failed = i % 50 === 0;
  return {
    id: `req-${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    statusCode: failed ? 400 : 200,
    resultType: failed ? ('ERROR' as const) : (['YES', 'NO', 'MAYBE'] as const)[i % 3]!,
    latencyMs: stages.queue + stages.decode_image + stages.tokenize + inference + stages.postprocess,
    stages: failed ? undefined : stages,
    batchSize: 1 + (i % 8),
  };
});

const metrics = new ServiceMetrics({ appVersion: 'bench' });
const stats = new LiveStats();
let sink = 0;

/** The per-request work of CheckService.record(), with or without the instrumentation. */
function round(instrumented: boolean): number {
  const start = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    const s = samples[i & 4095]!;
    if (instrumented) {
      metrics.recordRequest(s);
      stats.record({
        id: s.id,
        endedAtMs: Date.now(),
        latencyMs: s.latencyMs,
        statusCode: s.statusCode,
        resultType: s.resultType,
        stages: s.stages,
        batchSize: s.batchSize,
      });
    } else {
      // The same reads and the clock call, so the difference is the recording alone.
      sink += s.latencyMs + s.statusCode + Date.now() * 0;
    }
  }
  return ((performance.now() - start) * 1000) / PER_ROUND;
}

for (let i = 0; i < 3; i++) {
  round(true);
  round(false);
}
const withUs: number[] = [];
const withoutUs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  // Interleaved, so drift on a noisy machine hits both alike.
  withUs.push(round(true));
  withoutUs.push(round(false));
}
const median = (xs: number[]): number => medianOf(xs) ?? NaN;
const result = {
  date: new Date().toISOString(),
  command: 'node --import tsx bench/instrumentation-bench.ts',
  requests_per_round: PER_ROUND,
  rounds: ROUNDS,
  with_us_median: median(withUs),
  without_us_median: median(withoutUs),
  instrumentation_us_median: median(withUs) - median(withoutUs),
  target_us: 20,
};
metrics.close();
console.log(
  `instrumentation per request: ${result.instrumentation_us_median.toFixed(2)} µs (with ${result.with_us_median.toFixed(2)} µs, without ${result.without_us_median.toFixed(3)} µs; median of ${ROUNDS} rounds of ${PER_ROUND})`,
);
const json = process.argv.indexOf('--json');
if (json > 0 && process.argv[json + 1]) writeFileSync(process.argv[json + 1]!, `${JSON.stringify(result, null, 2)}\n`);
if (sink === -1) console.log(sink);
