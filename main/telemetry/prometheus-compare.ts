/**
 * The comparison of two periods read from Prometheus (`GET /api/v1/compare?source=prometheus`):
 * the same PeriodComparison as the in-app one (period-compare.ts), from the histograms of every
 * replica Prometheus scrapes, over ranges as old as Prometheus (or Thanos, Mimir) keeps.
 *
 * Each range is read at its end with increase() over its length: the stage buckets
 * `sum by (le, stage)`, the end-to-end buckets `sum by (le)`, their `_sum`s and the answers by
 * status. Quantiles and their intervals come from the buckets (prometheus-buckets.ts); means are
 * exact (`_sum` / count) and tested with Welch's z on the buckets' variance. A quantile difference
 * is significant when the two periods' family-wise (Bonferroni) intervals do not overlap; the
 * difference interval shown is then [low_b − high_a, high_b − low_a], which excludes 0 exactly then.
 * What explains the change is computed as in-app (stage shares of the mean change). No input
 * slices: only the caption script would be a label, the rest stays in-app.
 */
import {
  STAGE_NAMES,
  type ComparedRange,
  type ComparedStage,
  type MeanChange,
  type PeriodComparison,
  type QuantileChange,
  type StageChange,
  type StageName,
} from '../../preload/wire-types.ts';
import {
  bucketQuantileInterval,
  bucketTotal,
  bucketVariance,
  cumulativeBuckets,
  type Bucket,
  type BucketInterval,
} from './prometheus-buckets.ts';
import type { PrometheusClient, PromSample } from './prometheus-client.ts';
import * as Q from './prometheus-queries.ts';
import { COMPARED_QUANTILES, FAMILY_ERROR_RATE, INTERVAL_CONFIDENCE, MIN_VALUES_FOR_MEAN_TEST, normalQuantile } from './period-compare.ts';

export const PROMETHEUS_COMPARISON_METHOD =
  'read from Prometheus: increase() of the histograms over each range, summed over replicas; quantiles as histogram_quantile ' +
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
interface Histogram {
  buckets: Bucket[] | undefined;
  sumS: number;
}

interface RangeData {
  range: ComparedRange;
  endToEnd: Histogram;
  stages: Map<StageName, Histogram>;
}

const countOf = (h: Histogram): number => (h.buckets ? bucketTotal(h.buckets) : 0);
const meanMs = (h: Histogram): number | null => (countOf(h) > 0 ? (h.sumS / countOf(h)) * 1000 : null);

/** The range's length for PromQL (whole seconds) and its evaluation time; a range under a second is a mistake. */
export function rangeWindow(range: PromRange): { window: string; atS: number; seconds: number } {
  const seconds = Math.round((range.toMs - range.fromMs) / 1000);
  if (!(seconds >= 1)) throw new RangeError('each range must be at least one second long, its from before its to');
  return { window: Q.seconds(seconds), atS: range.toMs / 1000, seconds };
}

function bucketsOf(samples: PromSample[]): Bucket[] | undefined {
  return cumulativeBuckets(samples.map((s) => ({ le: s.labels.le ?? '', count: s.value })));
}

async function readRange(client: PrometheusClient, range: PromRange, queries: Set<string>): Promise<RangeData> {
  const { window, atS, seconds } = rangeWindow(range);
  const exprs = [
    Q.stageBucketsIncrease(window),
    Q.stageSumIncrease(window),
    Q.latencyBucketsIncrease(window),
    Q.latencySumIncrease(window),
    Q.requestsByStatusIncrease(window),
  ];
  for (const expr of exprs) queries.add(expr);
  const [stageBuckets, stageSums, latencyBuckets, latencySum, byStatus] = await Promise.all(exprs.map((e) => client.query(e, atS)));
  const stages = new Map<StageName, Histogram>();
  for (const stage of STAGE_NAMES) {
    stages.set(stage, {
      buckets: bucketsOf(stageBuckets!.filter((s) => s.labels.stage === stage)),
      sumS: stageSums!.find((s) => s.labels.stage === stage)?.value ?? 0,
    });
  }
  const endToEnd = { buckets: bucketsOf(latencyBuckets!), sumS: latencySum![0]?.value ?? 0 };
  let requests = 0;
  let clientErrors = 0;
  let serverErrors = 0;
  for (const s of byStatus!) {
    if (!Number.isFinite(s.value)) continue;
    requests += s.value;
    if (/^4/.test(s.labels.status_code ?? '')) clientErrors += s.value;
    if (/^5/.test(s.labels.status_code ?? '')) serverErrors += s.value;
  }
  const toMs = Math.round(atS * 1000);
  return {
    range: {
      from: new Date(toMs - seconds * 1000).toISOString(),
      to: new Date(toMs).toISOString(),
      resolution_s: 1,
      requests: Math.round(requests),
      successes: Math.round(countOf(endToEnd)),
      error_rate: requests > clientErrors ? serverErrors / (requests - clientErrors) : 0,
      client_error_rate: requests > 0 ? clientErrors / requests : 0,
    },
    endToEnd,
    stages,
  };
}

