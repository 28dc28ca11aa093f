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
  type MeanChange,
  type PeriodComparison,
  type QuantileChange,
  type QuantileEstimate,
} from '../../preload/wire-types.ts';
import * as compare from './compare-rows.ts';
import { sliceValues, SLICE_ATTRIBUTES } from './input-slices.ts';
import type { CellSummary, CellTotals, Distribution, PeriodTotals } from './period-totals.ts';
import { mergedValuesAtRanks, momentsVariance, quantileRank, RELATIVE_ACCURACY, type SketchData } from './quantile-sketch.ts';

export const COMPARISON_METHOD =
  'quantile intervals: distribution-free order-statistic ranks n·q ∓ z·√(n·q·(1−q)) read from the sketches, widened by their ' +
  `relative accuracy (${RELATIVE_ACCURACY}); differences: Price–Bonett standard errors (interval width / 2z) for quantiles, ` +
  `Welch z for means; significance family-wise at ${compare.FAMILY_ERROR_RATE} (Bonferroni over all tests of the comparison), ` +
  'difference intervals are the adjusted ones; requests taken as independent';

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
 * The q-quantile (quantileRank, as the dashboard reads it) and its distribution-free interval at
 * `z`, widened by the sketch's relative accuracy.
 */
export function quantileInterval(data: SketchData | null, q: number, z: number): Interval {
  const n = countOf(data);
  if (!data || n === 0) return { value: null, low: null, high: null, exact: false };
  const { low: lower, high: upper, exact } = compare.orderStatisticRanks(n, q, z);
  const clamp = (rank: number) => Math.min(n - 1, Math.max(0, rank - 1));
  const ranks = [clamp(lower), quantileRank(q, n), clamp(upper)].sort((x, y) => x - y);
  const [lowValue, value, highValue] = mergedValuesAtRanks([data], ranks) as [number, number, number];
  return { value, low: lowValue / (1 + RELATIVE_ACCURACY), high: highValue / (1 - RELATIVE_ACCURACY), exact };
}

function meanOf(d: Distribution | null): number | null {
  return d && d.moments.count > 0 ? d.moments.sum / d.moments.count : null;
}

const figureSide = (d: Distribution | null) => ({ count: valuesOf(d), meanMs: meanOf(d) });

/** The in-app figures: summed sketches and exact moments (ms); a stage over the history has no sketch. */
const SKETCHES: compare.FigureComparer<Distribution | null> = {
  count: valuesOf,
  mean: (a, b, z): MeanChange =>
    compare.meanChange(figureSide(a), figureSide(b), z, () => [momentsVariance(a!.moments) ?? 0, momentsVariance(b!.moments) ?? 0]),
  quantile(a, b, q, zShown, zTest): QuantileChange {
    const [sketchA, sketchB] = [a?.sketch ?? null, b?.sketch ?? null];
    const estimate = (i: Interval): QuantileEstimate => ({ value_ms: i.value, low_ms: i.low, high_ms: i.high });
    return compare.quantileChange(
      q,
      estimate(quantileInterval(sketchA, q, zShown)),
      estimate(quantileInterval(sketchB, q, zShown)),
      (difference) => {
        // Price–Bonett: each period's standard error is its interval's width / 2z.
        const testA = quantileInterval(sketchA, q, zTest);
        const testB = quantileInterval(sketchB, q, zTest);
        if (!testA.exact || !testB.exact) return null;
        const seA = (testA.high! - testA.low!) / (2 * zTest);
        const seB = (testB.high! - testB.low!) / (2 * zTest);
        const half = zTest * Math.sqrt(seA * seA + seB * seB);
        return { low_ms: difference - half, high_ms: difference + half };
      },
    );
  },
};

function compareCell(a: CellSummary, b: CellSummary, zShown: number, zTest: number): compare.ChangeSplit {
  const endToEnd = compare.compareStage('end_to_end', a.latency, b.latency, SKETCHES, zShown, zTest);
  const stages = STAGE_NAMES.map((stage, i) =>
    compare.compareStage(stage, a.stages[i] ?? null, b.stages[i] ?? null, SKETCHES, zShown, zTest),
  );
  const untimed = (cell: CellSummary) => compare.untimedMean(meanOf(cell.latency), cell.stages.map(meanOf));
  return compare.splitChange(endToEnd, stages, untimed(a), untimed(b));
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
  const both = (x: CellTotals | null, y: CellTotals | null) => countOf(x?.latency ?? null) > 0 && countOf(y?.latency ?? null) > 0;
  const cells = 1 + sliceCells.filter((c) => both(c.a, c.b)).length;
  const tests = compare.TESTS_PER_CELL * cells;
  const { zShown, zTest } = compare.intervalZ(tests);

  const overall = compareCell(overallA, overallB, zShown, zTest);
  const range = (totals: PeriodTotals, span: RangeSpan): ComparedRange => ({
    from: new Date(span.fromMs).toISOString(),
    to: new Date(span.toMs).toISOString(),
    resolution_s: span.resolutionSeconds,
    requests: totals.overall.requests,
    successes: countOf(totals.overall.latency),
    ...compare.errorRates(totals.overall),
  });

  const result = compare.periodComparison(range(a.totals, a.span), range(b.totals, b.span), tests, COMPARISON_METHOD, overall);
  if (attribute === undefined) return result;

  const totalA = valuesOf(overallA.latency);
  const totalB = valuesOf(overallB.latency);
  const overallChange = overall.endToEnd.mean.difference_ms;
  const slices = sliceCells.map(({ slice, a: cellA, b: cellB }): compare.RankedSlice => {
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
      error_rate: compare.errorRates(cell).error_rate,
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
      top: compared.top?.stage ?? null,
    };
  });
  const ranked = compare.rankSlices(slices, overallChange, result.explained_by !== null);
  result.slices = { attribute: SLICE_ATTRIBUTES[attribute]!, ...ranked };
  return result;
}
