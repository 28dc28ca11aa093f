/**
 * The Fleet panel's figures and charts from a FleetDocument (GET /api/v1/fleet), and the captions
 * that say where each chart's figures come from: Prometheus over every replica, or this replica's
 * own in-app stats. Pure functions, unit-tested.
 */
import type { FleetDocument, FleetSeries } from '../../preload/wire-types.ts';

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

/** "slowest: host:port at 1.35× the fleet P90", or why there is none. */
export function skewPhrase(doc: FleetDocument): string {
  if (doc.skew.slowest_instance === null || doc.skew.ratio === null) return 'no replica latencies in the window';
  return `slowest: ${doc.skew.slowest_instance} at ${doc.skew.ratio.toFixed(2)}× the fleet P90`;
}

/** A replica's `up` in words. */
export function upLabel(up: boolean | null): string {
  return up === null ? 'unknown' : up ? 'up' : 'down';
}
