/**
 * The rows of a PeriodComparison that do not depend on where the figures come from: the in-app
 * sketches (period-compare.ts) and the Prometheus histograms (prometheus-compare.ts) each read a
 * period's count, mean, variance and quantile intervals their own way, and build the same stage
 * rows, mean and quantile changes and split of the change among the stages here.
 */
import {
  STAGE_NAMES,
  type ComparedRange,
  type ComparedStage,
  type MeanChange,
  type PeriodComparison,
  type QuantileChange,
  type QuantileEstimate,
  type SliceCause,
  type SliceChange,
  type StageChange,
  type StageName,
} from '../../preload/wire-types.ts';

export const COMPARED_QUANTILES = [0.5, 0.9, 0.99] as const;
/** Each period's own intervals. */
export const INTERVAL_CONFIDENCE = 0.95;
/** The chance of calling anything significant in a comparison of two periods from one distribution. */
export const FAMILY_ERROR_RATE = 0.05;
/** Fewer values than this: the mean is not tested (its normal approximation is not to be trusted). */
export const MIN_VALUES_FOR_MEAN_TEST = 30;
/** The tests of one cell (end to end and each stage): each compared quantile and the mean. */
export const TESTS_PER_CELL = (1 + STAGE_NAMES.length) * (COMPARED_QUANTILES.length + 1);

/** Φ⁻¹(p): Acklam's rational approximation (relative error < 1.2e-9), enough for interval ranks. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must lie in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    const numerator = ((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!;
    return numerator / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/** The z of each period's own intervals, and the family-wise (Bonferroni) z of `tests` tests. */
export function intervalZ(tests: number): { zShown: number; zTest: number } {
  return { zShown: normalQuantile(1 - (1 - INTERVAL_CONFIDENCE) / 2), zTest: normalQuantile(1 - FAMILY_ERROR_RATE / (2 * tests)) };
}

/** Server errors over the answers that were not the client's fault, and client errors over all. */
export function errorRates(cell: { requests: number; clientErrors: number; serverErrors: number }): {
  error_rate: number;
  client_error_rate: number;
} {
  return {
    error_rate: cell.requests > cell.clientErrors ? cell.serverErrors / (cell.requests - cell.clientErrors) : 0,
    client_error_rate: cell.requests > 0 ? cell.clientErrors / cell.requests : 0,
  };
}

/** One figure (end to end or a stage) of one period, as its source reads it. */
export interface FigureSide {
  count: number;
  meanMs: number | null;
}

/**
 * Welch's z test of b's mean against a's at `z`. `variancesMs2` gives both periods' variances (ms²),
 * or null when a source cannot tell them; it is asked only when both periods have enough values.
 */
export function meanChange(a: FigureSide, b: FigureSide, z: number, variancesMs2: () => [number, number] | null): MeanChange {
  const difference = a.meanMs !== null && b.meanMs !== null ? b.meanMs - a.meanMs : null;
  const untested = {
    a_ms: a.meanMs,
    b_ms: b.meanMs,
    difference_ms: difference,
    low_ms: null,
    high_ms: null,
    testable: false,
    significant: false,
  };
  if (difference === null || a.count < MIN_VALUES_FOR_MEAN_TEST || b.count < MIN_VALUES_FOR_MEAN_TEST) return untested;
  const variances = variancesMs2();
  if (!variances) return untested;
  const half = z * Math.sqrt(variances[0] / a.count + variances[1] / b.count);
  return { ...untested, low_ms: difference - half, high_ms: difference + half, testable: true, significant: Math.abs(difference) > half };
}

/**
 * The change of quantile q between the two periods' estimates. `testInterval` gives the adjusted
 * difference interval, or null when the quantile cannot be tested; asked only when both have a value.
 */
export function quantileChange(
  q: number,
  a: QuantileEstimate,
  b: QuantileEstimate,
  testInterval: (differenceMs: number) => { low_ms: number; high_ms: number } | null,
): QuantileChange {
  const difference = a.value_ms !== null && b.value_ms !== null ? b.value_ms - a.value_ms : null;
  const change: QuantileChange = {
    quantile: q,
    a,
    b,
    difference_ms: difference,
    low_ms: null,
    high_ms: null,
    testable: false,
    significant: false,
  };
  const tested = difference === null ? null : testInterval(difference);
  if (!tested) return change;
  // Significant ⇔ the adjusted interval excludes 0.
  return { ...change, ...tested, testable: true, significant: tested.low_ms > 0 || tested.high_ms < 0 };
}

/** How a source compares one figure of its own kind `F` between the periods. */
export interface FigureComparer<F> {
  count(figure: F): number;
  mean(a: F, b: F, zTest: number): MeanChange;
  quantile(a: F, b: F, q: number, zShown: number, zTest: number): QuantileChange;
}

/** The row of one stage (or end to end): counts, the mean and each compared quantile. */
export function compareStage<F>(stage: ComparedStage, a: F, b: F, comparer: FigureComparer<F>, zShown: number, zTest: number): StageChange {
  const mean = comparer.mean(a, b, zTest);
  const quantiles = COMPARED_QUANTILES.map((q) => comparer.quantile(a, b, q, zShown, zTest));
  return {
    stage,
    count_a: comparer.count(a),
    count_b: comparer.count(b),
    mean,
    quantiles,
    share_of_change: null,
    significant: mean.significant || quantiles.some((c) => c.significant),
  };
}