function compareMeans(a: Histogram, b: Histogram, z: number): MeanChange {
  const aMs = meanMs(a);
  const bMs = meanMs(b);
  const difference = aMs !== null && bMs !== null ? bMs - aMs : null;
  const na = countOf(a);
  const nb = countOf(b);
  const untested = { a_ms: aMs, b_ms: bMs, difference_ms: difference, low_ms: null, high_ms: null, testable: false, significant: false };
  if (difference === null || na < MIN_VALUES_FOR_MEAN_TEST || nb < MIN_VALUES_FOR_MEAN_TEST) return untested;
  const va = bucketVariance(a.buckets!, aMs! / 1000);
  const vb = bucketVariance(b.buckets!, bMs! / 1000);
  if (va === null || vb === null) return untested;
  const half = z * Math.sqrt(va / na + vb / nb) * 1000;
  return { ...untested, low_ms: difference - half, high_ms: difference + half, testable: true, significant: Math.abs(difference) > half };
}

const ms = (s: number | null): number | null => (s === null ? null : s * 1000);

function compareQuantile(a: Histogram, b: Histogram, q: number, zShown: number, zTest: number): QuantileChange {
  const interval = (h: Histogram, z: number): BucketInterval =>
    h.buckets ? bucketQuantileInterval(h.buckets, q, z) : { value: null, low: null, high: null, exact: false };
  const shownA = interval(a, zShown);
  const shownB = interval(b, zShown);
  const estimate = (i: BucketInterval) => ({ value_ms: ms(i.value), low_ms: ms(i.low), high_ms: ms(i.high) });
  const difference = shownA.value !== null && shownB.value !== null ? (shownB.value - shownA.value) * 1000 : null;
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
  const testA = interval(a, zTest);
  const testB = interval(b, zTest);
  if (difference === null || !testA.exact || !testB.exact) return change;
  change.low_ms = (testB.low! - testA.high!) * 1000;
  change.high_ms = (testB.high! - testA.low!) * 1000;
  change.testable = true;
  change.significant = change.low_ms > 0 || change.high_ms < 0;
  return change;
}

function compareStage(stage: ComparedStage, a: Histogram, b: Histogram, zShown: number, zTest: number): StageChange {
  const mean = compareMeans(a, b, zTest);
  const quantiles = COMPARED_QUANTILES.map((q) => compareQuantile(a, b, q, zShown, zTest));
  return {
    stage,
    count_a: Math.round(countOf(a)),
    count_b: Math.round(countOf(b)),
    mean,
    quantiles,
    share_of_change: null,
    significant: mean.significant || quantiles.some((c) => c.significant),
  };
}

function untimedMean(data: RangeData): number | null {
  const total = meanMs(data.endToEnd);
  if (total === null) return null;
  let stages = 0;
  for (const h of data.stages.values()) stages += meanMs(h) ?? 0;
  return total - stages;
}

/** Period b against period a (differences b − a), read from Prometheus. */
export async function comparePrometheusRanges(client: PrometheusClient, a: PromRange, b: PromRange): Promise<PeriodComparison> {
  rangeWindow(a);
  rangeWindow(b);
  const queries = new Set<string>();
  const [dataA, dataB] = await Promise.all([readRange(client, a, queries), readRange(client, b, queries)]);
  const tests = (1 + STAGE_NAMES.length) * (COMPARED_QUANTILES.length + 1);
  const zShown = normalQuantile(1 - (1 - INTERVAL_CONFIDENCE) / 2);
  const zTest = normalQuantile(1 - FAMILY_ERROR_RATE / (2 * tests));

  const endToEnd = compareStage('end_to_end', dataA.endToEnd, dataB.endToEnd, zShown, zTest);
  const total = endToEnd.mean.difference_ms;
  const hasChange = total !== null && total !== 0;
  endToEnd.share_of_change = hasChange ? 1 : null;
  const stages = STAGE_NAMES.map((stage) => {
    const change = compareStage(stage, dataA.stages.get(stage)!, dataB.stages.get(stage)!, zShown, zTest);
    change.share_of_change = hasChange ? (change.mean.difference_ms ?? 0) / total : null;
    return change;
  });
  const key = (c: StageChange) => (hasChange ? (c.share_of_change ?? 0) : Math.abs(c.mean.difference_ms ?? 0));
  stages.sort((x, y) => key(y) - key(x));
  const untimedA = untimedMean(dataA);
  const untimedB = untimedMean(dataB);
  const untimedDifference = untimedA !== null && untimedB !== null ? untimedB - untimedA : null;
  const untimed = {
    a_ms: untimedA,
    b_ms: untimedB,
    difference_ms: untimedDifference,
    share_of_change: hasChange && untimedDifference !== null ? untimedDifference / total : null,
  };
  let explainedBy: PeriodComparison['explained_by'] = null;
  if (hasChange && endToEnd.significant) {
    const first = stages[0]!;
    explainedBy = { stage: first.stage as StageName, share_of_change: first.share_of_change ?? 0 };
    if (untimed.share_of_change !== null && untimed.share_of_change > explainedBy.share_of_change) {
      explainedBy = { stage: 'untimed', share_of_change: untimed.share_of_change };
    }
  }
  return {
    a: dataA.range,
    b: dataB.range,
    interval_confidence: INTERVAL_CONFIDENCE,
    family_error_rate: FAMILY_ERROR_RATE,
    tests,
    method: PROMETHEUS_COMPARISON_METHOD,
    end_to_end: endToEnd,
    stages,
    untimed,
    explained_by: explainedBy,
    slices: null,
    source: 'prometheus',
    prometheus: { url: client.url, queries: [...queries] },
  };
}
