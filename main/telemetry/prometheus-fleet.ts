/**
 * Fleet figures from Prometheus (`GET /api/v1/fleet?window=5m` of `ofa-ve serve --prometheus-url`):
 * QPS, P50/P90/P99 from the bucket rates summed over every replica, the error rate, per replica QPS,
 * P90, error rate and `up`, the latency skew (the slowest replica's P90 over the P90 of the replicas
 * up), and chart lines over the window. Every figure is of the same requests: a replica down now
 * counts with what it answered in the window (its row says its figures are as of its last scrape). Every instant query is evaluated at one time; each figure carries its PromQL
 * (some are computed here from another query's samples exactly as that PromQL would: fleetDocument).
 */
import type { FleetDocument, FleetReplica, FleetSeries, PrometheusFigure } from '../../preload/wire-types.ts';
import { type Bucket, bucketQuantile, bucketsOfSamples } from './prometheus-buckets.ts';
import type { PrometheusClient, PromSample, PromSeries } from './prometheus-client.ts';
import * as Q from './prometheus-queries.ts';

export const FLEET_WINDOWS = { minS: 10, maxS: 30 * 86_400, default: '5m' } as const;
/** Points per chart line at most (the step grows with the window). */
export const FLEET_CHART_POINTS = 60;
/** The chart lines' rate window at least: the fleet rules' 1m (four scrapes at the deployed 15 s). */
const MIN_CHART_RATE_S = 60;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `?window=`: one Prometheus duration of whole seconds, minutes, hours or days (5m, 90s, 1h, 7d), 10 s to 30 days. */
export function parseFleetWindow(raw: string | undefined): { window: string; seconds: number } {
  const text = raw ?? FLEET_WINDOWS.default;
  const match = /^([1-9][0-9]{0,6})([smhd])$/.exec(text);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : NaN;
  if (!(seconds >= FLEET_WINDOWS.minS && seconds <= FLEET_WINDOWS.maxS)) {
    throw new RangeError('window must be one Prometheus duration such as 5m, 90s, 1h or 7d, from 10s to 30d');
  }
  return { window: text, seconds };
}

/** A sample's value for JSON: NaN and ±Inf (histogram_quantile without data, 0/0) are no value. */
const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);
const key = (labels: Record<string, string>): string => `${labels.job ?? ''}\u0000${labels.instance ?? ''}`;
const byReplica = (samples: PromSample[]): Map<string, number> => new Map(samples.map((s) => [key(s.labels), s.value]));

/** PromQL's histogram_quantile(q, …) over `sum by (le) (…)` of bucket samples (NaN where Prometheus gives NaN). */
const quantileOf = (buckets: Bucket[] | undefined, q: number): number => (buckets && bucketQuantile(buckets, q)) ?? NaN;

/** Samples grouped per (job, instance), as `sum by (job, instance, …)` groups them. */
function perReplica(samples: PromSample[]): Map<string, PromSample[]> {
  const groups = new Map<string, PromSample[]>();
  for (const s of samples) {
    const k = key(s.labels);
    let group = groups.get(k);
    if (!group) groups.set(k, (group = []));
    group.push(s);
  }
  return groups;
}

/** A range query's series as instant vectors, one per step (time order): what an aggregation over them sees at each step. */
function atEachStep(series: PromSeries[]): Array<[number, PromSample[]]> {
  const steps = new Map<number, PromSample[]>();
  for (const s of series) {
    for (const [t, value] of s.points) {
      let vector = steps.get(t);
      if (!vector) steps.set(t, (vector = []));
      vector.push({ labels: s.labels, value });
    }
  }
  return [...steps].sort(([x], [y]) => x - y);
}

/** One line computed at each step from the vector there, as PromQL's aggregation would (none without series). */
function derivedLine(name: string, series: PromSeries[], valueAt: (vector: PromSample[]) => number) {
  return series.length === 0 ? [] : [{ name, points: atEachStep(series).map(([t, vector]): [number, number] => [t, valueAt(vector)]) }];
}

const sum = (samples: PromSample[]): number => samples.reduce((total, s) => total + s.value, 0);

/**
 * fleetErrorRate / replicaErrorRate over answer rates by status code, as PromQL gives it:
 * `sum(5xx) / (sum(all but 4xx) > 0)`. No sample (undefined) without a 5xx series (sum() of no
 * series is no sample) or while the checks run sum to 0 (the `> 0` filter drops it).
 */
