/**
 * Time buckets behind the live statistics: rings of fixed-width periods (1 s, 10 s, 60 s), each
 * bucket stamped with the period it holds so a slot left over from an older lap of the ring (or from
 * before a clock jump) is recognised as stale and reset before reuse. The buckets of a sliced level
 * (10 s and 60 s) also keep a cell per input slice (`SliceTable`).
 */
import { RESULT_TYPES, type ResultType, type StageName } from '../../preload/wire-types.ts';
import { mergedQuantiles } from './quantile-sketch.ts';
import { LatencyCell, SliceTable } from './slice-cells.ts';

/** The slot of failed checks in `Bucket.results` (slots in RESULT_TYPES' order). */
export const ERROR_INDEX = RESULT_TYPES.indexOf('ERROR');

const SERIES_QUANTILES = [0.5, 0.9, 0.99] as const;

/** A slot holding no period. */
const EMPTY = -Infinity;

/**
 * A request kept for the "slowest requests" list (a slow success or a recent failure); shared by the
 * buckets of every level.
 */
export interface SlowEntry {
  readonly id: string;
  readonly endedAtMs: number;
  readonly latencyMs: number;
  readonly resultType: ResultType;
  readonly statusCode: number;
  /** The error code of a failed check, when the caller gave one. */
  readonly errorCode: string | undefined;
  readonly batchSize: number | null;
  readonly stages: Readonly<Partial<Record<StageName, number>>>;
}

/**
 * How a request ended: answered; refused for the client's mistake (a 4xx); or failed on the
 * service's side (a 5xx, and anything else that is not an answer, so the two failure kinds add up
 * to every ERROR).
 */
import type { NormalisedSample } from './slice-cells.ts';
export type { NormalisedSample, Outcome } from './slice-cells.ts';

/** One period: its own counts and sketches (the LatencyCell part) and what only whole-service figures need. */
export class Bucket extends LatencyCell {
  /** Period index (start second / width), or EMPTY. */
  stamp = EMPTY;
  /**
   * The clock went back into this period: it may hold requests from seconds that are now in the
   * future, so window queries read its seconds instead of the aggregate.
   */
  tainted = false;
  readonly results = [0, 0, 0, 0];
  readonly byStatus = new Map<number, number>();
  /** Model runs that ended in this period and the pairs they ran (`LiveStats.recordBatch`). */
  batchSum = 0;
  batchCount = 0;
  /** Per-slice cells, in sliced levels only; created with the period's first request. */
  slices: SliceTable | null = null;
  /** Up to `slowestKept` slowest successful requests, slowest first. */
  readonly slow: SlowEntry[] = [];
  /** Up to `failuresKept` most recent failed requests, most recent first. */
  readonly failed: SlowEntry[] = [];
  private quantiles: Array<number | null> | null = null;

  constructor(readonly sliced = false) {
    super();
  }

  reset(stamp: number): void {
    this.stamp = stamp;
    this.tainted = false;
    this.clearCell();
    this.results.fill(0);
    this.byStatus.clear();
    this.batchSum = 0;
    this.batchCount = 0;
    this.slices = null;
    this.slow.length = 0;
    this.failed.length = 0;
    this.quantiles = null;
  }

  add(sample: NormalisedSample): void {
    this.results[sample.resultIndex]!++;
    this.byStatus.set(sample.statusCode, (this.byStatus.get(sample.statusCode) ?? 0) + 1);
    if (this.addToCell(sample)) this.quantiles = null;
    if (this.sliced) (this.slices ??= new SliceTable()).add(sample);
  }

  addBatch(size: number): void {
    this.batchSum += size;
    this.batchCount++;
  }

  /**
   * The period is over: compact its sketches (a late request thaws the one it lands in) and work out
   * its series quantiles now, a couple of µs, rather than 900 of them in the next window query.
   */
  freeze(): void {
    this.freezeCell();
    this.slices?.freeze();
    this.latencyQuantiles();
  }

  /** Would a successful request this slow enter `slow`? */
  admitsSlow(latencyMs: number, keep: number): boolean {
    return this.slow.length < keep || latencyMs > this.slow[this.slow.length - 1]!.latencyMs;
  }

  offerSlow(entry: SlowEntry, keep: number): void {
    if (!this.admitsSlow(entry.latencyMs, keep)) return;
    const slow = this.slow;
    let i = slow.length;
    while (i > 0 && slow[i - 1]!.latencyMs < entry.latencyMs) i--;
    slow.splice(i, 0, entry);
    if (slow.length > keep) slow.length = keep;
  }

  /** Would a failure that ended at `endedAtMs` enter `failed`? Of two that ended in the same ms, the later recorded wins. */
  admitsFailure(endedAtMs: number, keep: number): boolean {
    return this.failed.length < keep || endedAtMs >= this.failed[this.failed.length - 1]!.endedAtMs;
  }

  offerFailure(entry: SlowEntry, keep: number): void {
    if (!this.admitsFailure(entry.endedAtMs, keep)) return;
    const failed = this.failed;
    let i = failed.length;
    while (i > 0 && failed[i - 1]!.endedAtMs <= entry.endedAtMs) i--;
    failed.splice(i, 0, entry);
    if (failed.length > keep) failed.length = keep;
  }

  /** p50, p90, p99 of this bucket's successful latencies (cached until the next one is added). */
  latencyQuantiles(): Array<number | null> {
    if (!this.quantiles) this.quantiles = this.latency ? mergedQuantiles([this.latency.data], SERIES_QUANTILES) : [null, null, null];
    return this.quantiles;
  }
}

/** A ring of buckets for consecutive periods of `width` seconds; period p holds seconds [p·w, p·w + w). */
export class BucketLevel {
  readonly buckets: Bucket[];

  /** `slots` must exceed the number of periods any retained second can fall into. */
  constructor(
    readonly width: number,
    readonly slots: number,
    readonly sliced = false,
  ) {
    this.buckets = Array.from({ length: slots }, () => new Bucket(sliced));
  }

  private slot(period: number): Bucket {
    return this.buckets[((period % this.slots) + this.slots) % this.slots]!;
  }

  /** The bucket holding `period`, or undefined when its slot holds another (or none). */
  get(period: number): Bucket | undefined {
    const bucket = this.slot(period);
    return bucket.stamp === period ? bucket : undefined;
  }

  /**
   * The bucket for `period`, resetting a slot that holds an older period. Undefined when the slot
   * already holds a newer one (the period has left the ring).
   */
  obtain(period: number): Bucket | undefined {
    const bucket = this.slot(period);
    if (bucket.stamp === period) return bucket;
    if (bucket.stamp > period) return undefined;
    bucket.reset(period);
    return bucket;
  }

  /**
   * Time moved forward from second `from` to second `to`: freeze the period that ended, claim (and
   * clear) the slots of the new ones.
   */
  advance(from: number, to: number): void {
    const ended = Math.floor(from / this.width);
    if (Math.floor(to / this.width) > ended) this.get(ended)?.freeze();
    const first = Math.max(Math.floor(from / this.width) + 1, Math.floor(to / this.width) - this.slots + 1);
    const last = Math.floor(to / this.width);
    for (let p = first; p <= last; p++) this.slot(p).reset(p);
  }

  /** The clock went back to second `now`: drop periods that start later, taint the one straddling it. */
  rewind(now: number): void {
    for (const bucket of this.buckets) {
      if (bucket.stamp === EMPTY) continue;
      const start = bucket.stamp * this.width;
      if (start > now) bucket.reset(EMPTY);
      else if (start + this.width - 1 > now) bucket.tainted = true;
    }
  }
}
