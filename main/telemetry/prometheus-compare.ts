/**
 * The comparison of two periods read from Prometheus (`GET /api/v1/compare?source=prometheus`):
 * the same PeriodComparison as the in-app one (period-compare.ts), from the histograms of every
 * replica Prometheus scrapes, over ranges as old as Prometheus (or Thanos, Mimir) keeps.
 *
 * Each range, its ends rounded inward to whole scrape intervals (the resolution, read from
 * /api/v1/targets), is read at its end with increase() over its length: the stage buckets
 * `sum by (le, stage)` (with the caption_script slices: `sum by (le, stage, script)` only, summed
 * per stage here), the end-to-end buckets `sum by (le)`, their `_sum`s and the answers by status. Quantiles and their intervals come from the buckets (prometheus-buckets.ts); means are
 * exact (`_sum` / count) and tested with Welch's z on the buckets' variance. A quantile difference
 * is significant when the two periods' family-wise (Bonferroni) intervals do not overlap; the
 * difference interval shown is then [low_b − high_a, high_b − low_a], which excludes 0 exactly then.
 * What explains the change is computed as in-app (stage shares of the mean change). Input slices:
 * caption_script only, from the stage histogram's `script` label (prometheus-script-slices.ts).
 */
import { STAGE_NAMES, type ComparedRange, type PeriodComparison, type StageName } from '../../preload/wire-types.ts';
import {
  compareStage,
  errorRates,
  FAMILY_ERROR_RATE,
  intervalZ,
  meanChange,
  periodComparison,
  quantileChange,
  splitChange,
  TESTS_PER_CELL,
  untimedMean,
  type FigureComparer,
} from './compare-rows.ts';
import {
  bucketQuantileInterval,
  bucketsOfSamples,
  bucketVariance,
  type BucketInterval,
  countOf,
  type RangeHistogram,
} from './prometheus-buckets.ts';
import { CheckError } from '../errors.ts';
import { gotNoAnswer, type PrometheusClient } from './prometheus-client.ts';
import { FLEET_WINDOWS } from './prometheus-fleet.ts';
import * as Q from './prometheus-queries.ts';
import {
  compareScriptSlices,
  scriptSliceTests,
  scriptStagesOf,
  type PrometheusSliceAttribute,
  type ScriptStages,
} from './prometheus-script-slices.ts';

export const PROMETHEUS_COMPARISON_METHOD =
  'read from Prometheus: increase() of the histograms over each range (its ends rounded inward to whole scrape intervals), ' +
  'summed over replicas; counts are estimates (increase() extrapolates the samples to the range ends); quantiles as histogram_quantile ' +
  '(linear inside a bucket); intervals: order-statistic ranks n·q ∓ z·√(n·q·(1−q)) mapped to the bounds of the buckets holding them; ' +
  `a quantile difference is significant when the two periods' intervals at the family-wise level (${FAMILY_ERROR_RATE}, Bonferroni over ` +
  'all tests of the comparison) do not overlap; means: exact (_sum / count), Welch z with the variance of bucket midpoints; ' +
  'requests taken as independent';

/** One span to read, epoch ms, `toMs` exclusive. */
export interface PromRange {
  fromMs: number;
  toMs: number;
}

/** One histogram (end to end, or a stage) over a range: buckets and the sum of its values (seconds). */

interface RangeData {
  range: ComparedRange;
  endToEnd: RangeHistogram;
  stages: Map<StageName, RangeHistogram>;
  /** Per caption script, when the slices were asked for. */
  scripts: ScriptStages | undefined;
}

const meanMs = (h: RangeHistogram): number | null => (countOf(h) > 0 ? (h.sumS / countOf(h)) * 1000 : null);

/** The longest range read at once: the fleet view's longest window (an increase() over years would keep Prometheus busy long after we gave up). */
const MAX_RANGE_S = FLEET_WINDOWS.maxS;
/** A range may end a minute ahead of this clock (the two machines' clocks differ a little), no more. */
const CLOCK_SKEW_MS = 60_000;

/** Checked before any query: under a second, over MAX_RANGE_S, or ending in the future is the caller's mistake. */
function checkRange(range: PromRange, nowMs = Date.now()): void {
  if (!(range.toMs - range.fromMs >= 1000)) throw new RangeError('each range must be at least one second long, its from before its to');
  if ((range.toMs - range.fromMs) / 1000 > MAX_RANGE_S) throw new RangeError(`each range may be at most ${MAX_RANGE_S / 86_400} days long`);
  if (range.toMs > nowMs + CLOCK_SKEW_MS) throw new RangeError('each range must end by now (its to is in the future)');
}