function errorRatio(byStatus: PromSample[]): number | undefined {
  const errors = byStatus.filter((s) => Q.isServerError(s.labels.status_code));
  if (errors.length === 0) return undefined;
  const run = sum(byStatus.filter((s) => !Q.isClientError(s.labels.status_code)));
  return run > 0 ? sum(errors) / run : undefined;
}

function lines(series: Array<{ name: string; points: Array<[number, number]> }>, query: string, scale = 1): FleetSeries[] {
  return series.map((s) => ({ name: s.name, query, points: s.points.map(([t, v]) => [t, Number.isFinite(v) ? v * scale : null]) }));
}

/**
 * Queries per refresh: 4 instant and 3 range ones. Figures that are aggregations of another query's
 * samples are computed here as Prometheus would (each still carries its own PromQL, which gives the
 * same figure in Prometheus): the fleet QPS is the sum of the replicas' (`sum(replicaQps)`), every
 * latency quantile, fleet and replica, is histogram_quantile over the per-replica bucket rates
 * (`sum by (le)` of `sum by (job, instance, le)` is the fleet's), its chart lines over one range
 * query of the fleet's bucket rates, and the error rates, fleet and replica, are ratios of sums of
 * the answer rates by replica and status code (errorRatio).
 */
export async function fleetDocument(client: PrometheusClient, windowText: string | undefined, nowMs = Date.now()): Promise<FleetDocument> {
  const { window, seconds } = parseFleetWindow(windowText);
  // Now to the millisecond: a whole second earlier could miss the latest scrape.
  const atS = nowMs / 1000;
  const at = (expr: string) => client.query(expr, atS);
  const queries = {
    qps: Q.fleetQps(window),
    p50: Q.fleetLatencyQuantile(0.5, window),
    p90: Q.fleetLatencyQuantile(0.9, window),
    p99: Q.fleetLatencyQuantile(0.99, window),
    errorRate: Q.fleetErrorRate(window),
    replicaQps: Q.replicaQps(window),
    replicaP90: Q.replicaP90(window),
    replicaErrorRate: Q.replicaErrorRate(window),
    up: Q.replicaUp,
  };
  const stepS = Math.max(1, Math.ceil(seconds / FLEET_CHART_POINTS));
  const rateWindow = Q.seconds(Math.max(MIN_CHART_RATE_S, 4 * stepS));
  const chart = {
    qps: Q.fleetQps(rateWindow),
    p50: Q.fleetLatencyQuantile(0.5, rateWindow),
    p90: Q.fleetLatencyQuantile(0.9, rateWindow),
    p99: Q.fleetLatencyQuantile(0.99, rateWindow),
    errorRate: Q.fleetErrorRate(rateWindow),
    replicaQps: Q.replicaQps(rateWindow),
  };
  const range = (expr: string) => client.queryRange(expr, atS - seconds, atS, stepS);
  const [replicaBuckets, replicaQps, byStatus, up, bucketLines, replicaLines, errorLine] = await Promise.all([
    at(Q.replicaLatencyBucketRates(window)),
    at(queries.replicaQps),
    at(Q.replicaRequestRatesByStatus(window)),
    at(queries.up),
    range(Q.fleetLatencyBucketRates(rateWindow)),
    range(chart.replicaQps),
    range(chart.errorRate),
  ] as const);
  const figure = (value: number | undefined, query: string, scale = 1): PrometheusFigure => {
    const v = finite(value);
    return { value: v === null ? null : v * scale, query };
  };
  // sum() of no series is no sample.
  const fleetQps = figure(replicaQps.length > 0 ? sum(replicaQps) : undefined, queries.qps);
  const fleetBuckets = bucketsOfSamples(replicaBuckets);
  const fleetP90 = finite(quantileOf(fleetBuckets, 0.9));
  const errorFigure = figure(errorRatio(byStatus), queries.errorRate);
  // No 5xx ratio sample while checks were answered (none failed, or only 4xx): 0, as in-app.
  if (errorFigure.value === null && (fleetQps.value ?? 0) > 0) errorFigure.value = 0;

  const bucketsOf = perReplica(replicaBuckets);
  const labelsOf = new Map<string, Record<string, string>>();
  for (const s of [...up, ...replicaQps, ...replicaBuckets]) if (s.labels.instance !== undefined) labelsOf.set(key(s.labels), s.labels);
  const upOf = byReplica(up);
  const qpsOf = byReplica(replicaQps);
  const byStatusOf = perReplica(byStatus);
  const p90Of = new Map<string, number | null>();
  const replicas: FleetReplica[] = [...labelsOf].map(([k, labels]) => {
    const buckets = bucketsOf.get(k);
    const replicaP90S = buckets ? finite(quantileOf(bucketsOfSamples(buckets), 0.9)) : null;
    p90Of.set(k, replicaP90S);
    const isUp = upOf.has(k) ? upOf.get(k) === 1 : null;
    const replicaQpsValue = finite(qpsOf.get(k));
    return {
      job: labels.job ?? '',
      instance: labels.instance ?? '',
      up: isUp,
      qps: replicaQpsValue,
      p90_ms: replicaP90S === null ? null : replicaP90S * 1000,
      // A replica down answered these too: its requests in the window count as the fleet's do.
      error_rate: finite(errorRatio(byStatusOf.get(k) ?? [])) ?? ((replicaQpsValue ?? 0) > 0 ? 0 : null),
      p90_skew: null,
      slowest: false,
      // Down, or gone from discovery (no `up` sample: a deleted pod) while its requests are still in the window.
      as_of_last_scrape: isUp !== true,
    };
  });
  // The skew compares the replicas up with the P90 of their own requests (their bucket rates summed
  // by le), the set the slowest is picked among. A replica down or gone is in neither: its latencies
  // are from before it left. While every replica is up that P90 is the fleet's.
  const comparedKeys = [...labelsOf.keys()].filter((k) => upOf.get(k) === 1 && p90Of.get(k) !== null);
  const comparedP90 = finite(quantileOf(bucketsOfSamples(comparedKeys.flatMap((k) => bucketsOf.get(k) ?? [])), 0.9));
  const comparedSet = new Set(comparedKeys);
  for (const r of replicas) {
    const k = key({ job: r.job, instance: r.instance });
    const p90 = p90Of.get(k);
    if (comparedSet.has(k) && p90 != null && comparedP90 !== null && comparedP90 > 0) r.p90_skew = p90 / comparedP90;
  }
  replicas.sort((x, y) => x.instance.localeCompare(y.instance) || x.job.localeCompare(y.job));
  // "Slowest" of two or more, and only at or above the P90 it is compared with.
  const ranked = replicas.filter((r) => r.p90_skew !== null);
  const slowest =
    ranked.length < 2
      ? undefined
      : ranked.reduce<FleetReplica | undefined>((s, r) => (s === undefined || r.p90_skew! > s.p90_skew! ? r : s), undefined);
  if (slowest && slowest.p90_skew! >= 1) slowest.slowest = true;
  const slowestReplica = slowest?.slowest ? slowest : undefined;

  // The bucket lines grouped per step and summed by le once; each quantile line reads them.
  const bucketSteps = atEachStep(bucketLines).map(([t, vector]): [number, Bucket[] | undefined] => [t, bucketsOfSamples(vector)]);
  const quantileLine = (name: string, q: number) =>
    bucketLines.length === 0 ? [] : [{ name, points: bucketSteps.map(([t, buckets]): [number, number] => [t, quantileOf(buckets, q)]) }];
  return {
    source: 'prometheus',
    prometheus_url: client.url,
    window,
    window_s: seconds,
    generated_at: new Date(atS * 1000).toISOString(),
    qps: fleetQps,
    p50_ms: figure(quantileOf(fleetBuckets, 0.5), queries.p50, 1000),
    p90_ms: { value: fleetP90 === null ? null : fleetP90 * 1000, query: queries.p90 },
    p99_ms: figure(quantileOf(fleetBuckets, 0.99), queries.p99, 1000),
    error_rate: errorFigure,
    replicas,
    replica_queries: { qps: queries.replicaQps, p90_ms: queries.replicaP90, error_rate: queries.replicaErrorRate, up: queries.up },
    skew: {
      slowest_instance: slowestReplica?.instance ?? null,
      ratio: slowestReplica?.p90_skew ?? null,
      compared_p90_ms: comparedP90 === null ? null : comparedP90 * 1000,
      compared_replicas: comparedKeys.length,
    },
    series: {
      step_s: stepS,
      rate_window: rateWindow,
      lines: [
        ...lines(derivedLine('qps', replicaLines, sum), chart.qps),
        ...lines(quantileLine('p50_ms', 0.5), chart.p50, 1000),
        ...lines(quantileLine('p90_ms', 0.9), chart.p90, 1000),
        ...lines(quantileLine('p99_ms', 0.99), chart.p99, 1000),
        ...lines(
          errorLine.map((s) => ({ name: 'error_rate', points: s.points })),
          chart.errorRate,
        ),
        ...lines(
          replicaLines.map((s) => ({ name: `qps ${s.labels.instance ?? ''}`, points: s.points })),
          chart.replicaQps,
        ),
      ],
    },
  };
}
