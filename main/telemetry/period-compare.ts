/**
 * Compare two periods: per stage (end to end and each stage) and, for one input attribute, per
 * slice: P50/P90/P99 and the mean of each period with confidence intervals, their differences,
 * whether each difference is significant, and what explains the change. Pure computation over
 * summed sketches (`PeriodTotals`); LiveStats gathers the periods.
 *
 * Method (also in every result's `method`):
 * - Quantile intervals are distribution-free, from order statistics: the q-quantile of n values lies
 *   between the values of ranks n·q ∓ z·√(n·q·(1−q)) (normal approximation to the binomial), read
 *   from the sketch's rank function and widened by its relative accuracy α (each value read is within
 *   α of the exact order statistic). Sketches are mergeable, so this works over any period.
 * - A quantile difference is tested as Price & Bonett (2002) do for medians: each period's standard
 *   error is its interval's width / 2z, the difference's is √(se_a² + se_b²). Means: Welch's z on the
 *   sketch's variance (bins at their representative values) and exact sums. Over the history a
 *   slice's stages have moments, not sketches (minute-history.ts): their means are tested, their
 *   quantiles are not there (null).
 * - One comparison runs many tests (stages × P50/P90/P99/mean × slices), so significance is
 *   family-wise: Bonferroni, 5% over all of them (z for 0.05 / 2m). The difference intervals shown
 *   are those adjusted intervals (significant ⇔ the interval excludes 0); each period's own
 *   intervals are 95%. A quantile whose interval needs ranks beyond the data (P99 of a few hundred
 *   values) is not tested. Requests are taken as independent: queueing makes neighbours alike, so
 *   a short period's intervals are optimistic.
 * - What explains the change: mean latency is the stage means plus an untimed remainder, so each
 *   stage's share of the end-to-end mean change is its mean change over that change; stages are
 *   listed by share, largest first. Per slice, the change of the overall mean splits exactly into
 *   slice contributions w_b·m_b − w_a·m_a (w: the slice's share of successful checks, m: its mean),
 *   each split (shift-share) into a change within the slice, w̄·Δm, and a change of mix, m̄·Δw.
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
import { sliceValues, SLICE_ATTRIBUTES } from './input-slices.ts';
import type { CellSummary, CellTotals, Distribution, PeriodTotals } from './period-totals.ts';
import { mergedValuesAtRanks, momentsVariance, RELATIVE_ACCURACY, type SketchData } from './quantile-sketch.ts';

export const COMPARED_QUANTILES = [0.5, 0.9, 0.99] as const;
/** Each period's own intervals. */
export const INTERVAL_CONFIDENCE = 0.95;
/** The chance of calling anything significant in a comparison of two periods from one distribution. */
export const FAMILY_ERROR_RATE = 0.05;
/** Fewer values than this: the mean is not tested (its normal approximation is not to be trusted). */
export const MIN_VALUES_FOR_MEAN_TEST = 30;

export const COMPARISON_METHOD =
  'quantile intervals: distribution-free order-statistic ranks n·q ∓ z·√(n·q·(1−q)) read from the sketches, widened by their ' +
  `relative accuracy (${RELATIVE_ACCURACY}); differences: Price–Bonett standard errors (interval width / 2z) for quantiles, ` +
  `Welch z for means; significance family-wise at ${FAMILY_ERROR_RATE} (Bonferroni over all tests of the comparison), ` +
  'difference intervals are the adjusted ones; requests taken as independent';

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

const countOf = (data: SketchData | null): number => (data ? data.zeroCount + data.store.count : 0);
const valuesOf = (d: Distribution | null): number => d?.moments.count ?? 0;

interface Interval {
  value: number | null;
  low: number | null;
  high: number | null;
  /** The ranks fell inside the data (no clamping): the interval has its stated coverage. */
  exact: boolean;
}

/**
 * The q-quantile (rank q·(n−1), as the dashboard reads it) and its distribution-free interval at
 * `z`, widened by the sketch's relative accuracy.
 */
