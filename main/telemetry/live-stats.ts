/**
 * The app's own live statistics (dashboard, `GET /api/v1/stats`, server-sent events), computed in
 * process rather than read back from Prometheus.
 *
 * Layout: per-second buckets kept for `retentionSeconds`, each with counts by result and status,
 * client (4xx) and server (5xx) error counts, the model runs (batches) that ended in it, a DDSketch
 * of successful latencies and one per stage (created on first use). Every request and batch is also
 * added to 10 s and 60 s aggregate buckets, so a window query merges a cover of whole minutes, whole
 * 10 s periods and loose seconds at the ends (≤ 42 buckets for 15 minutes) instead of 900 seconds.
 * When a period ends its sketches are frozen into compact typed arrays and (for seconds) its
 * p50/p90/p99 are worked out once, which the per-second series then reads.
 *
 * The slowest-requests list is two bounded parts, kept apart so neither crowds out the other: the
 * `slowestKept` slowest successful checks, and the `failuresKept` most recent failed ones (by when
 * they ended). A flood of fast 400s cannot push out the slow successes, and slow successes cannot
 * hide the failures, which are often fast. Failures are kept by recency rather than latency because
 * the latest ones say what is wrong now (a latency ranking would keep only the timeouts).
 * `slowest()` merges the two, slowest first.
 *
 * Input slices: a request also counts, in the 10 s and 60 s buckets only, in one slice of each input
 * attribute (`input-slices.ts`: caption script, caption tokens, image size, image format, premise),
 * with its own counts and latency and stage sketches. Seconds are not sliced: 5 attributes' cells
 * per second would cost ~10x the memory of everything else, and a slice's figures over a few
 * seconds say little. So slice windows are read in whole 10 s periods (`snapshotSlices`).
 *
 * History: when a minute ends, its 60 s bucket (all checks, stages, slices) is encoded into the
 * per-minute history (`minute-history.ts`), kept for 25 h and, given `historyDir`, saved there every
 * few minutes and at `close()`. `compare` reads a range from the seconds (or 10 s periods, when
 * comparing slices) while it lies within the live retention, from the minutes beyond.
 *
 * Traces: every recorded request (a failed one too) is also kept in the trace ring (`traces`,
 * request-traces.ts: the last `tracesKept`, default 2000), from which `GET /api/v1/requests/{id}/trace`
 * builds its documents on request.
 *
 * Time: a request (or batch) counts in the second it ended (`endedAtMs`), clamped to the current
 * second when it claims to have ended in the future, and dropped when it ended before the
 * retention. The clock only ever names "the current second": moving forward clears the slots of the
 * seconds passed over; moving backward drops every bucket that starts after the new current second
 * and marks the aggregate that straddles it as tainted (queries then read its seconds), so no
 * request is counted twice or in a second that has not happened yet.
 */
import type { Logger } from '../logging/json-logger.ts';
import { HistoryFiles } from './history-files.ts';
import { ATTRIBUTE_COUNT, attributeIndex, sliceIndices, sliceValues, type InputAttributes, type SliceAttribute } from './input-slices.ts';
import { DEFAULT_HISTORY_MINUTES, MARK_KINDS, MAX_MARK_NAME_LENGTH, MinuteHistory, type Mark, type MarkKind } from './minute-history.ts';
import { comparePeriods, type RangeSpan } from './period-compare.ts';
import { PeriodTotals } from './period-totals.ts';
import { isDuration, mergedMean, mergedQuantiles, type SketchData } from './quantile-sketch.ts';
import { DEFAULT_TRACES_KEPT, RequestTraces } from './request-traces.ts';
import { Bucket, BucketLevel, ERROR_INDEX, type NormalisedSample, type Outcome, type SlowEntry } from './second-buckets.ts';

