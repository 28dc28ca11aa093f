/** The figures of one `ofa-ve bench` step (QPS, latency quantiles, mean batch, stage medians) and their table. */
import { STAGE_NAMES } from '../../../preload/wire-types.ts';
import { median, quantile } from './bench-stats.ts';
import type { StepOutcome } from './load-generator.ts';

export interface StepFigures {
  concurrency: number;
  max_batch_size: number;
  requests: number;
  errors: number;
  error_codes: Record<string, number>;
  elapsed_s: number;
  qps: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  mean_batch_size: number | null;
  /** Median milliseconds per stage over the successful requests. */
  stages_p50_ms: Record<string, number | null>;
}

/** Sum and count of a histogram in a Prometheus text exposition (for mean batch size per step). */
export function histogramSumCount(exposition: string, name: string): { sum: number; count: number } {
  const sum = Number(new RegExp(`^${name}_sum (\\S+)`, 'm').exec(exposition)?.[1] ?? NaN);
  const count = Number(new RegExp(`^${name}_count (\\S+)`, 'm').exec(exposition)?.[1] ?? NaN);
  return { sum, count };
}

export function stepFigures(
  concurrency: number,
  maxBatchSize: number,
  outcome: StepOutcome,
  batches: { before: { sum: number; count: number }; after: { sum: number; count: number } } | undefined,
): StepFigures {
  const ok = outcome.samples.filter((s) => s.ok);
  const latencies = ok.map((s) => s.latencyMs).sort((a, b) => a - b);
  const errorCodes: Record<string, number> = {};
  for (const s of outcome.samples) if (!s.ok) errorCodes[s.code ?? 'UNKNOWN'] = (errorCodes[s.code ?? 'UNKNOWN'] ?? 0) + 1;
  const stages: Record<string, number | null> = {};
  for (const stage of STAGE_NAMES) stages[stage] = median(ok.flatMap((s) => (s.stages?.[stage] === undefined ? [] : [s.stages[stage]!])));
  const batchCount = batches ? batches.after.count - batches.before.count : NaN;
  return {
    concurrency,
    max_batch_size: maxBatchSize,
    requests: outcome.samples.length,
    errors: outcome.samples.length - ok.length,
    error_codes: errorCodes,
    elapsed_s: outcome.elapsedS,
    qps: ok.length / outcome.elapsedS,
    p50_ms: quantile(latencies, 0.5),
    p90_ms: quantile(latencies, 0.9),
    p95_ms: quantile(latencies, 0.95),
    p99_ms: quantile(latencies, 0.99),
    mean_batch_size: batches && batchCount > 0 ? (batches.after.sum - batches.before.sum) / batchCount : null,
    stages_p50_ms: stages,
  };
}

/** Milliseconds as the bench tables show them: two decimals below 10, one above, a dash for none. */
export const formatMs = (v: number | null): string => (v === null ? '—' : v < 10 ? v.toFixed(2) : v.toFixed(1));

/** The per-step table, as markdown (readable in a terminal too). */
export function stepTable(steps: readonly StepFigures[]): string {
  const head = [
    'conc',
    'max batch',
    'QPS',
    'P50 ms',
    'P90 ms',
    'P95 ms',
    'P99 ms',
    'errors',
    'mean batch',
    ...STAGE_NAMES.map((s) => `${s} p50`),
  ];
  const rows = steps.map((s) => [
    String(s.concurrency),
    String(s.max_batch_size),
    s.qps.toFixed(2),
    formatMs(s.p50_ms),
    formatMs(s.p90_ms),
    formatMs(s.p95_ms),
    formatMs(s.p99_ms),
    String(s.errors),
    s.mean_batch_size === null ? '—' : s.mean_batch_size.toFixed(2),
    ...STAGE_NAMES.map((stage) => formatMs(s.stages_p50_ms[stage] ?? null)),
  ]);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
