/**
 * Pure formatting and chart-shaping helpers for the dashboard and the status bar.
 * DOM-free on purpose so node:test can check every figure the UI prints (test/unit/stats-format.test.ts).
 */
import {
  RESULT_TYPES,
  type AlertStatus,
  type ResultType,
  type SeriesPoint,
  type StageName,
  type StatsDocument,
} from '../../preload/wire-types.ts';
import { alertQuantityText, percentText } from '../../preload/quantity-format.ts';

/** What the UI prints for a figure that has no value (no traffic in the window). */
export const NO_VALUE = '—';

/** Short stage names for tight places (table cells, legends). */
export const STAGE_SHORT_LABELS: Record<StageName, string> = {
  queue: 'queue',
  decode_image: 'decode',
  tokenize: 'tokenize',
  inference: 'inference',
  postprocess: 'post',
};

function isFiniteNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Milliseconds with precision that fits the magnitude: "0.42 ms", "3.42 ms", "42.5 ms", "425 ms", "1.23 s"; tiny non-zero times read "<0.01 ms". */
export function formatMs(ms: number | null | undefined): string {
  if (!isFiniteNumber(ms)) return NO_VALUE;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms > 0 && ms < 0.01) return '<0.01 ms';
  return `${ms.toFixed(2)} ms`;
}

/** Axis tick labels for milliseconds: round ticks, so no decimals; seconds from 1000 ms. */
export function formatAxisMs(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(2))} s` : `${Number(ms.toFixed(1))} ms`;
}

/** The minus sign every signed figure of the dashboard prints (not the hyphen). */
export const MINUS = '\u2212';

/**
 * A ratio (0..1) as a percentage: "12.5%"; tiny positive rates stay visible as "<0.1%". A negative
 * one (a share of a change that went the other way) reads "−3%", and one that rounds to zero "0%",
 * never "-0%".
 */
export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (!isFiniteNumber(ratio)) return NO_VALUE;
  if (ratio >= 0) return percentText(ratio, digits);
  const magnitude = (-ratio * 100).toFixed(digits);
  return Number(magnitude) === 0 ? `${(0).toFixed(digits)}%` : `${MINUS}${magnitude}%`;
}

/** Requests per second: more decimals when small, so 0.05 QPS does not read as 0. */
export function formatQps(qps: number | null | undefined): string {
  if (!isFiniteNumber(qps)) return NO_VALUE;
  if (qps >= 100) return qps.toFixed(0);
  if (qps >= 10) return qps.toFixed(1);
  return qps.toFixed(2);
}

/** Bytes as MiB, the unit the status bar uses for RSS and heap. */
export function formatMiB(bytes: number | null | undefined): string {
  if (!isFiniteNumber(bytes) || bytes < 0) return NO_VALUE;
  const mib = bytes / (1024 * 1024);
  return `${mib < 10 ? mib.toFixed(1) : mib.toFixed(0)} MiB`;
}

/** Whole numbers with thousands separators (fixed locale so tests and screenshots agree). */
export function formatCount(n: number | null | undefined): string {
  if (!isFiniteNumber(n)) return NO_VALUE;
  return Math.round(n).toLocaleString('en-US');
}

export function formatBatchSize(mean: number | null | undefined): string {
  if (!isFiniteNumber(mean)) return NO_VALUE;
  return mean.toFixed(2);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Seconds as "45s", "2m 03s", "1h 02m 03s", "3d 04h 05m 06s". */
export function formatUptime(seconds: number | null | undefined): string {
  if (!isFiniteNumber(seconds) || seconds < 0) return NO_VALUE;
  const total = Math.floor(seconds);
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}d ${pad2(h)}h ${pad2(m)}m ${pad2(s)}s`;
  if (h > 0) return `${h}h ${pad2(m)}m ${pad2(s)}s`;
  if (m > 0) return `${m}m ${pad2(s)}s`;
  return `${s}s`;
}

/** Epoch seconds (or an ISO string) as local wall-clock time HH:MM:SS, the charts' x axis. */
export function formatClock(time: number | string | null | undefined): string {
  if (time === null || time === undefined) return NO_VALUE;
  const date = typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  if (Number.isNaN(date.getTime())) return NO_VALUE;
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** Request ids are UUID-like; the first 8 characters are enough to tell rows apart. */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}