export type { InputAttributes, SliceAttribute } from './input-slices.ts';
export type { Mark, MarkKind } from './minute-history.ts';
import {
  RESULT_TYPES,
  STAGE_NAMES,
  type PeriodComparison,
  type ResultType,
  type SeriesPoint,
  type SlicesSnapshot,
  type SliceStats,
  type SlowRequest,
  type StageName,
  type StageStats,
  type StatsDocument,
} from '../../preload/wire-types.ts';

/** The point of a second in which nothing was recorded: zero counts, no latency quantiles. */
export function emptySeriesPoint(t: number): SeriesPoint {
  return {
    t,
    requests: 0,
    YES: 0,
    NO: 0,
    MAYBE: 0,
    ERROR: 0,
    client_errors: 0,
    server_errors: 0,
    p50_ms: null,
    p90_ms: null,
    p99_ms: null,
    error_rate: 0,
    client_error_rate: 0,
  };
}

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
  /** Pairs in the model run that answered this request (shown in its slow-request entry). */
  batchSize?: number;
  /** That model run's id, the same on each of its requests (its traces then name the batch). */
  batchId?: string;
  /** The error code of a failed check (INVALID_IMAGE, TIMEOUT, ...), shown in the slow-request list. */
  errorCode?: string;
  /** What is known of the check's input; missing (or missing fields): the `unknown` slice. */
  attributes?: InputAttributes;
}

/** A span of time to compare: epoch ms, `fromMs` inclusive, `toMs` exclusive. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** What LiveStats computes for a window: the stats document without the runtime's own fields. */
export type StatsSnapshot = Omit<StatsDocument, 'queue_depth' | 'queue_depth_series' | 'alerts' | 'process'>;

export interface LiveStatsOptions {
  /** How long seconds are kept, and the largest window (default 900). */
  retentionSeconds?: number;
  /** Epoch ms clock (default Date.now). */
  now?: () => number;
  /** How many slowest successful requests are kept (default 20). */
  slowestKept?: number;
  /** How many most recent failed requests are kept (default 10). */
  failuresKept?: number;
  /**
   * Folder for the per-minute history (one file per hour and marks.json): read at construction,
   * written every `historySaveIntervalMs` and at `close()`. Without one the history is kept in memory only.
   */
  historyDir?: string;
  /** How long minutes and marks are kept (default 1500 = 25 h). */
  historyMinutes?: number;
  /** How often the history is saved (default 5 minutes; what a crash can lose). */
  historySaveIntervalMs?: number;
  /** For the history's warnings (a file set aside, a failed write). */
  logger?: Logger;
  /** How many recent requests keep a trace (default 2000; 0: none). */
  tracesKept?: number;
}

export const DEFAULT_RETENTION_SECONDS = 900;

/** How far ahead of this clock a mark may be set: the clock of the machine that sets it may run fast. */
const MARK_AHEAD_MS = 60_000;
export const DEFAULT_SLOWEST_KEPT = 20;
export const DEFAULT_FAILURES_KEPT = 10;
export const DEFAULT_HISTORY_SAVE_INTERVAL_MS = 5 * 60_000;

/** Widths of the aggregate levels above the seconds; each divides the next. Both keep input slices. */
const AGGREGATE_WIDTHS = [10, 60];
/** Levels (index into `levels`): the finest that keeps slices, and the minutes that feed the history. */
const SLICED_LEVEL = 1;
const MINUTE_LEVEL = 2;
const WINDOW_QUANTILES = [0.5, 0.9, 0.99];
const STAGE_QUANTILES = [0.5, 0.9];
const SUCCESS_RESULTS = 3; // RESULT_TYPES[0..2] are YES, NO, MAYBE

