/**
 * Quantiles of a classic Prometheus histogram read from its cumulative bucket counts, with
 * distribution-free confidence intervals, for comparing two ranges read from Prometheus.
 *
 * - The estimate is exactly what PromQL's histogram_quantile returns (Prometheus' bucketQuantile:
 *   rank q·n, linear interpolation inside the bucket that holds it, 0 as the first bucket's lower
 *   bound, the highest finite bound when the rank falls in +Inf).
 * - The interval is the order-statistic one, as in-app (compare-rows.ts's orderStatisticRanks):
 *   the q-quantile of n values lies between the values of ranks n·q ∓ z·√(n·q·(1−q)) (normal
 *   approximation to the binomial). A histogram only knows which bucket holds each rank, so the ranks are mapped to the
 *   bounds of their buckets: from the lower bound of the low rank's bucket to the upper bound of the
 *   high rank's. That keeps the interval's coverage whatever the values do inside a bucket (the
 *   interpolated estimate assumes they spread evenly); the price is intervals a bucket wide at least.
 * - Counts from increase() are extrapolated to the range's edges, so they need not be whole; they are
 *   used as they are.
 */
import { orderStatisticRanks } from './compare-rows.ts';

/** One cumulative bucket: the count of values ≤ `le` (seconds; Infinity for +Inf). */
export interface Bucket {
  le: number;
  count: number;
}

export interface BucketInterval {
  /** histogram_quantile's estimate; null without values. */
  value: number | null;
  low: number | null;
  /** null when the high rank falls in the +Inf bucket (no upper bound). */
  high: number | null;
  /** Both ranks inside the data and a finite upper bound: the interval has its stated coverage. */
  exact: boolean;
}

/** Prometheus' almostEqual with histogram_quantile's tolerance (1e-12): counts that differ by float noise only. */
function almostEqual(a: number, b: number, epsilon = 1e-12): boolean {
  const minNormal = 2.2250738585072014e-308;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/**
 * Buckets as histogram_quantile takes them: sorted by bound, same bounds merged (Prometheus 3 writes
 * "1.0" where 2 wrote "1"), counts made monotonic. Undefined without a +Inf bucket or with fewer
 * than two (histogram_quantile's NaN).
 */
export function cumulativeBuckets(samples: ReadonlyArray<{ le: string; count: number }>): Bucket[] | undefined {
  const byBound = new Map<number, number>();
  for (const s of samples) {
    const le = s.le === '+Inf' ? Infinity : Number(s.le);
    if (Number.isNaN(le) || !Number.isFinite(s.count)) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + s.count);
  }
  const buckets = [...byBound].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  if (buckets.length < 2 || buckets.at(-1)!.le !== Infinity) return undefined;
  // Prometheus' ensureMonotonicAndIgnoreSmallDeltas (since 2.46): a count that differs from the one
  // before by float noise of rate() sums is taken as equal, and a drop is raised to the one before.
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (b.count === prev) continue;
    if (almostEqual(prev, b.count) || b.count < prev) b.count = prev;
    else prev = b.count;
  }
  return buckets;
}

/** The buckets of bucket samples (`le` labelled), summed over every other label they carry: PromQL's `sum by (le)`. */
export function bucketsOfSamples(samples: ReadonlyArray<{ labels: Record<string, string>; value: number }>): Bucket[] | undefined {
  return cumulativeBuckets(samples.map((s) => ({ le: s.labels.le ?? '', count: s.value })));
}

export const bucketTotal = (buckets: readonly Bucket[]): number => buckets.at(-1)?.count ?? 0;

/** A histogram read from Prometheus over one range: its cumulative buckets (undefined: no series) and its _sum in seconds. */
export interface RangeHistogram {
  buckets: Bucket[] | undefined;
  sumS: number;
}

/** How many observations a range histogram holds (0 without series). */
export const countOf = (h: RangeHistogram | undefined): number => (h?.buckets ? bucketTotal(h.buckets) : 0);

/** The index of the first bucket whose cumulative count reaches `rank` (sort.Search as Prometheus does). */
function bucketOfRank(buckets: readonly Bucket[], rank: number): number {
  const i = buckets.findIndex((b) => b.count >= rank);
  return i < 0 ? buckets.length - 1 : i;
}

/** PromQL's histogram_quantile(q, …) over these buckets (seconds); null without values. */
export function bucketQuantile(buckets: readonly Bucket[], q: number): number | null {
  const n = bucketTotal(buckets);
  if (buckets.length < 2 || !(n > 0)) return null;
  let rank = q * n;
  const b = bucketOfRank(buckets, rank);
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.le;
  if (b === 0 && buckets[0]!.le <= 0) return buckets[0]!.le;
  let start = 0;
  let count = buckets[b]!.count;
  if (b > 0) {
    start = buckets[b - 1]!.le;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return start + (buckets[b]!.le - start) * (rank / count);
}

/** The estimate and its order-statistic interval at `z` (see the header), in seconds. */
export function bucketQuantileInterval(buckets: readonly Bucket[], q: number, z: number): BucketInterval {
  const n = bucketTotal(buckets);
  const value = bucketQuantile(buckets, q);
  if (value === null) return { value: null, low: null, high: null, exact: false };
  const ranks = orderStatisticRanks(n, q, z); // 1-based, as in-app
  const lowRank = ranks.low;
  const highRank = ranks.high;
  const lowBucket = bucketOfRank(buckets, Math.max(lowRank, Number.MIN_VALUE));
  const highBucket = bucketOfRank(buckets, Math.min(highRank, n));
  const low = lowBucket === 0 ? Math.min(0, buckets[0]!.le) : buckets[lowBucket - 1]!.le;
  const upper = buckets[highBucket]!.le;
  const high = Number.isFinite(upper) ? upper : null;
  return { value, low, high, exact: ranks.exact && high !== null };
}

/**
 * The variance of the values with each bucket's values at its midpoint (the +Inf bucket's at the
 * highest finite bound): enough for a Welch test of means whose sums are exact (from `_sum`).
 */
export function bucketVariance(buckets: readonly Bucket[], mean: number): number | null {
  const n = bucketTotal(buckets);
  if (!(n > 1)) return null;
  let squares = 0;
  let previous = { le: 0, count: 0 };
  for (const b of buckets) {
    const mid = Number.isFinite(b.le) ? (Math.min(previous.le, b.le) + b.le) / 2 : previous.le;
    squares += (b.count - previous.count) * (mid - mean) ** 2;
    previous = b;
  }
  return squares / (n - 1);
}