/** One second of the live charts: series point + the queue depth sampled in the same second. */
export interface ChartRow extends Omit<SeriesPoint, 'error_rate' | 'client_error_rate'> {
  /** Server errors (5xx) in percent of the second's requests; null in seconds without requests. */
  error_pct: number | null;
  /** Client errors (4xx) in percent of the second's requests; null in seconds without requests. */
  client_error_pct: number | null;
  /** null where the queue series does not cover this second. */
  queue_depth: number | null;
}

/**
 * Flattens a stats document into one row per second for recharts. The queue depth series is
 * aligned from the newest end, so a server that sends a shorter (or no) queue series still lines up.
 */
export function toChartRows(stats: StatsDocument): ChartRow[] {
  const series = stats.series ?? [];
  const queue = stats.queue_depth_series ?? [];
  const offset = queue.length - series.length;
  return series.map((point, i) => {
    const q = queue[i + offset];
    return {
      t: point.t,
      requests: point.requests,
      YES: point.YES,
      NO: point.NO,
      MAYBE: point.MAYBE,
      ERROR: point.ERROR,
      client_errors: point.client_errors ?? 0,
      server_errors: point.server_errors ?? 0,
      p50_ms: point.p50_ms,
      p90_ms: point.p90_ms,
      p99_ms: point.p99_ms,
      // Shares of all the second's checks (not the alert's ratio, whose denominator leaves 4xx out),
      // so the two layers stack to the failed share of the second.
      error_pct: point.requests > 0 ? ((point.server_errors ?? 0) / point.requests) * 100 : null,
      client_error_pct: point.requests > 0 ? ((point.client_errors ?? 0) / point.requests) * 100 : null,
      queue_depth: typeof q === 'number' ? q : null,
    };
  });
}

/** Tick spacings (s) the time axis picks from: round wall-clock steps, never odd ones like 13 s. */
const TICK_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600];

/**
 * X-axis ticks for epoch seconds first..last: multiples of the smallest round step that gives at most
 * `maxTicks` ticks, so labels land on :00/:10/:30 and do not jitter as the window slides each second.
 */
export function timeTicks(first: number, last: number, maxTicks = 6): number[] {
  if (!Number.isFinite(first) || !Number.isFinite(last) || last < first || maxTicks < 1) return [];
  const span = last - first;
  const step = TICK_STEPS_S.find((s) => Math.floor(span / s) + 1 <= maxTicks) ?? TICK_STEPS_S[TICK_STEPS_S.length - 1]!;
  const ticks: number[] = [];
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push(t);
  return ticks;
}

/** Upper bounds (%) of the error-rate axis with their tick step, smallest first. */
const PERCENT_SCALES: readonly [max: number, step: number][] = [
  [1, 0.25],
  [2, 0.5],
  [5, 1],
  [10, 2],
  [20, 5],
  [25, 5],
  [50, 10],
  [100, 20],
];

/**
 * The error-rate axis for a highest value in percent: the smallest round scale that holds it (at
 * least 0–1 %, so a quiet service does not blow noise up to full height) and evenly spaced ticks.
 */
export function percentAxis(maxPct: number): { max: number; ticks: number[] } {
  const top = Number.isFinite(maxPct) ? maxPct : 0;
  const [max, step] = PERCENT_SCALES.find(([m]) => top <= m) ?? PERCENT_SCALES[PERCENT_SCALES.length - 1]!;
  const ticks: number[] = [];
  for (let i = 0; i * step <= max + 1e-9; i++) ticks.push(Number((i * step).toFixed(2)));
  return { max, ticks };
}

/** The part of a latency no stage timed (HTTP parsing, scheduling, serialising the answer). */
export const UNTIMED = 'untimed';
export type LatencyPart = StageName | typeof UNTIMED;

export interface LatencySegment {
  part: LatencyPart;
  ms: number;
  /** Share of the whole (0..1); the segments' fractions add up to 1 when the whole is above 0. */
  fraction: number;
}

/**
 * How a latency divides: one segment per timed stage, then the untimed remainder (total − stage
 * sum) as its own segment, so the segments add up to the total. When rounding makes the stages add
 * up to more than the total, the stage sum is the whole and the remainder is 0: the bar never overflows.
 */