export class LiveStats {
  readonly retentionSeconds: number;
  readonly slowestKept: number;
  readonly failuresKept: number;
  /** The last `tracesKept` requests, for their traces. */
  readonly traces: RequestTraces;
  private readonly now: () => number;
  /** Seconds first, then the aggregates, narrowest first. */
  private readonly levels: BucketLevel[];
  /** The current second, as of the last clock reading. */
  private head: number;
  private headMs: number;
  /** Reused by `record` so the hot path allocates nothing per request. */
  private readonly sample: NormalisedSample = {
    resultIndex: 0,
    statusCode: 0,
    outcome: 'success',
    latencyMs: NaN,
    stages: undefined,
    slices: new Uint8Array(ATTRIBUTE_COUNT),
  };
  private readonly history: MinuteHistory;
  /** The second this instance started in: the live levels hold nothing earlier. */
  private readonly firstSecond: number;
  private readonly saveTimer: NodeJS.Timeout | undefined;

  constructor(options: LiveStatsOptions = {}) {
    const retention = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    if (!Number.isInteger(retention) || retention < 1)
      throw new RangeError(`retentionSeconds must be a whole number ≥ 1, got ${retention}`);
    const kept = options.slowestKept ?? DEFAULT_SLOWEST_KEPT;
    if (!Number.isInteger(kept) || kept < 0) throw new RangeError(`slowestKept must be a whole number ≥ 0, got ${kept}`);
    const failuresKept = options.failuresKept ?? DEFAULT_FAILURES_KEPT;
    if (!Number.isInteger(failuresKept) || failuresKept < 0) {
      throw new RangeError(`failuresKept must be a whole number ≥ 0, got ${failuresKept}`);
    }
    this.retentionSeconds = retention;
    this.slowestKept = kept;
    this.failuresKept = failuresKept;
    this.traces = new RequestTraces(options.tracesKept ?? DEFAULT_TRACES_KEPT);
    this.now = options.now ?? Date.now;
    // Every level exists whatever the retention: the 60 s one feeds the history and slices need 10 s.
    this.levels = [1, ...AGGREGATE_WIDTHS].map((width) => new BucketLevel(width, Math.ceil(retention / width) + 1, width > 1));
    const ms = this.now();
    this.headMs = Number.isFinite(ms) ? ms : 0;
    this.head = Math.floor(this.headMs / 1000);
    this.firstSecond = this.head;
    const files = options.historyDir ? new HistoryFiles(options.historyDir, options.logger, this.now) : undefined;
    this.history = new MinuteHistory(options.historyMinutes ?? DEFAULT_HISTORY_MINUTES, files, Math.floor(this.head / 60));
    if (files) {
      this.saveTimer = setInterval(() => void this.history.save(), options.historySaveIntervalMs ?? DEFAULT_HISTORY_SAVE_INTERVAL_MS);
      this.saveTimer.unref();
    }
  }

  /** Minutes the history keeps. */
  get historyMinutes(): number {
    return this.history.retentionMinutes;
  }

  /**
   * Hot path: O(1). Allocates only when a bucket gets its first sketch or a request enters the
   * slowest-requests list (a failure usually does, being the most recent: one small entry each),
   * and the trace ring's map entry for the request's id.
   */
  record(sample: RequestSample): void {
    const second = this.secondOf(sample.endedAtMs, this.sync());
    if (second === undefined) return;

    const resultIndex = RESULT_TYPES.indexOf(sample.resultType);
    const success = sample.statusCode === 200 && resultIndex >= 0 && resultIndex < SUCCESS_RESULTS;
    const latencyMs = isDuration(sample.latencyMs) ? sample.latencyMs : NaN;
    const s = this.sample;
    s.outcome = outcomeOf(success, sample.statusCode);
    s.resultIndex = success ? resultIndex : ERROR_INDEX;
    s.statusCode = sample.statusCode;
    s.latencyMs = latencyMs;
    s.stages = sample.stages;
    sliceIndices(sample.attributes, s.slices);

