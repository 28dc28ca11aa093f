/**
 * The app's own live statistics (dashboard, `GET /api/v1/stats`, server-sent events), computed in
 * process rather than read back from Prometheus.
 *
 * Layout: per-second buckets kept for `retentionSeconds`, each with counts by result and status, an
 * error count, a DDSketch of successful latencies and one per stage (created on first use). Every
 * request is also added to 10 s and 60 s aggregate buckets, so a window query merges a cover of
 * whole minutes, whole 10 s periods and loose seconds at the ends (≤ 42 buckets for 15 minutes)
 * instead of 900 seconds. When a period ends its sketches are frozen into compact typed arrays and
 * (for seconds) its p50/p90/p99 are worked out once, which the per-second series then reads.
 *
 * Time: a request counts in the second it ended (`endedAtMs`), clamped to the current second when it
 * claims to have ended in the future, and dropped when it ended before the retention. The clock only
 * ever names "the current second": moving forward clears the slots of the seconds passed over; moving
 * backward drops every bucket that starts after the new current second and marks the aggregate that
 * straddles it as tainted (queries then read its seconds), so no request is counted twice or in a
 * second that has not happened yet.
 */
import { STAGES, type StageName } from '../inference/entailment-types.ts';
import { isDuration, mergedMean, mergedQuantiles, type SketchData } from './quantile-sketch.ts';
import { Bucket, BucketLevel, ERROR_INDEX, RESULT_TYPES, type NormalisedSample, type SlowEntry } from './second-buckets.ts';

export type ResultType = 'YES' | 'NO' | 'MAYBE' | 'ERROR';

export interface RequestSample {
  /** Request id. */
  id: string;
  /** Epoch ms when the response was sent. */
  endedAtMs: number;
  /** End to end. */
  latencyMs: number;
  /** HTTP-style status (200, 400, 413, 415, 401, 500, 503). */
  statusCode: number;
  resultType: ResultType;
  /** Milliseconds per stage. */
  stages?: Partial<Record<StageName, number>>;
  batchSize?: number;
}

// The per-second point, stage figures and slow-request entries are the wire shapes themselves.
export type { SeriesPoint, SlowRequest, StageStats } from '../../preload/wire-types.ts';
import type { SeriesPoint, SlowRequest, StageStats, StatsDocument } from '../../preload/wire-types.ts';

/** What LiveStats computes for a window: the stats document without the runtime's own fields. */
export type StatsSnapshot = Omit<StatsDocument, 'queue_depth' | 'queue_depth_series' | 'alerts' | 'process'>;

export interface LiveStatsOptions {
  /** How long seconds are kept, and the largest window (default 900). */
  retentionSeconds?: number;
  /** Epoch ms clock (default Date.now). */
  now?: () => number;
  /** How many slowest requests are kept (default 20). */
  slowestKept?: number;
}

export const DEFAULT_RETENTION_SECONDS = 900;
export const DEFAULT_SLOWEST_KEPT = 20;

/** Widths of the aggregate levels above the seconds; each divides the next. */
const AGGREGATE_WIDTHS = [10, 60];
const WINDOW_QUANTILES = [0.5, 0.9, 0.99];
const STAGE_QUANTILES = [0.5, 0.9];
const SUCCESS_RESULTS = 3; // RESULT_TYPES[0..2] are YES, NO, MAYBE

export class LiveStats {
  readonly retentionSeconds: number;
  readonly slowestKept: number;
  private readonly now: () => number;
  /** Seconds first, then the aggregates, narrowest first. */
  private readonly levels: BucketLevel[];
  /** The current second, as of the last clock reading. */
  private head: number;
  private headMs: number;
  /** Reused by `record` so the hot path allocates nothing per request. */
  private readonly sample: NormalisedSample = { resultIndex: 0, statusCode: 0, success: false, latencyMs: NaN, stages: undefined, batchSize: NaN };

  constructor(options: LiveStatsOptions = {}) {
    const retention = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    if (!Number.isInteger(retention) || retention < 1) throw new RangeError(`retentionSeconds must be a whole number ≥ 1, got ${retention}`);
    const kept = options.slowestKept ?? DEFAULT_SLOWEST_KEPT;
    if (!Number.isInteger(kept) || kept < 0) throw new RangeError(`slowestKept must be a whole number ≥ 0, got ${kept}`);
    this.retentionSeconds = retention;
    this.slowestKept = kept;
    this.now = options.now ?? Date.now;
    this.levels = [1, ...AGGREGATE_WIDTHS.filter((width) => width < retention)].map(
      (width) => new BucketLevel(width, Math.ceil(retention / width) + 1),
    );
    const ms = this.now();
    this.headMs = Number.isFinite(ms) ? ms : 0;
    this.head = Math.floor(this.headMs / 1000);
  }

