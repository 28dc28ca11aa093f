/**
 * Fleet figures from Prometheus (`GET /api/v1/fleet?window=5m` of `ofa-ve serve --prometheus-url`):
 * QPS, P50/P90/P99 from the bucket rates summed over every replica, the error rate, per replica QPS,
 * P90, error rate and `up`, the latency skew (the slowest replica's P90 over the fleet's), and chart
 * lines over the window. Every instant query is evaluated at one time; each figure carries its PromQL.
 */
import type { FleetDocument, FleetReplica, FleetSeries, PrometheusFigure } from '../../preload/wire-types.ts';
import type { PrometheusClient, PromSample } from './prometheus-client.ts';
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

function lines(series: Array<{ name: string; points: Array<[number, number]> }>, query: string, scale = 1): FleetSeries[] {
  return series.map((s) => ({ name: s.name, query, points: s.points.map(([t, v]) => [t, Number.isFinite(v) ? v * scale : null]) }));
}

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
  const [qps, p50, p90, p99, errorRate, replicaQps, replicaP90, replicaErrorRate, up, ...series] = await Promise.all([
    at(queries.qps),
    at(queries.p50),
    at(queries.p90),
    at(queries.p99),
    at(queries.errorRate),
    at(queries.replicaQps),
    at(queries.replicaP90),
    at(queries.replicaErrorRate),
    at(queries.up),
    range(chart.qps),
    range(chart.p50),
    range(chart.p90),
    range(chart.p99),
    range(chart.errorRate),
    range(chart.replicaQps),
  ]);
  const figure = (samples: PromSample[], query: string, scale = 1): PrometheusFigure => {
    const value = finite(samples[0]?.value);
    return { value: value === null ? null : value * scale, query };
  };
  const fleetQps = figure(qps!, queries.qps);
  const fleetP90 = finite(p90![0]?.value);
  const errorFigure = figure(errorRate!, queries.errorRate);
  // No 5xx ratio sample while checks were answered (none failed, or only 4xx): 0, as in-app.
  if (errorFigure.value === null && (fleetQps.value ?? 0) > 0) errorFigure.value = 0;

  const labelsOf = new Map<string, Record<string, string>>();
  for (const s of [...up!, ...replicaQps!, ...replicaP90!]) if (s.labels.instance !== undefined) labelsOf.set(key(s.labels), s.labels);
  const upOf = byReplica(up!);
  const qpsOf = byReplica(replicaQps!);
  const p90Of = byReplica(replicaP90!);
  const errorsOf = byReplica(replicaErrorRate!);
  const replicas: FleetReplica[] = [...labelsOf].map(([k, labels]) => {
    const replicaP90S = finite(p90Of.get(k));
    const isUp = upOf.has(k) ? upOf.get(k) === 1 : null;
    const replicaQpsValue = finite(qpsOf.get(k));
    return {
      job: labels.job ?? '',
      instance: labels.instance ?? '',
      up: isUp,
      qps: replicaQpsValue,
      p90_ms: replicaP90S === null ? null : replicaP90S * 1000,
      error_rate: finite(errorsOf.get(k)) ?? (isUp !== false && (replicaQpsValue ?? 0) > 0 ? 0 : null),
      p90_skew: replicaP90S !== null && fleetP90 !== null && fleetP90 > 0 ? replicaP90S / fleetP90 : null,
      slowest: false,
    };
  });
  replicas.sort((x, y) => x.instance.localeCompare(y.instance) || x.job.localeCompare(y.job));
  // The slowest among the replicas up (a replica down keeps its last minutes' latencies in the window).
  const candidates = replicas.filter((r) => r.p90_skew !== null && r.up !== false);
  const slowest = candidates.reduce<FleetReplica | undefined>((s, r) => (s === undefined || r.p90_skew! > s.p90_skew! ? r : s), undefined);
  if (slowest) slowest.slowest = true;

  const [qpsLine, p50Line, p90Line, p99Line, errorLine, replicaLines] = series;
  const named = (name: string, s: typeof qpsLine) => s!.map((x) => ({ name, points: x.points }));
  return {
    source: 'prometheus',
    prometheus_url: client.url,
    window,
    window_s: seconds,
    generated_at: new Date(atS * 1000).toISOString(),
    qps: fleetQps,
    p50_ms: figure(p50!, queries.p50, 1000),
    p90_ms: { value: fleetP90 === null ? null : fleetP90 * 1000, query: queries.p90 },
    p99_ms: figure(p99!, queries.p99, 1000),
    error_rate: errorFigure,
    replicas,
    replica_queries: { qps: queries.replicaQps, p90_ms: queries.replicaP90, error_rate: queries.replicaErrorRate, up: queries.up },
    skew: { slowest_instance: slowest?.instance ?? null, ratio: slowest?.p90_skew ?? null },
    series: {
      step_s: stepS,
      rate_window: rateWindow,
      lines: [
        ...lines(named('qps', qpsLine), chart.qps),
        ...lines(named('p50_ms', p50Line), chart.p50, 1000),
        ...lines(named('p90_ms', p90Line), chart.p90, 1000),
        ...lines(named('p99_ms', p99Line), chart.p99, 1000),
        ...lines(named('error_rate', errorLine), chart.errorRate),
        ...lines(
          replicaLines!.map((s) => ({ name: `qps ${s.labels.instance ?? ''}`, points: s.points })),
          chart.replicaQps,
        ),
      ],
    },
  };
}