/**
 * The range as read: its ends rounded inward to multiples of the grid (epoch seconds), its length
 * for PromQL and its evaluation time. Inward, so that B never reaches back before its mark (into A)
 * and the same range (or one a fraction of a step longer, "to now" asked again) reads the same scrapes,
 * once Prometheus has scraped past its end (a scrape still in flight at `to` can add a sample later).
 */
interface RangeWindow {
  readonly window: string;
  readonly atS: number;
  readonly seconds: number;
}

export function alignedWindow(range: PromRange, gridS: number): RangeWindow {
  const gridMs = gridS * 1000;
  const fromMs = Math.ceil(range.fromMs / gridMs) * gridMs;
  const toMs = Math.floor(range.toMs / gridMs) * gridMs;
  const seconds = (toMs - fromMs) / 1000;
  if (seconds < gridS) {
    throw new RangeError(`each range must hold at least one whole ${gridS} s step of Prometheus' scrapes (its scrape interval)`);
  }
  return { window: Q.seconds(seconds), atS: toMs / 1000, seconds };
}

/**
 * The scrape interval (s) of the targets that export this service's metrics (the longest, when
 * they differ): the finest resolution Prometheus has of them. Null when it cannot be told: the
 * targets API refused (Thanos, Mimir), no such target is active now, or one does not say its interval.
 * A Prometheus that does not answer at all fails here as every query would.
 */
export async function scrapeIntervalS(client: PrometheusClient, atS: number): Promise<number | null> {
  try {
    const [jobs, targets] = await Promise.all([client.query(Q.scrapingJobs, atS), client.activeTargets()]);
    const scraping = new Set(jobs.map((s) => s.labels.job));
    const intervals = targets.filter((t) => scraping.has(t.labels.job)).map((t) => t.scrapeIntervalS);
    if (intervals.length === 0 || intervals.some((i) => i === null)) return null;
    return Math.max(...(intervals as number[]));
  } catch (err) {
    if (gotNoAnswer(err) || (err instanceof CheckError && err.code === 'CLIENT_CLOSED_REQUEST')) throw err;
    return null;
  }
}

/**
 * Reads one range. With `byScript` (the caption_script slices asked for) the stage histograms are
 * read per stage × script only, and each stage's buckets and sum are those summed over the scripts:
 * bucket counts add exactly, so the per-stage query would only repeat them. `queries` gets the
 * PromQL of every figure, the per-stage expressions included (they give the same figures in Prometheus).
 */
async function readRange(
  client: PrometheusClient,
  range: RangeWindow,
  resolutionS: number | null,
  queries: Set<string>,
  byScript: boolean,
): Promise<RangeData> {
  const { window, atS, seconds } = range;
  const stageExprs = byScript
    ? [Q.stageBucketsIncreaseByScript(window), Q.stageSumIncreaseByScript(window)]
    : [Q.stageBucketsIncrease(window), Q.stageSumIncrease(window)];
  const exprs = [...stageExprs, Q.latencyBucketsIncrease(window), Q.latencySumIncrease(window), Q.requestsByStatusIncrease(window)];
  if (byScript) queries.add(Q.stageBucketsIncrease(window)).add(Q.stageSumIncrease(window));
  for (const expr of exprs) queries.add(expr);
  const [stageBuckets, stageSums, latencyBuckets, latencySum, byStatus] = await Promise.all(exprs.map((e) => client.query(e, atS)));
  const stages = new Map<StageName, RangeHistogram>();
  for (const stage of STAGE_NAMES) {
    // cumulativeBuckets adds the counts of equal bounds: one series per bound, or one per script and bound.
    stages.set(stage, {
      buckets: bucketsOfSamples(stageBuckets!.filter((s) => s.labels.stage === stage)),
      sumS: stageSums!.filter((s) => s.labels.stage === stage).reduce((sum, s) => sum + s.value, 0),
    });
  }
  const endToEnd = { buckets: bucketsOfSamples(latencyBuckets!), sumS: latencySum![0]?.value ?? 0 };
  let requests = 0;
  let clientErrors = 0;
  let serverErrors = 0;
  for (const s of byStatus!) {
    if (!Number.isFinite(s.value)) continue;
    requests += s.value;
    if (Q.isClientError(s.labels.status_code)) clientErrors += s.value;
    if (Q.isServerError(s.labels.status_code)) serverErrors += s.value;
  }
  const toMs = Math.round(atS * 1000);
  return {
    range: {
      from: new Date(toMs - seconds * 1000).toISOString(),
      to: new Date(toMs).toISOString(),
      resolution_s: resolutionS,
      requests: Math.round(requests),
      successes: Math.round(countOf(endToEnd)),
      ...errorRates({ requests, clientErrors, serverErrors }),
    },
    endToEnd,
    stages,
    scripts: byScript ? scriptStagesOf(stageBuckets!, stageSums!) : undefined,
  };
}