export function quantileInterval(data: SketchData | null, q: number, z: number): Interval {
  const n = countOf(data);
  if (!data || n === 0) return { value: null, low: null, high: null, exact: false };
  const spread = z * Math.sqrt(n * q * (1 - q));
  const lower = Math.floor(n * q - spread); // 1-based ranks
  const upper = Math.ceil(n * q + spread);
  const exact = lower >= 1 && upper <= n;
  const clamp = (rank: number) => Math.min(n - 1, Math.max(0, rank - 1));
  const ranks = [clamp(lower), q * (n - 1), clamp(upper)].sort((x, y) => x - y);
  const [lowValue, value, highValue] = mergedValuesAtRanks([data], ranks) as [number, number, number];
  return { value, low: lowValue / (1 + RELATIVE_ACCURACY), high: highValue / (1 - RELATIVE_ACCURACY), exact };
}

function meanOf(d: Distribution | null): number | null {
  return d && d.moments.count > 0 ? d.moments.sum / d.moments.count : null;
}

function compareMeans(a: Distribution | null, b: Distribution | null, z: number): MeanChange {
  const aMs = meanOf(a);
  const bMs = meanOf(b);
  const difference = aMs !== null && bMs !== null ? bMs - aMs : null;
  const na = valuesOf(a);
  const nb = valuesOf(b);
  const testable = difference !== null && na >= MIN_VALUES_FOR_MEAN_TEST && nb >= MIN_VALUES_FOR_MEAN_TEST;
  if (!testable) {
    return { a_ms: aMs, b_ms: bMs, difference_ms: difference, low_ms: null, high_ms: null, testable: false, significant: false };
  }
  const se = Math.sqrt((momentsVariance(a!.moments) ?? 0) / na + (momentsVariance(b!.moments) ?? 0) / nb);
  const half = z * se;
  return {
    a_ms: aMs,
    b_ms: bMs,
    difference_ms: difference,
    low_ms: difference! - half,
    high_ms: difference! + half,
    testable: true,
    significant: Math.abs(difference!) > half,
  };
}

function compareQuantile(a: SketchData | null, b: SketchData | null, q: number, zShown: number, zTest: number): QuantileChange {
  const shownA = quantileInterval(a, q, zShown);
  const shownB = quantileInterval(b, q, zShown);
  const estimate = (i: Interval): QuantileEstimate => ({ value_ms: i.value, low_ms: i.low, high_ms: i.high });
  const difference = shownA.value !== null && shownB.value !== null ? shownB.value - shownA.value : null;
  const change: QuantileChange = {
    quantile: q,
    a: estimate(shownA),
    b: estimate(shownB),
    difference_ms: difference,
    low_ms: null,
    high_ms: null,
    testable: false,
    significant: false,
  };
  if (difference === null) return change;
  const testA = quantileInterval(a, q, zTest);
  const testB = quantileInterval(b, q, zTest);
  if (!testA.exact || !testB.exact) return change;
  const seA = (testA.high! - testA.low!) / (2 * zTest);
  const seB = (testB.high! - testB.low!) / (2 * zTest);
  const half = zTest * Math.sqrt(seA * seA + seB * seB);
  change.low_ms = difference - half;
  change.high_ms = difference + half;
  change.testable = true;
  change.significant = Math.abs(difference) > half;
  return change;
}

function compareStage(stage: ComparedStage, a: Distribution | null, b: Distribution | null, zShown: number, zTest: number): StageChange {
  const mean = compareMeans(a, b, zTest);
  const quantiles = COMPARED_QUANTILES.map((q) => compareQuantile(a?.sketch ?? null, b?.sketch ?? null, q, zShown, zTest));
  return {
    stage,
    count_a: valuesOf(a),
    count_b: valuesOf(b),
    mean,
    quantiles,
    share_of_change: null,
    significant: mean.significant || quantiles.some((c) => c.significant),
  };
}

interface CellComparison {
  endToEnd: StageChange;
  stages: StageChange[];
  untimed: PeriodComparison['untimed'];
  /** The stage (or untimed) with the largest share of the cell's mean change, when there is a change. */
  top: { stage: StageName | 'untimed'; share: number } | null;
}