    // Successes compete on latency, failures on recency; a request without a usable latency has no place in the list.
    const keep = success ? this.slowestKept : this.failuresKept;
    const endedAtMs = Number.isFinite(sample.endedAtMs) ? sample.endedAtMs : this.headMs;
    this.traces.record(sample, endedAtMs, latencyMs);
    let candidate = !Number.isNaN(latencyMs) && keep > 0;
    let entry: SlowEntry | undefined;
    for (const level of this.levels) {
      const bucket = level.obtain(Math.floor(second / level.width));
      if (!bucket) continue;
      bucket.add(s);
      if (!candidate) continue;
      if (!entry) {
        // The seconds level goes first: a request not kept for its second is not kept for any larger period.
        if (!(success ? bucket.admitsSlow(latencyMs, keep) : bucket.admitsFailure(endedAtMs, keep))) {
          candidate = false;
          continue;
        }
        entry = slowEntry(sample, endedAtMs, latencyMs, RESULT_TYPES[s.resultIndex]!);
      }
      if (success) bucket.offerSlow(entry, keep);
      else bucket.offerFailure(entry, keep);
    }
    s.stages = undefined;
  }

  /**
   * One model run of `size` pairs ended (at `endedAtMs`, default now). Feeds `mean_batch_size`, the
   * mean over runs as Prometheus reads `ofa_ve_batch_size` (sum / count). A run of no pair is no batch.
   */
  recordBatch(size: number, endedAtMs?: number): void {
    if (!(size > 0 && size < Infinity)) return;
    const now = this.sync();
    const second = this.secondOf(endedAtMs ?? this.headMs, now);
    if (second === undefined) return;
    for (const level of this.levels) level.obtain(Math.floor(second / level.width))?.addBatch(size);
  }