const ms = (s: number | null): number | null => (s === null ? null : s * 1000);

/** The Prometheus figures: cumulative buckets and the exact `_sum` (seconds). */
const HISTOGRAMS: FigureComparer<RangeHistogram> = {
  count: (h) => Math.round(countOf(h)),
  mean: (a, b, z) =>
    meanChange({ count: countOf(a), meanMs: meanMs(a) }, { count: countOf(b), meanMs: meanMs(b) }, z, () => {
      const va = bucketVariance(a.buckets!, meanMs(a)! / 1000);
      const vb = bucketVariance(b.buckets!, meanMs(b)! / 1000);
      return va === null || vb === null ? null : [va * 1e6, vb * 1e6];
    }),
  quantile(a, b, q, zShown, zTest) {
    const interval = (h: RangeHistogram, z: number): BucketInterval =>
      h.buckets ? bucketQuantileInterval(h.buckets, q, z) : { value: null, low: null, high: null, exact: false };
    const estimate = (i: BucketInterval) => ({ value_ms: ms(i.value), low_ms: ms(i.low), high_ms: ms(i.high) });
    return quantileChange(q, estimate(interval(a, zShown)), estimate(interval(b, zShown)), () => {
      // Significant when the family-wise intervals do not overlap: [low_b − high_a, high_b − low_a] excludes 0 exactly then.
      const testA = interval(a, zTest);
      const testB = interval(b, zTest);
      if (!testA.exact || !testB.exact) return null;
      return { low_ms: (testB.low! - testA.high!) * 1000, high_ms: (testB.high! - testA.low!) * 1000 };
    });
  },
};

/** Period b against period a (differences b − a), read from Prometheus; with `attribute`, per caption script too. */
export async function comparePrometheusRanges(
  client: PrometheusClient,
  a: PromRange,
  b: PromRange,
  attribute?: PrometheusSliceAttribute,
): Promise<PeriodComparison> {
  // Both ranges are checked before any query.
  checkRange(a);
  checkRange(b);
  const resolutionS = await scrapeIntervalS(client, Math.max(a.toMs, b.toMs) / 1000);
  // Whole scrape intervals (whole seconds when unknown): increase() then reads the same samples each time the range is asked.
  const gridS = Math.max(1, Math.ceil(resolutionS ?? 1));
  const [windowA, windowB] = [alignedWindow(a, gridS), alignedWindow(b, gridS)];
  const queries = new Set<string>();
  const byScript = attribute !== undefined;
  const read = (w: RangeWindow) => readRange(client, w, resolutionS, queries, byScript);
  const [dataA, dataB] = await Promise.all([read(windowA), read(windowB)]);
  const [scriptsA, scriptsB] = [dataA.scripts, dataB.scripts];
  const tests = TESTS_PER_CELL + (scriptsA && scriptsB ? scriptSliceTests(scriptsA, scriptsB) : 0);
  const { zShown, zTest } = intervalZ(tests);
  const endToEnd = compareStage('end_to_end', dataA.endToEnd, dataB.endToEnd, HISTOGRAMS, zShown, zTest);
  const stage = (name: StageName) => compareStage(name, dataA.stages.get(name)!, dataB.stages.get(name)!, HISTOGRAMS, zShown, zTest);
  const stages = STAGE_NAMES.map(stage);
  const untimed = (data: RangeData) => untimedMean(meanMs(data.endToEnd), [...data.stages.values()].map(meanMs));
  const split = splitChange(endToEnd, stages, untimed(dataA), untimed(dataB));
  const comparison = periodComparison(dataA.range, dataB.range, tests, PROMETHEUS_COMPARISON_METHOD, split);
  if (scriptsA && scriptsB) {
    const compare = (stage: StageName, x: RangeHistogram, y: RangeHistogram) => compareStage(stage, x, y, HISTOGRAMS, zShown, zTest);
    comparison.slices = compareScriptSlices(scriptsA, scriptsB, compare, {
      changeMs: split.endToEnd.mean.difference_ms,
      explained: comparison.explained_by !== null,
    });
  }
  return {
    ...comparison,
    source: 'prometheus',
    counts_estimated: true,
    prometheus: { url: client.url, queries: [...queries] },
  };
}