function untimedMean(cell: CellSummary): number | null {
  const total = meanOf(cell.latency);
  if (total === null) return null;
  let stages = 0;
  for (const stage of cell.stages) stages += meanOf(stage) ?? 0;
  return total - stages;
}

function compareCell(a: CellSummary, b: CellSummary, zShown: number, zTest: number): CellComparison {
  const endToEnd = compareStage('end_to_end', a.latency, b.latency, zShown, zTest);
  const total = endToEnd.mean.difference_ms;
  const hasChange = total !== null && total !== 0;
  endToEnd.share_of_change = hasChange ? 1 : null;
  const stages = STAGE_NAMES.map((stage, i) => {
    const change = compareStage(stage, a.stages[i] ?? null, b.stages[i] ?? null, zShown, zTest);
    const d = change.mean.difference_ms;
    change.share_of_change = hasChange ? (d ?? 0) / total : null;
    return change;
  });
  const untimedA = untimedMean(a);
  const untimedB = untimedMean(b);
  const untimedDifference = untimedA !== null && untimedB !== null ? untimedB - untimedA : null;
  const untimed = {
    a_ms: untimedA,
    b_ms: untimedB,
    difference_ms: untimedDifference,
    share_of_change: hasChange && untimedDifference !== null ? untimedDifference / total : null,
  };
  // Largest share first; without a change, the largest mean difference first.
  const key = (c: StageChange) => (hasChange ? (c.share_of_change ?? 0) : Math.abs(c.mean.difference_ms ?? 0));
  stages.sort((x, y) => key(y) - key(x));
  let top: CellComparison['top'] = null;
  if (hasChange) {
    const first = stages[0]!;
    top = { stage: first.stage as StageName, share: first.share_of_change ?? 0 };
    if (untimed.share_of_change !== null && untimed.share_of_change > top.share) top = { stage: 'untimed', share: untimed.share_of_change };
  }
  return { endToEnd, stages, untimed, top };
}

function rates(cell: { requests: number; clientErrors: number; serverErrors: number }): { error_rate: number; client_error_rate: number } {
  return {
    error_rate: cell.requests > cell.clientErrors ? cell.serverErrors / (cell.requests - cell.clientErrors) : 0,
    client_error_rate: cell.requests > 0 ? cell.clientErrors / cell.requests : 0,
  };
}

/** What LiveStats says of each period besides its totals. */
export interface RangeSpan {
  fromMs: number;
  /** Exclusive. */
  toMs: number;
  resolutionSeconds: number;
}

const EMPTY_CELL: CellSummary = { requests: 0, clientErrors: 0, serverErrors: 0, latency: null, stages: STAGE_NAMES.map(() => null) };

/**
 * Compares period b with period a (differences are b − a). `attribute`: the SLICE_ATTRIBUTES index
 * whose slices to compare (the totals must have summed it), or undefined for none.
 */