  /**
   * Seconds from `from` to `now` (both included) that this process has existed: fewer than the
   * span in its first minutes, so that a rate over them is not diluted by time before it started.
   * After the clock was set back past the first second, the whole span.
   */
  private coveredSeconds(from: number, now: number): number {
    return now >= this.firstSecond ? now - Math.max(from, this.firstSecond) + 1 : now - from + 1;
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
    let clientErrors = 0;
    let serverErrors = 0;
    let batchSum = 0;
    let batchCount = 0;
    const latency: SketchData[] = [];
    const stages = STAGE_NAMES.map((): SketchData[] => []);
    for (const bucket of buckets) {
      requests += bucket.requests;
      clientErrors += bucket.clientErrors;
      serverErrors += bucket.serverErrors;
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
    const covered = this.coveredSeconds(from, now);
    const stageStats = {} as Record<StageName, StageStats>;
    STAGE_NAMES.forEach((stage, i) => {
      const sketches = stages[i]!;
      const [s50, s90] = mergedQuantiles(sketches, STAGE_QUANTILES);
      stageStats[stage] = { p50_ms: s50 ?? null, p90_ms: s90 ?? null, mean_ms: mergedMean(sketches) };
    });

    const by_status: Record<string, number> = {};
    for (const status of [...byStatus.keys()].sort((a, b) => a - b)) by_status[String(status)] = byStatus.get(status)!;

    return {
      window_s: windowSeconds,
      covered_s: covered,
      generated_at: new Date(this.headMs).toISOString(),
      qps: requests / covered,
      p50_ms: p50 ?? null,
      p90_ms: p90 ?? null,
      p99_ms: p99 ?? null,
      mean_ms: mergedMean(latency),
      error_rate: requests > clientErrors ? serverErrors / (requests - clientErrors) : 0,
      client_error_rate: requests > 0 ? clientErrors / requests : 0,
      totals: {
        requests,
        YES: results[0]!,
        NO: results[1]!,
        MAYBE: results[2]!,
        ERROR: results[3]!,
        client_errors: clientErrors,
        server_errors: serverErrors,
        by_status,
      },
      mean_batch_size: batchCount > 0 ? batchSum / batchCount : null,
      series: this.series(from, now),
      stages: stageStats,
    };
  }

  /**
   * Request counts, failures by kind (4xx, 5xx) and latency quantiles (ms, successful requests) over
   * the last `windowSeconds`: what the in-app alert rules need, without building a whole snapshot.
   */
  summary(
    windowSeconds: number,
    quantiles: readonly number[],
  ): { requests: number; clientErrors: number; serverErrors: number; latencyMs: (number | null)[] } {
    const window = Math.max(1, Math.min(Math.floor(windowSeconds), this.retentionSeconds));
    const now = this.sync();
    let requests = 0;
    let clientErrors = 0;
    let serverErrors = 0;
    const latency: SketchData[] = [];
    for (const bucket of this.cover(now - window + 1, now)) {
      requests += bucket.requests;
      clientErrors += bucket.clientErrors;
      serverErrors += bucket.serverErrors;
      if (bucket.latency) latency.push(bucket.latency.data);
    }
    return { requests, clientErrors, serverErrors, latencyMs: mergedQuantiles(latency, quantiles) };
  }

  /**
   * Per-slice figures of one input attribute over the last `windowSeconds` (1..retentionSeconds):
   * requests, QPS, P50/P90 and mean latency, error rates and the stage breakdown of each slice that
   * saw a request. Read in whole 10 s periods (see the header): `from`/`covered_s` say which.
   */
  snapshotSlices(windowSeconds: number, attribute: SliceAttribute): SlicesSnapshot {
    if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > this.retentionSeconds) {
      throw new RangeError(`window must be a whole number of seconds from 1 to ${this.retentionSeconds}, got ${windowSeconds}`);
    }
    const a = attributeIndex(attribute);
    const now = this.sync();
    const width = this.levels[SLICED_LEVEL]!.width;
    const start = Math.floor((now - windowSeconds + 1) / width) * width;
    const covered = this.coveredSeconds(start, now);
    const first = now - covered + 1;
    const names = sliceValues(a);
    const requests = new Array<number>(names.length).fill(0);
    const clientErrors = new Array<number>(names.length).fill(0);
    const serverErrors = new Array<number>(names.length).fill(0);
    const latency = names.map((): SketchData[] => []);
    const stages = names.map(() => STAGE_NAMES.map((): SketchData[] => []));
    for (const bucket of this.cover(start, now, SLICED_LEVEL)) {
      const row = bucket.slices?.cells[a];
      if (!row) continue;
      row.forEach((cell, v) => {
        if (!cell) return;
        requests[v]! += cell.requests;
        clientErrors[v]! += cell.clientErrors;
        serverErrors[v]! += cell.serverErrors;
        if (cell.latency) latency[v]!.push(cell.latency.data);
        cell.stages.forEach((sketch, i) => {
          if (sketch) stages[v]![i]!.push(sketch.data);
        });
      });
    }
    const slices: SliceStats[] = [];
    names.forEach((slice, v) => {
      const n = requests[v]!;
      if (n === 0) return;
      const [p50, p90] = mergedQuantiles(latency[v]!, STAGE_QUANTILES);
      const stageStats = {} as Record<StageName, StageStats>;
      STAGE_NAMES.forEach((stage, i) => {
        const sketches = stages[v]![i]!;
        const [s50, s90] = mergedQuantiles(sketches, STAGE_QUANTILES);
        stageStats[stage] = { p50_ms: s50 ?? null, p90_ms: s90 ?? null, mean_ms: mergedMean(sketches) };
      });
      slices.push({
        slice,
        requests: n,
        qps: n / covered,
        p50_ms: p50 ?? null,
        p90_ms: p90 ?? null,
        mean_ms: mergedMean(latency[v]!),
        error_rate: n > clientErrors[v]! ? serverErrors[v]! / (n - clientErrors[v]!) : 0,
        client_error_rate: clientErrors[v]! / n,
        stages: stageStats,
      });
    });
    return {
      attribute,
      window_s: windowSeconds,
      from: new Date(first * 1000).toISOString(),
      covered_s: covered,
      generated_at: new Date(this.headMs).toISOString(),
      slices,
    };
  }

