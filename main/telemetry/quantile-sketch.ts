/**
 * Duration sketches for the live statistics: DDSketch (@datadog/sketches-js) for recording, plus a
 * merge-and-read helper for window queries.
 *
 * Why not `DDSketch#merge` for the window queries: in 2.1.1 `DenseStore#merge` calls
 * `_extendRange(minKey, maxKey)`, which reads a `maxKey` of 0 as "absent" (`secondKey || key`). Merging
 * {0.5, 0.995} into {0.5} then reports p100 = 0.499 instead of 0.995, and the next values that make
 * the store re-centre drop the 0.995 count altogether (store.count 7, bins summing to 6). Bin key 0 is
 * (0.99, 1] ms, squarely in the range of the per-stage timings. `merge` also copies and re-centres a
 * plain array on every call, and a window query merges dozens of sketches. `mergedQuantiles` instead sums the sources' bins (read-only)
 * into one scratch `Float64Array` and walks it once for all the quantiles asked for, giving exactly
 * what a quantile read of a correctly merged sketch would (same bin values; the rank rule is quantileRank's).
 * Sketches are only ever written through `accept`, which keeps `minKey`/`maxKey` right.
 */
import { DDSketch } from '@datadog/sketches-js';

/**
 * Relative accuracy α of every sketch: a quantile read from a sketch (or from a merge of sketches) is
 * within α of the exact order statistic of the same rank. Half of the 1% promise, so float rounding
 * at bin edges and the usual alternative rank conventions stay inside it. A bin covers a factor of
 * (1+α)/(1-α) ≈ 1.01; 1 ms .. 10 s spans ~920 bins.
 */
export const RELATIVE_ACCURACY = 0.005;

/**
 * Durations are clamped into [0, MAX_DURATION_MS] and anything below MIN_DURATION_MS counts as zero,
 * which bounds a sketch's dense bin range (~2,900 bins at most) whatever a caller passes.
 */
export const MIN_DURATION_MS = 1e-6;
export const MAX_DURATION_MS = 3_600_000;

const MAPPING = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;

/** Bin keys any recorded duration can have (the clamp above bounds them): ~2,900 keys. */
export const MIN_KEY = MAPPING.key(MIN_DURATION_MS);
export const MAX_KEY = MAPPING.key(MAX_DURATION_MS);

/** The value a quantile read reports for bin `key` (the bin's representative value). */
export function binValue(key: number): number {
  return MAPPING.value(key);
}

export function createSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
}

/** A duration worth recording: a finite, non-negative number. */
export function isDuration(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value < Infinity;
}

/** Adds a duration (already checked with `isDuration`) to a sketch, clamped as documented above. */
export function acceptDuration(sketch: DDSketch, ms: number): void {
  sketch.accept(ms < MIN_DURATION_MS ? 0 : ms > MAX_DURATION_MS ? MAX_DURATION_MS : ms);
}

/** What the readers below use of a sketch: a live `DDSketch` has this shape, and so does a frozen copy. */
export interface SketchData {
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  /** Positive values: `bins[key - offset]` counts the values of bin `key`, for keys minKey..maxKey. */
  readonly store: {
    readonly bins: ArrayLike<number>;
    readonly offset: number;
    readonly minKey: number;
    readonly maxKey: number;
    readonly count: number;
  };
}

const NO_BINS = new Uint32Array(0);

/**
 * A sketch of durations that is a live DDSketch while values arrive and can then be frozen into
 * exactly its occupied bin range as the narrowest typed array its largest count fits (a period of
 * a few hundred requests fits bytes): a small fraction of the DDSketch's chunked plain array of
 * 8-byte slots, and nothing for the garbage collector to scan. Adding to a frozen sketch thaws
 * it first (rare: only requests reported late for a past period).
 */
export class DurationSketch {
  private live: DDSketch | null = null;
  private frozen: SketchData | null = null;

  add(ms: number): void {
    if (!this.live) {
      this.live = this.frozen ? thaw(this.frozen) : createSketch();
      this.frozen = null;
    }
    acceptDuration(this.live, ms);
  }

  freeze(): void {
    if (!this.live) return;
    this.frozen = freeze(this.live);
    this.live = null;
  }

  get data(): SketchData {
    return this.live ?? this.frozen ?? EMPTY_SKETCH;
  }
}