export function latencyDivision(
  stages: Partial<Record<StageName, number | null>>,
  totalMs: number | null | undefined,
  stageNames: readonly StageName[],
): LatencySegment[] {
  const timed = stageNames.flatMap((stage) => {
    const ms = stages[stage];
    return isFiniteNumber(ms) && ms >= 0 ? [{ part: stage as LatencyPart, ms }] : [];
  });
  const sum = timed.reduce((acc, s) => acc + s.ms, 0);
  const total = isFiniteNumber(totalMs) && totalMs > 0 ? totalMs : 0;
  const whole = Math.max(sum, total);
  const parts = total > 0 ? [...timed, { part: UNTIMED as LatencyPart, ms: whole - sum }] : timed;
  return parts.map((s) => ({ ...s, fraction: whole > 0 ? s.ms / whole : 0 }));
}

/** The stage breakdown chart's one bar: the stage means and the untimed rest, in ms, adding up to the mean. */
export type StageBarRow = { bar: string } & Record<LatencyPart, number>;

/**
 * The dashboard's stage breakdown: how the mean end-to-end latency of successful checks divides into
 * the stages' means plus the untimed remainder. Means add up where quantiles do not (a sum of
 * per-stage P90s is not the P90). Undefined without a mean (no successful check in the window).
 */
export function toStageBar(stats: Pick<StatsDocument, 'stages' | 'mean_ms'>, stageNames: readonly StageName[]): StageBarRow | undefined {
  if (!isFiniteNumber(stats.mean_ms)) return undefined;
  const means: Partial<Record<StageName, number | null>> = {};
  for (const stage of stageNames) means[stage] = stats.stages?.[stage]?.mean_ms ?? null;
  const row = { bar: 'mean' } as StageBarRow;
  for (const stage of stageNames) row[stage] = 0;
  row[UNTIMED] = 0;
  for (const segment of latencyDivision(means, stats.mean_ms, stageNames)) row[segment.part] = segment.ms;
  return row;
}

/** Latency alerts are evaluated in seconds, the error-rate alert as a ratio (shown in %). */
export function formatAlertQuantity(name: AlertStatus['name'], value: number | null | undefined): string {
  return isFiniteNumber(value) ? alertQuantityText(name, value) : NO_VALUE;
}

/** "13:04:05 (2m 03s ago)", measured against the stats document's own clock; "—" when inactive. */
export function formatActiveSince(activeSince: string | null | undefined, nowIso: string): string {
  if (!activeSince) return NO_VALUE;
  const since = Date.parse(activeSince);
  const now = Date.parse(nowIso);
  if (Number.isNaN(since)) return NO_VALUE;
  const clock = formatClock(activeSince);
  if (Number.isNaN(now)) return clock;
  return `${clock} (${formatUptime(Math.max(0, (now - since) / 1000))} ago)`;
}

/** Firing first, then pending, then inactive; critical before warning within a state. */
export function sortAlerts(alerts: readonly AlertStatus[]): AlertStatus[] {
  const stateRank = { firing: 0, pending: 1, inactive: 2 } as const;
  const severityRank = { critical: 0, warning: 1 } as const;
  return [...alerts].sort((a, b) => stateRank[a.state] - stateRank[b.state] || severityRank[a.severity] - severityRank[b.severity]);
}

/** The window selector's choices (seconds → label). */
export const WINDOW_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 60, label: '1 min' },
  { seconds: 300, label: '5 min' },
  { seconds: 900, label: '15 min' },
];

/** A window in the words the captions use: "60 s", "5 min", "15 min". */
export function windowPhrase(windowS: number): string {
  if (!isFiniteNumber(windowS) || windowS <= 0) return NO_VALUE;
  return windowS >= 120 && windowS % 60 === 0 ? `${windowS / 60} min` : `${windowS} s`;
}

/**
 * A span the service actually read, which need not be a round window (slices read whole 10 s
 * periods: 65 s for a 60 s window): "65 s", "5 min", "15 min 5 s".
 */
export function spanPhrase(seconds: number): string {
  if (!isFiniteNumber(seconds) || seconds <= 0) return NO_VALUE;
  const whole = Math.round(seconds);
  if (whole < 120) return `${whole} s`;
  const rest = whole % 60;
  return rest === 0 ? `${whole / 60} min` : `${Math.floor(whole / 60)} min ${rest} s`;
}

/** Totals by result with each share of all requests, for the headline figures. */
export function resultShares(totals: StatsDocument['totals']): { type: ResultType; count: number; share: number | null }[] {
  return RESULT_TYPES.map((type) => ({
    type,
    count: totals[type],
    share: totals.requests > 0 ? totals[type] / totals.requests : null,
  }));
}
