/**
 * The statistics of `ofa-ve bench` and `bench compare`: nearest-rank quantiles (the step table's
 * figures), and percentile-bootstrap confidence intervals of quantiles and means of latency samples,
 * seeded so that a comparison prints the same figures every time.
 */
import { mulberry32 } from '../../../models/tools/seeded-random.ts';

/** The nearest-rank q-quantile of ascending values: the rank rule of the bench step table. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
}

/** `nearestRank` of ascending values, or null for none (a step where every request failed). */
export function quantile(sorted: ArrayLike<number>, q: number): number | null {
  return sorted.length === 0 ? null : nearestRank(sorted, q);
}

/** The nearest-rank median of values in any order, or null for none. */
export function median(values: readonly number[]): number | null {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export interface Interval {
  lo: number;
  hi: number;
}

/** A figure with its confidence interval. */
export interface Estimate {
  value: number;
  ci: Interval;
}

/** Bootstrap replicates: `iterations` values per quantile asked for, and of the mean. */
export interface Replicates {
  quantiles: Float64Array[];
  means: Float64Array;
}

/**
 * Replicates of the `qs` quantiles (nearest rank) and of the mean of each column, from `iterations`
 * resamples of the requests with replacement. Index i of every column is request i (null: it did
 * not report that figure), so a resample draws requests and every column of a request goes with
 * it: the end-to-end latency and the stages of a run are resampled together.
 *
 * A circular block bootstrap: each resample is made of blocks of `blockLength` consecutive
 * requests (1: the plain bootstrap). Requests next to each other in a bench step are not
 * independent (those answered in one batch share its inference time), and blocks keep that
 * dependence in the resamples, so the intervals are not narrower than the data allow.
 *
 * Each resample counts the drawn requests at their rank in each column's sorted values and reads
 * every quantile and the mean in one walk: O(n) per resample and column, no sort.
 */
export function bootstrapColumns(
  columns: ReadonlyArray<ReadonlyArray<number | null>>,
  qs: readonly number[],
  iterations: number,
  seed: number,
  blockLength = 1,
): Replicates[] {
  const n = columns[0]?.length ?? 0;
  const width = columns.length;
  if (n === 0 || columns.some((c) => c.length !== n)) throw new RangeError('bootstrap needs columns of one non-zero length');
  const block = Math.max(1, Math.min(n, Math.floor(blockLength)));
  const order = qs.map((_, i) => i).sort((a, b) => qs[a]! - qs[b]!);
  // Flat typed arrays, the hot loop's data: rankOf[request * width + column] is the request's rank
  // in that column's sorted values (-1: no value); a column's counts start at offsets[column].
  const rankOf = new Int32Array(n * width).fill(-1);
  const offsets = new Uint32Array(width + 1);
  const sorted: Float64Array[] = [];
  columns.forEach((column, c) => {
    const present = column.flatMap((v, i) => (v === null ? [] : [i])).sort((a, b) => column[a]! - column[b]!);
    present.forEach((request, rank) => (rankOf[request * width + c] = rank));
    sorted.push(Float64Array.from(present, (i) => column[i]!));
    offsets[c + 1] = offsets[c]! + present.length;
  });
  const counts = new Uint32Array(offsets[width]!);
  const drawnOf = new Uint32Array(width);
  const out: Replicates[] = columns.map(() => ({
    quantiles: qs.map(() => new Float64Array(iterations)),
    means: new Float64Array(iterations),
  }));
  const next = mulberry32(seed);
  for (let b = 0; b < iterations; b++) {
    counts.fill(0);
    drawnOf.fill(0);
    for (let drawn = 0; drawn < n;) {
      const start = Math.floor((next() / 4294967296) * n);
      for (let k = 0; k < block && drawn < n; k++, drawn++) {
        const base = ((start + k) % n) * width;
        for (let c = 0; c < width; c++) {
          const rank = rankOf[base + c]!;
          if (rank >= 0) {
            counts[offsets[c]! + rank]! += 1;
            drawnOf[c]! += 1;
          }
        }
      }
    }
    for (let c = 0; c < width; c++) {
      readResample(counts.subarray(offsets[c]!, offsets[c + 1]!), drawnOf[c]!, sorted[c]!, order, qs, out[c]!, b);
    }
  }
  return out;
}

/** One resample's quantiles and mean from its counts over `sorted` (NaN when it drew no value). */
function readResample(
  counts: Uint32Array,
  drawn: number,
  sorted: Float64Array,
  order: readonly number[],
  qs: readonly number[],
  out: Replicates,
  b: number,
): void {
  if (drawn === 0) {
    for (const q of out.quantiles) q[b] = NaN;
    out.means[b] = NaN;
    return;
  }
  const rankAt = (k: number) => Math.min(drawn, Math.max(1, Math.ceil(qs[order[k]!]! * drawn)));
  let seen = 0;
  let sum = 0;
  let k = 0;
  let rank = rankAt(0);
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j]!;
    if (c === 0) continue;
    sum += c * sorted[j]!;
    seen += c;
    while (k < order.length && seen >= rank) {
      out.quantiles[order[k]!]![b] = sorted[j]!;
      k += 1;
      if (k < order.length) rank = rankAt(k);
    }
  }
  out.means[b] = sum / drawn;
}

/** `bootstrapColumns` of one column. */
export function bootstrap(values: readonly number[], qs: readonly number[], iterations: number, seed: number, blockLength = 1): Replicates {
  return bootstrapColumns([values], qs, iterations, seed, blockLength)[0]!;
}

/** The central `confidence` interval of replicates (percentile method); NaN replicates are left out. */
export function percentileInterval(replicates: ArrayLike<number>, confidence: number): Interval {
  const sorted = Float64Array.from(replicates)
    .filter((v) => !Number.isNaN(v))
    .sort();
  if (sorted.length === 0) return { lo: NaN, hi: NaN };
  const tail = (1 - confidence) / 2;
  const last = sorted.length - 1;
  return {
    lo: sorted[Math.min(last, Math.floor(tail * sorted.length))]!,
    hi: sorted[Math.max(0, Math.min(last, Math.ceil((1 - tail) * sorted.length) - 1))]!,
  };
}

/** Replicates combined pairwise: resamples of two runs are independent, so any pairing is one. */
export function combine(a: Float64Array, b: Float64Array, f: (a: number, b: number) => number): Float64Array {
  const out = new Float64Array(Math.min(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = f(a[i]!, b[i]!);
  return out;
}

/** An interval that lies wholly on one side of zero. */
export function excludesZero(ci: Interval): boolean {
  return ci.lo > 0 || ci.hi < 0;
}