const EMPTY_SKETCH: SketchData = {
  zeroCount: 0,
  count: 0,
  sum: 0,
  store: { bins: NO_BINS, offset: 0, minKey: Infinity, maxKey: -Infinity, count: 0 },
};

function freeze(sketch: DDSketch): SketchData {
  const store = sketch.store;
  let bins: Uint8Array | Uint16Array | Uint32Array = NO_BINS;
  if (store.count > 0) {
    const length = store.maxKey - store.minKey + 1;
    const from = store.minKey - store.offset;
    let largest = 0;
    for (let i = 0; i < length; i++) largest = Math.max(largest, store.bins[from + i] ?? 0);
    bins = largest <= 0xff ? new Uint8Array(length) : largest <= 0xffff ? new Uint16Array(length) : new Uint32Array(length);
    for (let i = 0; i < length; i++) bins[i] = store.bins[from + i] ?? 0;
  }
  return {
    zeroCount: sketch.zeroCount,
    count: sketch.count,
    sum: sketch.sum,
    store: { bins, offset: store.minKey, minKey: store.minKey, maxKey: store.maxKey, count: store.count },
  };
}

function thaw(data: SketchData): DDSketch {
  const sketch = createSketch();
  const { bins, offset, minKey, maxKey } = data.store;
  for (let key = minKey; key <= maxKey; key++) {
    const count = bins[key - offset] ?? 0;
    if (count > 0) sketch.store.add(key, count);
  }
  sketch.zeroCount = data.zeroCount;
  sketch.count = data.count;
  sketch.sum = data.sum;
  return sketch;
}

let scratch = new Float64Array(1024);

/**
 * The 0-based rank the q-quantile of `n` values reads: the nearest-rank rule, the ⌈q·n⌉-th smallest
 * value. Not DDSketch's `getValueAtQuantile` rank q·(n−1), which for few values reads low: P99 of two
 * checks was the faster one, and P90 of four the third. For a hundred values and more the two differ
 * by at most one value. Prometheus' histogram_quantile also places rank q·n.
 */
export function quantileRank(q: number, n: number): number {
  // The small epsilon keeps q·n that is a whole number in exact arithmetic (0.29·100) from rounding up.
  return Math.min(n - 1, Math.max(0, Math.ceil(q * n - 1e-9) - 1));
}

/**
 * Quantiles of the union of `sketches` (values recorded through `acceptDuration`, so never negative):
 * the bin holding rank quantileRank(q, n), the bin's representative value. `qs` must be ascending.
 * Nulls when the sketches hold no values.
 */
export function mergedQuantiles(sketches: readonly SketchData[], qs: readonly number[]): Array<number | null> {
  let total = 0;
  for (const sketch of sketches) total += sketch.zeroCount + sketch.store.count;
  return mergedValuesAtRanks(
    sketches,
    qs.map((q) => quantileRank(q, total)),
  );
}

/**
 * The values at 0-based ranks `ranks` (ascending, fractional allowed: the value holding that
 * rank) of the union of `sketches`: what order-statistic confidence intervals read. Nulls when empty.
 */
export function mergedValuesAtRanks(sketches: readonly SketchData[], ranks: readonly number[]): Array<number | null> {
  let zeros = 0;
  let positives = 0;
  let minKey = Infinity;
  let maxKey = -Infinity;
  for (const sketch of sketches) {
    zeros += sketch.zeroCount;
    const store = sketch.store;
    if (store.count > 0) {
      positives += store.count;
      if (store.minKey < minKey) minKey = store.minKey;
      if (store.maxKey > maxKey) maxKey = store.maxKey;
    }
  }
  const total = zeros + positives;
  if (total === 0) return ranks.map(() => null);
  if (positives === 0) return ranks.map(() => 0);

  let bins: ArrayLike<number>;
  let lo: number;
  let hi: number;
  let base: number; // key = index + base
  const only = sketches.length === 1 ? sketches[0] : undefined;
  if (only) {
    const store = only.store;
    bins = store.bins;
    base = store.offset;
    lo = store.minKey - base;
    hi = store.maxKey - base;
  } else {
    const length = maxKey - minKey + 1;
    if (scratch.length < length) scratch = new Float64Array(Math.max(length, scratch.length * 2));
    scratch.fill(0, 0, length);
    for (const sketch of sketches) {
      const store = sketch.store;
      if (store.count === 0) continue;
      const src = store.bins;
      const shift = store.offset - minKey;
      const end = store.maxKey - store.offset;
      for (let i = store.minKey - store.offset; i <= end; i++) scratch[i + shift]! += src[i] ?? 0;
    }
    bins = scratch;
    base = minKey;
    lo = 0;
    hi = length - 1;
  }

  const out: Array<number | null> = [];
  let i = lo;
  let below = 0; // values in bins [lo, i)
  for (const rank of ranks) {
    if (rank < zeros) {
      out.push(0);
      continue;
    }
    const r = rank - zeros;
    while (i <= hi && below + (bins[i] ?? 0) <= r) below += bins[i++] ?? 0;
    out.push(MAPPING.value(i <= hi ? i + base : maxKey));
  }
  return out;
}