  /**
   * Sets a mark on the timeline (default now): from the UI or `POST /api/v1/marks` (kind 'user'), or
   * on a model change ('model-change'). Kept with the history (same retention, saved with it).
   */
  addMark(name: string, atMs: number = this.now(), kind: MarkKind = 'user'): Mark {
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (trimmed === '' || trimmed.length > MAX_MARK_NAME_LENGTH) {
      throw new RangeError(`a mark needs a name of 1 to ${MAX_MARK_NAME_LENGTH} characters`);
    }
    if (!Number.isFinite(atMs)) throw new RangeError(`a mark needs a time (epoch ms), got ${atMs}`);
    // A mark outside the history would be accepted and then pruned unseen, or (far ahead) would
    // outlive every real one and push them out of the capped list.
    const now = this.now();
    const oldest = this.history.oldestKept(Math.floor(now / 60_000)) * 60_000;
    if (atMs < oldest || atMs > now + MARK_AHEAD_MS) {
      throw new RangeError(
        `a mark's time must lie within the kept history (from ${new Date(oldest).toISOString()}) and at most ${MARK_AHEAD_MS / 1000} s ahead of now (${new Date(now).toISOString()}), got ${atMs}`,
      );
    }
    if (!MARK_KINDS.includes(kind)) throw new RangeError(`a mark's kind is one of ${MARK_KINDS.join(', ')}, got ${String(kind)}`);
    const mark: Mark = { name: trimmed, at_ms: atMs, kind };
    this.history.addMark(mark);
    void this.history.save(); // rare and small: keep it at once
    return { ...mark };
  }

  /** The marks within the history's retention, oldest first. */
  marks(): Mark[] {
    this.history.prune(Math.floor(this.sync() / 60));
    return this.history.marks();
  }

  /**
   * Compares range `b` with range `a` (differences are b − a): per stage and, with `attribute`, per
   * slice of it (see period-compare.ts for the method). A range that starts within the live retention
   * (and after this instance started) is read per second (per 10 s with an attribute), an older one
   * per minute from the history; each
   * is rounded inward to whole periods, and says which it read. Throws a RangeError for a range that
   * is empty, in the future or wholly older than the history.
   */
  compare(a: TimeRange, b: TimeRange, options: { attribute?: SliceAttribute } = {}): PeriodComparison {
    const attribute = options.attribute === undefined ? undefined : attributeIndex(options.attribute);
    return comparePeriods(this.gather(a, attribute), this.gather(b, attribute), attribute);
  }

  /** Saves the history now (when it has a folder). */
  flush(): Promise<void> {
    return this.history.save();
  }

  /** Stops the periodic save and saves the history, the minute in progress included. */
  async close(): Promise<void> {
    if (this.saveTimer) clearInterval(this.saveTimer);
    const minute = Math.floor(this.sync() / 60);
    this.pushMinute(minute);
    await this.history.save();
  }

  /**
   * The slow-requests list over the retention (see the header): up to `limit` of the slowest
   * successful requests (at most `slowestKept`) and up to `limit` of the most recent failed ones (at
   * most `failuresKept`), merged slowest first.
   */
  slowest(limit: number = Infinity): SlowRequest[] {
    const bound = (kept: number) => (limit >= 0 ? Math.min(Math.floor(limit), kept) : 0); // NaN: none
    const successes = bound(this.slowestKept);
    const failures = bound(this.failuresKept);
    const now = this.sync();
    const slow: SlowEntry[] = [];
    const failed: SlowEntry[] = [];
    for (const bucket of this.cover(now - this.retentionSeconds + 1, now)) {
      slow.push(...bucket.slow);
      failed.push(...bucket.failed);
    }
    slow.sort((a, b) => b.latencyMs - a.latencyMs || b.endedAtMs - a.endedAtMs);
    failed.sort((a, b) => b.endedAtMs - a.endedAtMs);
    const entries = [...slow.slice(0, successes), ...failed.slice(0, failures)];
    entries.sort((a, b) => b.latencyMs - a.latencyMs || b.endedAtMs - a.endedAtMs);
    return entries.map((entry) => {
      const request: SlowRequest = {
        id: entry.id,
        ended_at: new Date(entry.endedAtMs).toISOString(),
        latency_ms: entry.latencyMs,
        result_type: entry.resultType,
        status_code: entry.statusCode,
        batch_size: entry.batchSize,
        stages: { ...entry.stages },
      };
      if (entry.errorCode !== undefined) request.error_code = entry.errorCode;
      return request;
    });
  }