  /** Hot path: O(1), allocates only when a bucket gets its first sketch or a request is among the slowest. */
  record(sample: RequestSample): void {
    const now = this.sync();
    let second = Math.floor(sample.endedAtMs / 1000);
    if (!(second <= now)) second = now; // in the future (or not a time): count it now
    if (second <= now - this.retentionSeconds) return; // already outside the retention

    const resultIndex = RESULT_TYPES.indexOf(sample.resultType);
    const success = sample.statusCode === 200 && resultIndex >= 0 && resultIndex < SUCCESS_RESULTS;
    const latencyMs = isDuration(sample.latencyMs) ? sample.latencyMs : NaN;
    const s = this.sample;
    s.success = success;
    s.resultIndex = success ? resultIndex : ERROR_INDEX;
    s.statusCode = sample.statusCode;
    s.latencyMs = latencyMs;
    s.stages = sample.stages;
    s.batchSize = isDuration(sample.batchSize) ? sample.batchSize : NaN;

    let slowCandidate = success && !Number.isNaN(latencyMs) && this.slowestKept > 0;
    let entry: SlowEntry | undefined;
    for (const level of this.levels) {
      const bucket = level.obtain(Math.floor(second / level.width));
      if (!bucket) continue;
      bucket.add(s);
      if (!slowCandidate) continue;
      if (!entry) {
        // The seconds level goes first: a request not among its second's slowest is not among any larger period's.
        if (!bucket.admitsSlow(latencyMs, this.slowestKept)) {
          slowCandidate = false;
          continue;
        }
        const endedAtMs = Number.isFinite(sample.endedAtMs) ? sample.endedAtMs : this.headMs;
        entry = slowEntry(sample, endedAtMs, latencyMs, RESULT_TYPES[resultIndex] as SlowEntry['resultType']);
      }
      bucket.offerSlow(entry, this.slowestKept);
    }
    s.stages = undefined;
  }

  /** Figures for the last `windowSeconds` seconds (1..retentionSeconds), the current partial second included. */
  snapshot(windowSeconds: number): StatsSnapshot {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > this.retentionSeconds) {
      throw new RangeError(`window must be a whole number of seconds from 1 to ${this.retentionSeconds}, got ${windowSeconds}`);
    }
    const now = this.sync();
    const from = now - windowSeconds + 1;
    const buckets = this.cover(from, now);

    const results = [0, 0, 0, 0];
    const byStatus = new Map<number, number>();
    let requests = 0;
    let errors = 0;
    let batchSum = 0;
    let batchCount = 0;
    const latency: SketchData[] = [];
    const stages = STAGES.map((): SketchData[] => []);
    for (const bucket of buckets) {
      requests += bucket.requests;
      errors += bucket.errors;
      for (let i = 0; i < results.length; i++) results[i]! += bucket.results[i]!;
      for (const [status, count] of bucket.byStatus) byStatus.set(status, (byStatus.get(status) ?? 0) + count);
      batchSum += bucket.batchSum;
      batchCount += bucket.batchCount;
      if (bucket.latency) latency.push(bucket.latency.data);
      for (let i = 0; i < stages.length; i++) {
        const sketch = bucket.stages[i];
        if (sketch) stages[i]!.push(sketch.data);
      }
    }

    const [p50, p90, p99] = mergedQuantiles(latency, WINDOW_QUANTILES);
    const stageStats = {} as Record<StageName, StageStats>;
    STAGES.forEach((stage, i) => {
      const sketches = stages[i]!;
      const [s50, s90] = mergedQuantiles(sketches, STAGE_QUANTILES);
      stageStats[stage] = { p50_ms: s50 ?? null, p90_ms: s90 ?? null, mean_ms: mergedMean(sketches) };
    });

    const by_status: Record<string, number> = {};
    for (const status of [...byStatus.keys()].sort((a, b) => a - b)) by_status[String(status)] = byStatus.get(status)!;

