/**
 * The headline figures with what each one means, in the words shown under it: which requests it
 * counts and over what time. DOM-free so the unit tests can read every caption the dashboard prints.
 */
import { SEED_ALERT_THRESHOLDS, type StatsDocument } from '../../preload/wire-types.ts';
import { NO_VALUE, formatBatchSize, formatCount, formatMs, formatPercent, formatQps, spanPhrase, windowPhrase } from './stats-format.ts';

export interface HeadlineFigure {
  testId: string;
  label: string;
  value: string;
  unit?: string;
  /** What the figure counts, over which window; printed under the value. */
  caption: string;
  tone?: 'warn' | 'bad';
}

/** The in-app error-rate alert's threshold, or the seed rule's (3 %) when the document lists no alerts. */
export function errorRateThreshold(stats: StatsDocument): number {
  return stats.alerts?.find((a) => a.name === 'OfaVeHighErrorRate')?.threshold ?? SEED_ALERT_THRESHOLDS.OfaVeHighErrorRate;
}

/** Over what the QPS is averaged: the window, or the part of it since the service started. */
function qpsSpan(stats: StatsDocument): string {
  const covered = stats.covered_s;
  if (covered === undefined || covered >= stats.window_s) return `over the last ${windowPhrase(stats.window_s)}`;
  return `over the ${spanPhrase(covered)} since the service started (of the last ${windowPhrase(stats.window_s)})`;
}

export function headlineFigures(stats: StatsDocument): HeadlineFigure[] {
  const over = `over the last ${windowPhrase(stats.window_s)}`;
  const anyRequests = stats.totals.requests > 0;
  const threshold = errorRateThreshold(stats);
  const serverTone = stats.error_rate >= threshold ? 'bad' : stats.error_rate > 0 ? 'warn' : undefined;
  const quantile = (name: string, ms: number | null): HeadlineFigure => ({
    testId: name.toLowerCase(),
    label: name,
    value: formatMs(ms),
    caption: `${name} of successful checks ${over}`,
  });
  return [
    {
      testId: 'qps',
      label: 'QPS',
      value: formatQps(stats.qps),
      unit: 'req/s',
      caption: `checks per second, answered or failed, ${qpsSpan(stats)}`,
    },
    quantile('P50', stats.p50_ms),
    quantile('P90', stats.p90_ms),
    quantile('P99', stats.p99_ms),
    {
      testId: 'mean-latency',
      label: 'Mean',
      value: formatMs(stats.mean_ms),
      caption: `mean latency of successful checks ${over}; the stage breakdown divides it`,
    },
    {
      testId: 'error-rate',
      label: 'Server errors (5xx)',
      value: anyRequests ? formatPercent(stats.error_rate, 2) : NO_VALUE,
      caption: `checks the service failed (5xx), of the checks that were not the client's mistake, ${over}; the error-rate alert counts these`,
      tone: anyRequests ? serverTone : undefined,
    },
    {
      testId: 'client-error-rate',
      label: 'Client errors (4xx)',
      value: anyRequests ? formatPercent(stats.client_error_rate, 2) : NO_VALUE,
      caption: `checks refused for what was sent (bad image, empty caption…) ${over}; never alerts`,
    },
    {
      testId: 'mean-batch',
      label: 'Mean batch',
      value: formatBatchSize(stats.mean_batch_size),
      unit: 'pairs',
      caption: `mean size of the batches the model ran ${over} (ofa_ve_batch_size sum / count)`,
    },
    {
      testId: 'queue-depth',
      label: 'Queue',
      value: formatCount(stats.queue_depth),
      caption: 'checks waiting for a batch slot now',
    },
  ];
}