/** The mean latency no stage timed: the end-to-end mean less the stages' means. */
export function untimedMean(totalMs: number | null, stageMeansMs: Iterable<number | null>): number | null {
  if (totalMs === null) return null;
  let stages = 0;
  for (const mean of stageMeansMs) stages += mean ?? 0;
  return totalMs - stages;
}

export interface ChangeSplit {
  endToEnd: StageChange;
  /** Largest share of the mean change first; without a change, the largest mean difference first. */
  stages: StageChange[];
  untimed: PeriodComparison['untimed'];
  /** The stage (or untimed) with the largest share of the mean change, when there is a change. */
  top: { stage: StageName | 'untimed'; share: number } | null;
}

/**
 * Splits the end-to-end mean change among the stages and the untimed rest (mean latency is the
 * stage means plus that rest): each one's share is its mean change over the end-to-end one.
 */
export function splitChange(endToEnd: StageChange, stages: StageChange[], untimedA: number | null, untimedB: number | null): ChangeSplit {
  const total = endToEnd.mean.difference_ms;
  const hasChange = total !== null && total !== 0;
  const share = (d: number | null) => (hasChange ? (d ?? 0) / total : null);
  const rows = stages.map((s) => ({ ...s, share_of_change: share(s.mean.difference_ms) }));
  const key = (c: StageChange) => (hasChange ? (c.share_of_change ?? 0) : Math.abs(c.mean.difference_ms ?? 0));
  rows.sort((x, y) => key(y) - key(x));
  const untimedDifference = untimedA !== null && untimedB !== null ? untimedB - untimedA : null;
  const untimed = {
    a_ms: untimedA,
    b_ms: untimedB,
    difference_ms: untimedDifference,
    share_of_change: untimedDifference === null ? null : share(untimedDifference),
  };
  let top: ChangeSplit['top'] = null;
  if (hasChange) {
    const first = rows[0]!;
    top = { stage: first.stage as StageName, share: first.share_of_change ?? 0 };
    if (untimed.share_of_change !== null && untimed.share_of_change > top.share) top = { stage: 'untimed', share: untimed.share_of_change };
  }
  return { endToEnd: { ...endToEnd, share_of_change: hasChange ? 1 : null }, stages: rows, untimed, top };
}

/** The comparison of the whole of two periods (no slices); the stage that explains the change only when it is significant. */
export function periodComparison(a: ComparedRange, b: ComparedRange, tests: number, method: string, split: ChangeSplit): PeriodComparison {
  return {
    a,
    b,
    interval_confidence: INTERVAL_CONFIDENCE,
    family_error_rate: FAMILY_ERROR_RATE,
    tests,
    method,
    end_to_end: split.endToEnd,
    stages: split.stages,
    untimed: split.untimed,
    explained_by: split.endToEnd.significant && split.top ? { stage: split.top.stage, share_of_change: split.top.share } : null,
    slices: null,
  };
}

/** A slice's row, its parts as computed, and the stage (or untimed) with the largest share of its own change, if any. */
export type RankedSlice = Omit<SliceChange, 'contribution_ms' | 'within_ms' | 'mix_ms'> & {
  contribution_ms: number;
  within_ms: number;
  mix_ms: number;
  top: StageName | 'untimed' | null;
};

/**
 * The slices in the direction of the overall mean change (`changeMs`), largest part first, and the
 * first named as the cause when the change is explained: within the slice (and which of its stages)
 * or from its share of the checks (mix), whichever part is larger. `changeMs` null (a period without
 * successful checks): no change, so no parts; the slices keep their order.
 */
export function rankSlices(
  ranked: RankedSlice[],
  changeMs: number | null,
  explained: boolean,
): { slices: SliceChange[]; cause: SliceCause | null } {
  if (changeMs === null) {
    return {
      slices: ranked.map(({ top: _top, ...slice }) => ({ ...slice, contribution_ms: null, within_ms: null, mix_ms: null })),
      cause: null,
    };
  }
  const direction = changeMs < 0 ? -1 : 1;
  const sorted = [...ranked].sort((x, y) => direction * (y.contribution_ms - x.contribution_ms));
  const first = sorted[0];
  let cause: SliceCause | null = null;
  if (explained && first && changeMs !== 0) {
    const kind = Math.abs(first.within_ms) >= Math.abs(first.mix_ms) ? 'within' : 'mix';
    cause = {
      slice: first.slice,
      kind,
      stage: kind === 'within' ? first.top : null,
      contribution_ms: first.contribution_ms,
      share_of_change: first.contribution_ms / changeMs,
      significant: first.significant,
    };
  }
  return { slices: sorted.map(({ top: _top, ...slice }) => slice), cause };
}

/** The 1-based ranks bounding the q-quantile of n values at `z`; `exact`: both inside the data (1 … n). */
export interface RankInterval {
  low: number;
  high: number;
  exact: boolean;
}

/**
 * The order-statistic interval of the q-quantile of n values: between the values of ranks
 * n·q ∓ z·√(n·q·(1−q)) (normal approximation to the binomial), widened outwards to whole ranks.
 * The one rule for every quantile interval: the sketches' in period-compare.ts, the Prometheus
 * buckets' in prometheus-buckets.ts (n need not be whole there: increase() extrapolates).
 */
export function orderStatisticRanks(n: number, q: number, z: number): RankInterval {
  const spread = z * Math.sqrt(n * q * (1 - q));
  const low = Math.floor(n * q - spread);
  const high = Math.ceil(n * q + spread);
  return { low, high, exact: low >= 1 && high <= n };
}
