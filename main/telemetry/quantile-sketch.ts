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
 * what `getValueAtQuantile` would on a correctly merged sketch (same rank rule, same bin values).
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
 * exactly its occupied bin range as a Uint32Array: well under half the memory of the DDSketch's
 * chunked plain array of 8-byte slots, and nothing for the garbage collector to scan. Adding to a frozen sketch thaws
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

const EMPTY_SKETCH: SketchData = { zeroCount: 0, count: 0, sum: 0, store: { bins: NO_BINS, offset: 0, minKey: Infinity, maxKey: -Infinity, count: 0 } };

function freeze(sketch: DDSketch): SketchData {
  const store = sketch.store;
  let bins: Uint32Array = NO_BINS;
  if (store.count > 0) {
    bins = new Uint32Array(store.maxKey - store.minKey + 1);
    const from = store.minKey - store.offset;
    for (let i = 0; i < bins.length; i++) bins[i] = store.bins[from + i] ?? 0;
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
 * Quantiles of the union of `sketches` (values recorded through `acceptDuration`, so never negative),
 * equal to `getValueAtQuantile` on the merged sketch: rank q·(n−1), the lower bin at that rank, the
 * bin's representative value. `qs` must be ascending. Nulls when the sketches hold no values.
 */
export function mergedQuantiles(sketches: readonly SketchData[], qs: readonly number[]): Array<number | null> {
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
  if (total === 0) return qs.map(() => null);
  if (positives === 0) return qs.map(() => 0);

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
  for (const q of qs) {
    const rank = q * (total - 1);
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
