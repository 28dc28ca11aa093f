/**
 * observe() cost per call on our side (prom-client through ServiceMetrics); observe_bench.py is the
 * same for prometheus_client. Each variant calls one function per iteration on pre-built arguments
 * (so argument building is not timed), `calls` times, timed with performance.now(); `warmup`
 * untimed repeats, then `repeats` timed ones; prints one JSON line with ns/call per repeat.
 * Run: node --import tsx bench/peer/observe-bench.ts [--calls 200000] [--repeats 7] [--warmup 2]
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { REQUEST_LATENCY_BUCKETS, STAGE_LATENCY_BUCKETS } from '../../main/telemetry/metric-buckets.ts';
import { ServiceMetrics } from '../../main/telemetry/service-metrics.ts';
import { observationValues } from './synthetic.ts';

export interface ObserveBenchResult {
  language: string;
  runtime: string;
  library: string;
  calls: number;
  repeats: number;
  warmup: number;
  /** ns per call, one entry per timed repeat, by variant. */
  samplesNs: Record<string, number[]>;
}

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '200000' },
    repeats: { type: 'string', default: '7' },
    warmup: { type: 'string', default: '2' },
  },
});
const calls = Number(args.calls);
const repeats = Number(args.repeats);
const warmup = Number(args.warmup);

const values = Array.from(observationValues(calls));
const ids = values.map((_, i) => `req-${i}`);
const stages = { queue: 12.5, decode_image: 6.25, tokenize: 0.7, inference: 150, postprocess: 0.05 };

const registry = new Registry<RegistryContentType>();
registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
const raw = new Histogram({ name: 'bench_raw_seconds', help: 'raw', buckets: REQUEST_LATENCY_BUCKETS, registers: [registry] });
const labelled = new Histogram({
  name: 'bench_labelled_seconds',
  help: 'labelled',
  labelNames: ['stage'],
  buckets: STAGE_LATENCY_BUCKETS,
  registers: [registry],
});
const service = new ServiceMetrics({ appVersion: '0.1.0', defaultMetrics: false });

let sink = 0;
const noop = (v: number) => {
  sink += v;
};

/** Arguments are built here, outside the timed loops. */
const exemplarArgs = values.map((value, i) => ({ value, labels: {}, exemplarLabels: { request_id: ids[i] as string } }));
const recordArgs = values.map((value, i) => ({
  id: ids[i] as string,
  statusCode: 200,
  resultType: 'YES' as const,
  latencyMs: value * 1000,
  stages,
}));

/** One explicit loop per variant (no shared, megamorphic call site); returns ns per call. */
const variants: Record<string, () => number> = {
  loop_overhead: () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) noop(values[i] as number);
    return performance.now() - start;
  },
  histogram_observe: () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) raw.observe(values[i] as number);
    return performance.now() - start;
  },
  labelled_histogram_observe: () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) labelled.labels('inference').observe(values[i] as number);
    return performance.now() - start;
  },
  histogram_observe_exemplar: () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) service.latency.observe(exemplarArgs[i]!);
    return performance.now() - start;
  },
  record_request: () => {
    const start = performance.now();
    for (let i = 0; i < calls; i++) service.recordRequest(recordArgs[i]!);
    return performance.now() - start;
  },
};

const samplesNs: Record<string, number[]> = {};
for (const [name, run] of Object.entries(variants)) {
  for (let r = 0; r < warmup; r++) run();
  samplesNs[name] = Array.from({ length: repeats }, () => (run() * 1e6) / calls);
}
service.close();
if (sink < 0) console.error(sink); // keeps noop's work observable

const promClientPackage = createRequire(import.meta.url)('prom-client/package.json') as { version: string };
const result: ObserveBenchResult = {
  language: 'node',
  runtime: process.version,
  library: `prom-client ${promClientPackage.version}`,
  calls,
  repeats,
  warmup,
  samplesNs,
};
console.log(JSON.stringify(result));
