/**
 * The Fleet panel's figures and charts from a FleetDocument (GET /api/v1/fleet), and the captions
 * that say where each chart's figures come from: Prometheus over every replica, or this replica's
 * own in-app stats. Pure functions, unit-tested.
 */
import type { FleetDocument, FleetReplica, FleetSeries } from '../../preload/wire-types.ts';

/** The fleet windows offered (Prometheus durations). */
export const FLEET_WINDOW_CHOICES: readonly { window: string; label: string }[] = [
  { window: '5m', label: '5 min' },
  { window: '15m', label: '15 min' },
  { window: '1h', label: '1 h' },
];

/** How often the Fleet panel asks again (Prometheus scrapes every 15 s as deployed). */
export const FLEET_REFRESH_MS = 5000;

/** The caption of every chart and figure read from this replica's own live stats. */
export const IN_APP_SOURCE = 'this replica, in-app';

/** The caption of a figure aggregated over the replicas by Prometheus. */
export function prometheusSource(url: string, aggregation = 'sum by (le) over instances'): string {
  return `Prometheus at ${url}, ${aggregation}`;
}

/** One chart row: epoch seconds and a value per line name (null: no sample then). */
export type FleetChartRow = { t: number } & Record<string, number | null>;

/** Lines by name merged into rows by time, oldest first (recharts wants one row per x). */
export function fleetChartRows(lines: readonly FleetSeries[], names: readonly string[]): FleetChartRow[] {
  const rows = new Map<number, FleetChartRow>();
  for (const line of lines) {
    if (!names.includes(line.name)) continue;
    for (const [t, v] of line.points) {
      const row = rows.get(t) ?? ({ t } as FleetChartRow);
      row[line.name] = v;
      rows.set(t, row);
    }
  }
  return [...rows.values()].sort((a, b) => a.t - b.t);
}

/** The per-replica QPS line names of a document (`qps <instance>`), in replica order. */
export function replicaLineNames(doc: FleetDocument): string[] {
  const present = new Set(doc.series.lines.map((l) => l.name));
  return doc.replicas.map((r) => `qps ${r.instance}`).filter((name) => present.has(name));
}

/**
 * "slowest: host:port at 1.35× the fleet P90" (every replica up) or "… the P90 of the 2 replicas up"
 * (a replica down: its latencies are from before, so it is in neither the comparison nor the ranking),
 * or why there is none.
 */
export function skewPhrase(doc: FleetDocument): string {
  const compared = doc.skew.compared_replicas;
  const reference = doc.replicas.some((r) => r.as_of_last_scrape) ? `the P90 of the ${compared} replicas up` : 'the fleet P90';
  if (doc.skew.slowest_instance !== null && doc.skew.ratio !== null) {
    return `slowest: ${doc.skew.slowest_instance} at ${doc.skew.ratio.toFixed(2)}× ${reference}`;
  }
  if (compared === 1) return 'one replica up with latencies: none to compare it with';
  if (compared >= 2) return `no replica above ${reference}`;
  return 'no replica latencies in the window';
}

/** Why a down replica's figures are shown, and what they are of. */
export const AS_OF_LAST_SCRAPE = 'as of its last scrape: requests it answered in the window before it went down or away';

/** A replica's P90 over the replicas up, in words ("1.35×"), or why it has none. */
export function skewCell(replica: FleetReplica): string {
  if (replica.p90_skew !== null) return `${replica.p90_skew.toFixed(2)}×`;
  return replica.as_of_last_scrape ? `not compared (${replica.up === false ? 'down' : 'gone'})` : '—';
}

/**
 * The QPS axis' ticks in one format: no trailing zeros, so 0 reads "0" beside "350" and "700" (and
 * 0.5 beside 1), the way the latency axis reads (formatAxisMs).
 */
export function formatAxisQps(qps: number): string {
  if (!Number.isFinite(qps)) return '';
  return String(Number(qps.toFixed(qps >= 100 ? 0 : qps >= 10 ? 1 : 2)));
}

/** A replica's `up` in words. */
export function upLabel(up: boolean | null): string {
  return up === null ? 'unknown' : up ? 'up' : 'down';
}