    return {
      window_s: windowSeconds,
      generated_at: new Date(this.headMs).toISOString(),
      qps: requests / windowSeconds,
      p50_ms: p50 ?? null,
      p90_ms: p90 ?? null,
      p99_ms: p99 ?? null,
      error_rate: requests > 0 ? errors / requests : 0,
      totals: { requests, YES: results[0]!, NO: results[1]!, MAYBE: results[2]!, ERROR: results[3]!, by_status },
      mean_batch_size: batchCount > 0 ? batchSum / batchCount : null,
      series: this.series(from, now),
      stages: stageStats,
    };
  }

  /**
   * Request and error counts and latency quantiles (ms, successful requests) over the last
   * `windowSeconds`: what the in-app alert rules need, without building a whole snapshot.
   */
  summary(windowSeconds: number, quantiles: readonly number[]): { requests: number; errors: number; latencyMs: (number | null)[] } {
    const window = Math.max(1, Math.min(Math.floor(windowSeconds), this.retentionSeconds));
    const now = this.sync();
    let requests = 0;
    let errors = 0;
    const latency: SketchData[] = [];
    for (const bucket of this.cover(now - window + 1, now)) {
      requests += bucket.requests;
      errors += bucket.errors;
      if (bucket.latency) latency.push(bucket.latency.data);
    }
    return { requests, errors, latencyMs: mergedQuantiles(latency, quantiles) };
  }

  /** The slowest successful requests still within the retention, slowest first (at most `slowestKept`). */
  slowest(limit: number = this.slowestKept): SlowRequest[] {
    const count = Number.isFinite(limit) ? Math.max(0, Math.min(Math.floor(limit), this.slowestKept)) : 0;
    const now = this.sync();
    const entries: SlowEntry[] = [];
    for (const bucket of this.cover(now - this.retentionSeconds + 1, now)) entries.push(...bucket.slow);
    entries.sort((a, b) => b.latencyMs - a.latencyMs || b.endedAtMs - a.endedAtMs);
    return entries.slice(0, count).map((entry) => ({
      id: entry.id,
      ended_at: new Date(entry.endedAtMs).toISOString(),
      latency_ms: entry.latencyMs,
      result_type: entry.resultType,
      status_code: entry.statusCode,
      batch_size: entry.batchSize,
      stages: { ...entry.stages },
    }));
  }

  /** Reads the clock, moves the rings to the current second and returns it. */
  private sync(): number {
    const ms = this.now();
    const second = Math.floor(ms / 1000);
    if (!Number.isFinite(second)) return this.head; // a broken clock reading: stay where we were
    this.headMs = ms;
    if (second > this.head) for (const level of this.levels) level.advance(this.head, second);
    else if (second < this.head) for (const level of this.levels) level.rewind(second);
    this.head = second;
    return second;
  }

  /**
   * Buckets that together hold exactly the requests of seconds [from, to]: the widest untainted
   * aggregates that fit, and narrower ones (down to seconds) at the edges.
   */
  private cover(from: number, to: number): Bucket[] {
    const out: Bucket[] = [];
    this.coverLevel(from, to, this.levels.length - 1, out);
    return out;
  }

  private coverLevel(from: number, to: number, levelIndex: number, out: Bucket[]): void {
    if (from > to) return;
    const level = this.levels[levelIndex]!;
    if (levelIndex === 0) {
      for (let second = from; second <= to; second++) {
        const bucket = level.get(second);
        if (bucket) out.push(bucket);
      }
      return;
    }
    const width = level.width;
    const first = Math.ceil(from / width);
    const last = Math.floor((to + 1) / width) - 1;
    if (first > last) {
      this.coverLevel(from, to, levelIndex - 1, out);
      return;
    }
    this.coverLevel(from, first * width - 1, levelIndex - 1, out);
    for (let period = first; period <= last; period++) {
      const bucket = level.get(period);
      if (bucket && !bucket.tainted) out.push(bucket);
      else if (bucket) this.coverLevel(period * width, period * width + width - 1, levelIndex - 1, out);
      // no bucket: nothing was recorded in that period
    }
    this.coverLevel((last + 1) * width, to, levelIndex - 1, out);
  }

  private series(from: number, to: number): SeriesPoint[] {
    const seconds = this.levels[0]!;
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t++) {
      const bucket = seconds.get(t);
      if (!bucket || bucket.requests === 0) {
        points.push({ t, requests: 0, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, p50_ms: null, p90_ms: null, p99_ms: null, error_rate: 0 });
        continue;
      }
      const [p50, p90, p99] = bucket.latencyQuantiles();
      const r = bucket.results;
      points.push({
        t,
        requests: bucket.requests,
        YES: r[0]!,
        NO: r[1]!,
        MAYBE: r[2]!,
        ERROR: r[3]!,
        p50_ms: p50 ?? null,
        p90_ms: p90 ?? null,
        p99_ms: p99 ?? null,
        error_rate: bucket.errors / bucket.requests,
      });
    }
    return points;
  }
}

function slowEntry(sample: RequestSample, endedAtMs: number, latencyMs: number, resultType: SlowEntry['resultType']): SlowEntry {
  const stages: Partial<Record<StageName, number>> = {};
  if (sample.stages) {
    for (const stage of STAGES) {
      const ms = sample.stages[stage];
      if (isDuration(ms)) stages[stage] = ms;
    }
  }
  return {
    id: String(sample.id),
    endedAtMs,
    latencyMs,
    resultType,
    statusCode: sample.statusCode,
    batchSize: isDuration(sample.batchSize) ? sample.batchSize : null,
    stages,
  };
}