  /** Sums one range for `compare`, from the live levels or the history (see there). */
  private gather(range: TimeRange, attribute: number | undefined): { totals: PeriodTotals; span: RangeSpan } {
    const { fromMs, toMs } = range ?? {};
    if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && fromMs < toMs)) {
      throw new RangeError(`a range needs fromMs < toMs (epoch ms), got ${fromMs}..${toMs}`);
    }
    const now = this.sync();
    const totals = new PeriodTotals(attribute === undefined ? [] : [attribute]);
    const add = (bucket: Bucket) => {
      totals.overall.add(bucket.cellData());
      if (attribute === undefined) return;
      bucket.slices?.cells[attribute]!.forEach((cell, v) => {
        if (cell) totals.sliceTarget(attribute, v)!.add(cell.cellData());
      });
    };
    // Live levels only hold what this process recorded: a range from before it started (a restart) reads the minutes.
    const live = fromMs >= Math.max(now - this.retentionSeconds + 1, this.firstSecond) * 1000;
    const levelIndex = live ? (attribute === undefined ? 0 : SLICED_LEVEL) : MINUTE_LEVEL;
    const width = this.levels[levelIndex]!.width;
    // Whole periods inside the range; the period in progress counts as whole when the range reaches now.
    let first = Math.ceil(fromMs / 1000 / width);
    const last = Math.min(toMs > this.headMs ? Math.floor(now / width) : Math.floor(toMs / 1000 / width) - 1, Math.floor(now / width));
    if (!live) {
      const oldest = this.history.oldestKept(Math.floor(now / 60));
      if (last < oldest) throw new RangeError(`the range ends before the history (${this.history.retentionMinutes} minutes) begins`);
      first = Math.max(first, oldest);
    }
    if (first > last) {
      if (fromMs > this.headMs) throw new RangeError('the range is in the future');
      throw new RangeError(`the range holds no whole ${width} s period`);
    }
    if (live) {
      for (const bucket of this.cover(first * width, last * width + width - 1, levelIndex)) add(bucket);
    } else {
      const minutes = this.levels[MINUTE_LEVEL]!;
      for (let minute = first; minute <= last; minute++) {
        if (this.history.accumulate(minute, totals)) continue;
        const bucket = minutes.get(minute); // the minute in progress (or one the history never got)
        if (bucket) add(bucket);
      }
    }
    return {
      totals,
      span: { fromMs: first * width * 1000, toMs: Math.min((last + 1) * width * 1000, this.headMs), resolutionSeconds: width },
    };
  }

  /** Hands minute `minute`'s 60 s bucket, if it saw a request, to the history. */
  private pushMinute(minute: number): void {
    const bucket = this.levels[MINUTE_LEVEL]!.get(minute);
    if (bucket && bucket.requests > 0) this.history.put(minute, bucket.cellData(), bucket.slices);
  }

  /** The second a request or batch that ended at `endedAtMs` counts in (see the header), or undefined when it is past the retention. */
  private secondOf(endedAtMs: number, now: number): number | undefined {
    let second = Math.floor(endedAtMs / 1000);
    if (!(second <= now)) second = now; // in the future (or not a time): count it now
    return second <= now - this.retentionSeconds ? undefined : second;
  }

  /** Reads the clock, moves the rings to the current second and returns it. */
  private sync(): number {
    const ms = this.now();
    const second = Math.floor(ms / 1000);
    if (!Number.isFinite(second)) return this.head; // a broken clock reading: stay where we were
    this.headMs = ms;
    if (second > this.head) {
      // A minute ended: into the history before the 60 s ring can reuse its slot.
      if (Math.floor(second / 60) > Math.floor(this.head / 60)) {
        this.pushMinute(Math.floor(this.head / 60));
        this.history.prune(Math.floor(second / 60));
      }
      for (const level of this.levels) level.advance(this.head, second);
    } else if (second < this.head) for (const level of this.levels) level.rewind(second);
    this.head = second;
    return second;
  }

  /**
   * Buckets that together hold exactly the requests of seconds [from, to]: the widest untainted
   * aggregates that fit, and narrower ones (down to seconds) at the edges. With `finest` above the
   * seconds (slices), the edges are read in periods of that level: those starting within [from, to]
   * (callers align `from`), tainted or not, as no finer level has their slices.
   */
  private cover(from: number, to: number, finest = 0): Bucket[] {
    const out: Bucket[] = [];
    this.coverLevel(from, to, this.levels.length - 1, out, finest);
    return out;
  }

  private coverLevel(from: number, to: number, levelIndex: number, out: Bucket[], finest: number): void {
    if (from > to) return;
    const level = this.levels[levelIndex]!;
    if (levelIndex === finest) {
      const width = level.width;
      for (let period = Math.ceil(from / width); period <= Math.floor(to / width); period++) {
        const bucket = level.get(period);
        if (bucket) out.push(bucket);
      }
      return;
    }
    const width = level.width;
    const first = Math.ceil(from / width);
    const last = Math.floor((to + 1) / width) - 1;
    if (first > last) {
      this.coverLevel(from, to, levelIndex - 1, out, finest);
      return;
    }
    this.coverLevel(from, first * width - 1, levelIndex - 1, out, finest);
    for (let period = first; period <= last; period++) {
      const bucket = level.get(period);
      if (bucket && !bucket.tainted) out.push(bucket);
      else if (bucket) this.coverLevel(period * width, period * width + width - 1, levelIndex - 1, out, finest);
      // no bucket: nothing was recorded in that period
    }
    this.coverLevel((last + 1) * width, to, levelIndex - 1, out, finest);
  }

  private series(from: number, to: number): SeriesPoint[] {
    const seconds = this.levels[0]!;
    const points: SeriesPoint[] = [];
    for (let t = from; t <= to; t++) {
      const bucket = seconds.get(t);
      if (!bucket || bucket.requests === 0) {
        points.push(emptySeriesPoint(t));
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
        client_errors: bucket.clientErrors,
        server_errors: bucket.serverErrors,
        p50_ms: p50 ?? null,
        p90_ms: p90 ?? null,
        p99_ms: p99 ?? null,
        error_rate: bucket.requests > bucket.clientErrors ? bucket.serverErrors / (bucket.requests - bucket.clientErrors) : 0,
        client_error_rate: bucket.clientErrors / bucket.requests,
      });
    }
    return points;
  }
}

function outcomeOf(success: boolean, statusCode: number): Outcome {
  if (success) return 'success';
  return statusCode >= 400 && statusCode < 500 ? 'client_error' : 'server_error';
}

function slowEntry(sample: RequestSample, endedAtMs: number, latencyMs: number, resultType: ResultType): SlowEntry {
  const stages: Partial<Record<StageName, number>> = {};
  if (sample.stages) {
    for (const stage of STAGE_NAMES) {
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
    errorCode: resultType === 'ERROR' && typeof sample.errorCode === 'string' ? sample.errorCode : undefined,
    batchSize: isDuration(sample.batchSize) ? sample.batchSize : null,
    stages,
  };
}