/**
 * The sum of many sketches (a compared range: up to 1,440 minutes of them), dense over every key a
 * duration can have so adding never re-allocates: 23 KB, allocated per use, not kept.
 */
export class SketchSum {
  zeroCount = 0;
  count = 0;
  sum = 0;
  private positives = 0;
  private minKey = Infinity;
  private maxKey = -Infinity;
  private readonly bins = new Float64Array(MAX_KEY - MIN_KEY + 1);

  add(data: SketchData): void {
    this.zeroCount += data.zeroCount;
    this.count += data.count;
    this.sum += data.sum;
    const store = data.store;
    if (store.count === 0) return;
    for (let key = store.minKey; key <= store.maxKey; key++) {
      const n = store.bins[key - store.offset] ?? 0;
      if (n > 0) this.addBin(key, n);
    }
  }

  /** Adds `n` values to bin `key` (which must lie in MIN_KEY..MAX_KEY) without touching count or sum. */
  addBin(key: number, n: number): void {
    this.bins[key - MIN_KEY]! += n;
    this.positives += n;
    if (key < this.minKey) this.minKey = key;
    if (key > this.maxKey) this.maxKey = key;
  }

  /** Adds zeros, the total count and the sum of values whose bins come through `addBin`. */
  addTotals(zeroCount: number, count: number, sum: number): void {
    this.zeroCount += zeroCount;
    this.count += count;
    this.sum += sum;
  }

  get data(): SketchData {
    return {
      zeroCount: this.zeroCount,
      count: this.count,
      sum: this.sum,
      store: { bins: this.bins, offset: MIN_KEY, minKey: this.minKey, maxKey: this.maxKey, count: this.positives },
    };
  }
}

/** Count, sum and sum of squared deviations from the mean: what a mean and its variance need, mergeable. */
export interface Moments {
  count: number;
  sum: number;
  m2: number;
}

/**
 * A sketch's moments: count and sum exact, the squared deviations with each value read as its bin's
 * representative value (within α of the true one), around the exact mean.
 */
export function sketchMoments(data: SketchData): Moments {
  const n = data.zeroCount + data.store.count;
  if (n === 0) return { count: 0, sum: 0, m2: 0 };
  const mean = data.sum / n;
  let m2 = data.zeroCount * mean * mean;
  const store = data.store;
  for (let key = store.minKey; key <= store.maxKey; key++) {
    const count = store.bins[key - store.offset] ?? 0;
    if (count > 0) {
      const d = MAPPING.value(key) - mean;
      m2 += count * d * d;
    }
  }
  return { count: n, sum: data.sum, m2 };
}

/** Adds `m` to `into` (Chan et al.'s pairwise update of the squared deviations). */
export function addMoments(into: Moments, m: Moments): void {
  if (m.count === 0) return;
  if (into.count === 0) {
    into.count = m.count;
    into.sum = m.sum;
    into.m2 = m.m2;
    return;
  }
  const delta = m.sum / m.count - into.sum / into.count;
  into.m2 += m.m2 + (delta * delta * into.count * m.count) / (into.count + m.count);
  into.count += m.count;
  into.sum += m.sum;
}

/** Sample variance, or null under two values. */
export function momentsVariance(m: Moments): number | null {
  return m.count >= 2 ? m.m2 / (m.count - 1) : null;
}

/** Mean of the union of `sketches`, or null when empty. */
export function mergedMean(sketches: readonly SketchData[]): number | null {
  let count = 0;
  let sum = 0;
  for (const sketch of sketches) {
    count += sketch.count;
    sum += sketch.sum;
  }
  return count > 0 ? sum / count : null;
}
