/**
 * The caption-script slices of a comparison read from Prometheus (`GET /api/v1/compare?source=
 * prometheus&attribute=caption_script`). The stage histogram's `script` label (service-metrics.ts
 * STAGE_SCRIPT_LABELS, the in-app caption_script values) is the only input slice Prometheus has,
 * so caption_script is the only attribute it can compare. Per script: each stage's buckets
 * `sum by (le, stage, script)` and sums, compared as the whole comparison's stages are. The
 * end-to-end histogram has no script label (cardinality), so a slice's "end to end" is its timed
 * stages: the sum of their means (no quantiles, not tested), and its checks are the most that timed
 * any one stage (Prometheus has no per-script error counts: their error_rate is 0). Its contribution,
 * within and mix parts are the in-app shift-share over that mean.
 */
import {
  PROMETHEUS_SLICE_ATTRIBUTES,
  STAGE_NAMES,
  type MeanChange,
  type PeriodComparison,
  type QuantileChange,
  type StageChange,
  type StageName,
} from '../../preload/wire-types.ts';
import { COMPARED_QUANTILES, rankSlices, type RankedSlice } from './compare-rows.ts';
import { bucketsOfSamples, countOf, type RangeHistogram } from './prometheus-buckets.ts';
import type { PromSample } from './prometheus-client.ts';
import { STAGE_SCRIPT_LABELS } from './service-metrics.ts';

export type PrometheusSliceAttribute = (typeof PROMETHEUS_SLICE_ATTRIBUTES)[number];

export function isPrometheusSliceAttribute(value: string): value is PrometheusSliceAttribute {
  return (PROMETHEUS_SLICE_ATTRIBUTES as readonly string[]).includes(value);
}

/** One stage's histogram over a range (the shape prometheus-compare.ts compares). */

/** Per script, per stage, over one range. */
export type ScriptStages = Map<string, Map<StageName, RangeHistogram>>;

/** How one stage of one slice is compared: prometheus-compare.ts's compareStage with the comparison's z values. */
export type CompareStage = (stage: StageName, a: RangeHistogram, b: RangeHistogram) => StageChange;

/**
 * The per-script stage histograms of one range, from the samples of Q.stageBucketsIncreaseByScript
 * and Q.stageSumIncreaseByScript (prometheus-compare.ts reads them, and sums them per stage too).
 */
export function scriptStagesOf(buckets: readonly PromSample[], sums: readonly PromSample[]): ScriptStages {
  const scripts = new Set(buckets.map((s) => s.labels.script).filter((s): s is string => s !== undefined && s !== ''));
  const result: ScriptStages = new Map();
  for (const script of scripts) {
    const stages = new Map<StageName, RangeHistogram>();
    for (const stage of STAGE_NAMES) {
      const mine = buckets.filter((s) => s.labels.script === script && s.labels.stage === stage);
      stages.set(stage, {
        buckets: bucketsOfSamples(mine),
        sumS: sums.find((s) => s.labels.script === script && s.labels.stage === stage)?.value ?? 0,
      });
    }
    result.set(script, stages);
  }
  return result;
}

/** A slice's checks: the most that timed any one stage (a check refused before a stage times none). */
function checksOf(stages: Map<StageName, RangeHistogram> | undefined): number {
  return Math.round(Math.max(0, ...STAGE_NAMES.map((stage) => countOf(stages?.get(stage)))));
}

/** The slice's timed mean: the sum of its stage means (ms); null when no stage timed a check. */
function timedMeanMs(stages: Map<StageName, RangeHistogram> | undefined): number | null {
  let total = 0;
  let any = false;
  for (const stage of STAGE_NAMES) {
    const h = stages?.get(stage);
    const n = countOf(h);
    if (n > 0) {
      total += (h!.sumS / n) * 1000;
      any = true;
    }
  }
  return any ? total : null;
}

/** Scripts with checks in either range, in STAGE_SCRIPT_LABELS order (then any other label value). */
function scriptsOf(a: ScriptStages, b: ScriptStages): string[] {
  const seen = [...new Set([...a.keys(), ...b.keys()])].filter((s) => checksOf(a.get(s)) + checksOf(b.get(s)) > 0);
  const rank = (s: string) => {
    const i = (STAGE_SCRIPT_LABELS as readonly string[]).indexOf(s);
    return i < 0 ? STAGE_SCRIPT_LABELS.length : i;
  };
  return seen.sort((x, y) => rank(x) - rank(y) || x.localeCompare(y));
}