export function comparePeriods(
  a: { totals: PeriodTotals; span: RangeSpan },
  b: { totals: PeriodTotals; span: RangeSpan },
  attribute?: number,
): PeriodComparison {
  const overallA = a.totals.overall.summary();
  const overallB = b.totals.overall.summary();
  const sliceNames = attribute === undefined ? [] : sliceValues(attribute);
  const sliceCells: Array<{ slice: string; a: CellTotals | null; b: CellTotals | null }> = [];
  for (let v = 0; v < sliceNames.length; v++) {
    const cellA = a.totals.slices[attribute!]![v] ?? null;
    const cellB = b.totals.slices[attribute!]![v] ?? null;
    if ((cellA?.requests ?? 0) + (cellB?.requests ?? 0) > 0) sliceCells.push({ slice: sliceNames[v]!, a: cellA, b: cellB });
  }
  // The family: every test of every cell with successful checks in both periods.
  const testsPerCell = (1 + STAGE_NAMES.length) * (COMPARED_QUANTILES.length + 1);
  const both = (x: CellTotals | null, y: CellTotals | null) => countOf(x?.latency ?? null) > 0 && countOf(y?.latency ?? null) > 0;
  const cells = 1 + sliceCells.filter((c) => both(c.a, c.b)).length;
  const tests = testsPerCell * cells;
  const zShown = normalQuantile(1 - (1 - INTERVAL_CONFIDENCE) / 2);
  const zTest = normalQuantile(1 - FAMILY_ERROR_RATE / (2 * tests));

  const overall = compareCell(overallA, overallB, zShown, zTest);
  const endToEndChanged = overall.endToEnd.significant;
  const range = (totals: PeriodTotals, span: RangeSpan): ComparedRange => ({
    from: new Date(span.fromMs).toISOString(),
    to: new Date(span.toMs).toISOString(),
    resolution_s: span.resolutionSeconds,
    requests: totals.overall.requests,
    successes: countOf(totals.overall.latency),
    ...rates(totals.overall),
  });

  const result: PeriodComparison = {
    a: range(a.totals, a.span),
    b: range(b.totals, b.span),
    interval_confidence: INTERVAL_CONFIDENCE,
    family_error_rate: FAMILY_ERROR_RATE,
    tests,
    method: COMPARISON_METHOD,
    end_to_end: overall.endToEnd,
    stages: overall.stages,
    untimed: overall.untimed,
    explained_by: endToEndChanged && overall.top ? { stage: overall.top.stage, share_of_change: overall.top.share } : null,
    slices: null,
  };
  if (attribute === undefined) return result;

  const totalA = valuesOf(overallA.latency);
  const totalB = valuesOf(overallB.latency);
  const overallChange = overall.endToEnd.mean.difference_ms ?? 0;
  const slices = sliceCells.map(({ slice, a: cellA, b: cellB }): SliceChange & { top: CellComparison['top'] } => {
    const x = cellA?.summary() ?? EMPTY_CELL;
    const y = cellB?.summary() ?? EMPTY_CELL;
    const compared = compareCell(x, y, zShown, zTest);
    const wA = totalA > 0 ? valuesOf(x.latency) / totalA : 0;
    const wB = totalB > 0 ? valuesOf(y.latency) / totalB : 0;
    const mA = meanOf(x.latency);
    const mB = meanOf(y.latency);
    const contribution = wB * (mB ?? 0) - wA * (mA ?? 0);
    // Shift-share: within = w̄·Δm, mix = m̄·Δw (they add up to the contribution); a slice absent from a period is all mix.
    const within = mA !== null && mB !== null ? ((wA + wB) / 2) * (mB - mA) : 0;
    const side = (cell: CellSummary) => ({
      requests: cell.requests,
      successes: valuesOf(cell.latency),
      error_rate: rates(cell).error_rate,
    });
    return {
      slice,
      a: side(x),
      b: side(y),
      end_to_end: compared.endToEnd,
      stages: compared.stages,
      contribution_ms: contribution,
      within_ms: within,
      mix_ms: contribution - within,
      significant: compared.endToEnd.significant || compared.stages.some((s) => s.significant),
      top: compared.top,
    };
  });
  // In the direction of the overall change, largest part first.
  const direction = overallChange < 0 ? -1 : 1;
  slices.sort((x, y) => direction * (y.contribution_ms - x.contribution_ms));
  let cause: SliceCause | null = null;
  const first = slices[0];
  if (result.explained_by && first && overallChange !== 0) {
    const kind = Math.abs(first.within_ms) >= Math.abs(first.mix_ms) ? 'within' : 'mix';
    cause = {
      slice: first.slice,
      kind,
      stage: kind === 'within' ? (first.top?.stage ?? null) : null,
      contribution_ms: first.contribution_ms,
      share_of_change: first.contribution_ms / overallChange,
      significant: first.significant,
    };
  }
  result.slices = {
    attribute: SLICE_ATTRIBUTES[attribute]!,
    slices: slices.map(({ top: _top, ...slice }) => slice),
    cause,
  };
  return result;
}