/** The tests the slices add to the comparison's family: each stage of each slice with checks in both ranges. */
export function scriptSliceTests(a: ScriptStages, b: ScriptStages): number {
  const both = scriptsOf(a, b).filter((s) => checksOf(a.get(s)) > 0 && checksOf(b.get(s)) > 0).length;
  return both * STAGE_NAMES.length * (COMPARED_QUANTILES.length + 1);
}

const EMPTY: RangeHistogram = { buckets: undefined, sumS: 0 };

/** The slice's timed stages as its end to end: means only, untested (Prometheus has no per-script end-to-end histogram). */
function timedEndToEnd(countA: number, countB: number, aMs: number | null, bMs: number | null): StageChange {
  const difference = aMs !== null && bMs !== null ? bMs - aMs : null;
  const mean: MeanChange = {
    a_ms: aMs,
    b_ms: bMs,
    difference_ms: difference,
    low_ms: null,
    high_ms: null,
    testable: false,
    significant: false,
  };
  const none = { value_ms: null, low_ms: null, high_ms: null };
  const quantiles = COMPARED_QUANTILES.map((quantile): QuantileChange => ({
    quantile,
    a: none,
    b: none,
    difference_ms: null,
    low_ms: null,
    high_ms: null,
    testable: false,
    significant: false,
  }));
  return {
    stage: 'end_to_end',
    count_a: countA,
    count_b: countB,
    mean,
    quantiles,
    share_of_change: difference === null ? null : 1,
    significant: false,
  };
}

/**
 * The caption_script slices of the comparison. `overallChangeMs`: the end-to-end mean change the
 * slices' contributions are parts of; `explained`: whether the comparison named a cause (only then
 * is a slice named too, as in-app).
 */
export function compareScriptSlices(
  a: ScriptStages,
  b: ScriptStages,
  compare: CompareStage,
  overall: { changeMs: number | null; explained: boolean },
): NonNullable<PeriodComparison['slices']> {
  const scripts = scriptsOf(a, b);
  const totalA = scripts.reduce((n, s) => n + checksOf(a.get(s)), 0);
  const totalB = scripts.reduce((n, s) => n + checksOf(b.get(s)), 0);
  const slices = scripts.map((slice): RankedSlice => {
    const x = a.get(slice);
    const y = b.get(slice);
    const nA = checksOf(x);
    const nB = checksOf(y);
    const mA = timedMeanMs(x);
    const mB = timedMeanMs(y);
    const endToEnd = timedEndToEnd(nA, nB, mA, mB);
    const own = endToEnd.mean.difference_ms;
    const stages = STAGE_NAMES.map((stage) => {
      const change = compare(stage, x?.get(stage) ?? EMPTY, y?.get(stage) ?? EMPTY);
      change.share_of_change = own ? (change.mean.difference_ms ?? 0) / own : null;
      return change;
    });
    // Most of the slice's own change first.
    const key = (c: StageChange) => (own ? (c.share_of_change ?? 0) : Math.abs(c.mean.difference_ms ?? 0));
    stages.sort((p, q) => key(q) - key(p));
    const wA = totalA > 0 ? nA / totalA : 0;
    const wB = totalB > 0 ? nB / totalB : 0;
    const contribution = wB * (mB ?? 0) - wA * (mA ?? 0);
    // Shift-share as in-app: within = w̄·Δm, mix = the rest; a slice absent from a range is all mix.
    const within = mA !== null && mB !== null ? ((wA + wB) / 2) * (mB - mA) : 0;
    const side = (n: number) => ({ requests: n, successes: n, error_rate: 0 });
    return {
      slice,
      a: side(nA),
      b: side(nB),
      end_to_end: endToEnd,
      stages,
      contribution_ms: contribution,
      within_ms: within,
      mix_ms: contribution - within,
      significant: stages.some((s) => s.significant),
      top: own ? (stages[0]!.stage as StageName) : null,
    };
  });
  return { attribute: 'caption_script', ...rankSlices(slices, overall.changeMs, overall.explained) };
}
