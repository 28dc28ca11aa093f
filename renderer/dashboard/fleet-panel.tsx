/**
 * The Fleet panel: figures over every replica, read from the Prometheus the service was started
 * with (`ofa-ve serve --prometheus-url`), shown only when the service has one. Fleet QPS,
 * P50/P90/P99 (bucket rates summed over the replicas, `sum by (le)`), error rate, a per-replica table
 * with the slowest marked, and charts over the window; every figure and chart says its source, and
 * hovering a figure shows its PromQL.
 */
import { memo, useEffect, useMemo, useState } from 'react';
import { CartesianGrid, Legend, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ApiError, FleetDocument, PrometheusFigure } from '../../preload/wire-types.ts';
import { toApiError, type ConsoleClient } from '../api/console-client.ts';
import { chartPalette } from './chart-palette.ts';
import {
  FLEET_REFRESH_MS,
  FLEET_WINDOW_CHOICES,
  fleetChartRows,
  prometheusSource,
  replicaLineNames,
  skewPhrase,
  upLabel,
  type FleetChartRow,
} from './fleet-format.ts';
import { ChartCard, lineSeries, type Layer } from './live-charts.tsx';
import './fleet-panel.css';
import { formatAxisMs, formatClock, formatMs, formatPercent, formatQps, timeTicks } from './stats-format.ts';
import { WindowSelect } from './window-select.tsx';

const FLEET_SELECT_CHOICES = FLEET_WINDOW_CHOICES.map((choice) => ({ value: choice.window, label: choice.label }));
const AXIS_TICK = { fontSize: 11 };
const CHART_MARGIN = { top: 6, right: 12, bottom: 0, left: 0 };

function Figure({
  label,
  figure,
  text,
  caption,
  testId,
}: {
  label: string;
  figure: PrometheusFigure;
  text: string;
  caption: string;
  testId: string;
}) {
  return (
    <div className="figure" data-figure={testId} title={figure.query}>
      <div className="figure-label">{label}</div>
      <div className="figure-value" data-testid={testId} data-value={figure.value ?? ''}>
        {text}
      </div>
      <div className="figure-caption">{caption}</div>
    </div>
  );
}

type ChartLine = Layer & { dash?: string };

/** Lines over the window from Prometheus' range queries; gaps where Prometheus had no sample. */
const FleetLineChart = memo(function FleetLineChart({
  rows,
  lines,
  span,
  format,
}: {
  rows: FleetChartRow[];
  lines: ChartLine[];
  /** The whole window in epoch seconds, so that a Prometheus with a short history shows where it is in it. */
  span: [number, number];
  format(v: number): string;
}) {
  const palette = chartPalette();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={CHART_MARGIN}>
        <CartesianGrid stroke={palette.grid} strokeDasharray="3 3" vertical={false} />
        <XAxis
          dataKey="t"
          type="number"
          domain={span}
          ticks={timeTicks(span[0], span[1])}
          allowDataOverflow
          tickFormatter={(t: number) => formatClock(t)}
          tick={{ ...AXIS_TICK, fill: palette.axis }}
          stroke={palette.grid}
          minTickGap={16}
        />
        <YAxis width={56} tickFormatter={format} tick={{ ...AXIS_TICK, fill: palette.axis }} stroke={palette.grid} domain={[0, 'auto']} />
        <Tooltip
          isAnimationActive={false}
          contentStyle={{ background: palette.panel, border: `1px solid ${palette.grid}`, borderRadius: 6, fontSize: 12 }}
          labelStyle={{ color: palette.text }}
          labelFormatter={(label) => formatClock(Number(label))}
          formatter={(value) => (typeof value === 'number' ? format(value) : String(value ?? '—'))}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {lineSeries(lines)}
      </LineChart>
    </ResponsiveContainer>
  );
});

function ReplicaTable({ doc }: { doc: FleetDocument }) {
  return (
    <div className="table-scroll">
      <table className="slowest-table fleet-replicas" data-testid="fleet-replicas">
        <caption>
          <strong>Replicas</strong>
          <span className="muted" data-testid="fleet-replicas-source">
            {` ${skewPhrase(doc)} · ${prometheusSource(doc.prometheus_url, 'per instance')}`}
          </span>
        </caption>
        <thead>
          <tr>
            <th scope="col">Instance</th>
            <th scope="col">State</th>
            <th scope="col" className="num" title={doc.replica_queries.qps}>
              QPS
            </th>
            <th scope="col" className="num" title={doc.replica_queries.p90_ms}>
              P90
            </th>
            <th scope="col" className="num" title={doc.replica_queries.error_rate}>
              Errors
            </th>
            <th scope="col" className="num">
              P90 / fleet
            </th>
          </tr>
        </thead>
        <tbody>
          {doc.replicas.map((r) => (
            <tr
              key={`${r.job}/${r.instance}`}
              data-testid="fleet-replica"
              data-instance={r.instance}
              data-up={upLabel(r.up)}
              data-slowest={r.slowest ? 'true' : 'false'}
              className={[r.slowest ? 'slowest' : '', r.up === false ? 'down' : ''].join(' ').trim() || undefined}
            >
              <th scope="row" className="mono">
                {r.instance}
                {r.slowest && <span className="slowest-tag"> slowest</span>}
              </th>
              <td data-col="up">{upLabel(r.up)}</td>
              <td className="num" data-col="qps">
                {formatQps(r.qps)}
              </td>
              <td className="num" data-col="p90">
                {formatMs(r.p90_ms)}
              </td>
              <td className="num" data-col="errors">
                {r.error_rate === null ? '—' : formatPercent(r.error_rate)}
              </td>
              <td className="num" data-col="skew">
                {r.p90_skew === null ? '—' : `${r.p90_skew.toFixed(2)}×`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FleetFigures({ doc }: { doc: FleetDocument }) {
  const palette = chartPalette();
  const replicaLines = replicaLineNames(doc);
  const qpsLines: ChartLine[] = [
    { key: 'qps', name: 'fleet', color: palette.accent },
    ...replicaLines.map((key, i) => ({
      key,
      name: key.slice(4),
      color: [palette.warn, palette.axis, palette.danger][i % 3]!,
      dash: '4 3',
    })),
  ];
  const latencyLines: ChartLine[] = [
    { key: 'p50_ms', name: 'P50', color: palette.accent },
    { key: 'p90_ms', name: 'P90', color: palette.warn },
    { key: 'p99_ms', name: 'P99', color: palette.danger, dash: '5 3' },
  ];
  const qpsRows = useMemo(() => fleetChartRows(doc.series.lines, ['qps', ...replicaLineNames(doc)]), [doc]);
  const latencyRows = useMemo(() => fleetChartRows(doc.series.lines, ['p50_ms', 'p90_ms', 'p99_ms']), [doc]);
  const sum = prometheusSource(doc.prometheus_url, 'sum over instances');
  const buckets = prometheusSource(doc.prometheus_url);
  const over = `rate over ${doc.series.rate_window}, every ${doc.series.step_s} s`;
  const end = Date.parse(doc.generated_at) / 1000;
  const span = useMemo((): [number, number] => [end - doc.window_s, end], [end, doc.window_s]);
  return (
    <>
      <div className="figures" data-testid="fleet-figures">
        <Figure label="Fleet QPS" figure={doc.qps} text={formatQps(doc.qps.value)} caption={sum} testId="fleet-qps" />
        <Figure label="P50" figure={doc.p50_ms} text={formatMs(doc.p50_ms.value)} caption={buckets} testId="fleet-p50" />
        <Figure label="P90" figure={doc.p90_ms} text={formatMs(doc.p90_ms.value)} caption={buckets} testId="fleet-p90" />
        <Figure label="P99" figure={doc.p99_ms} text={formatMs(doc.p99_ms.value)} caption={buckets} testId="fleet-p99" />
        <Figure
          label="Error rate"
          figure={doc.error_rate}
          text={doc.error_rate.value === null ? '—' : formatPercent(doc.error_rate.value)}
          caption={`5xx / (checks − 4xx) · ${sum}`}
          testId="fleet-error-rate"
        />
      </div>
      <ReplicaTable doc={doc} />
      <div className="dash-grid">
        <ChartCard title="Fleet QPS" note={`fleet and per replica · ${over} · ${sum}`} testId="fleet-chart-qps">
          <FleetLineChart rows={qpsRows} lines={qpsLines} span={span} format={(v) => formatQps(v)} />
        </ChartCard>
        <ChartCard title="Fleet latency" note={`P50 / P90 / P99 · ${over} · ${buckets}`} testId="fleet-chart-latency">
          <FleetLineChart rows={latencyRows} lines={latencyLines} span={span} format={formatAxisMs} />
        </ChartCard>
      </div>
    </>
  );
}

export function FleetPanel({ client, prometheusUrl }: { client: ConsoleClient; prometheusUrl: string }) {
  const [window, setWindow] = useState<string>(FLEET_WINDOW_CHOICES[0]!.window);
  const [doc, setDoc] = useState<FleetDocument | undefined>();
  const [error, setError] = useState<ApiError | undefined>();

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      client
        .fleet(window)
        .then(
          (next) => {
            if (!live) return;
            setDoc(next);
            setError(undefined);
          },
          (err: unknown) => {
            if (!live) return;
            setError(toApiError(err));
          },
        )
        .finally(() => {
          if (live) timer = setTimeout(load, FLEET_REFRESH_MS);
        });
    };
    load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, window]);

  return (
    <section className="dash-card fleet-panel" data-testid="fleet-panel" aria-labelledby="fleet-title">
      <div className="card-head">
        <h3 id="fleet-title">
          Fleet
          <span className="muted" data-testid="fleet-source">
            every replica, from Prometheus at {prometheusUrl}
          </span>
        </h3>
        <WindowSelect
          label="Fleet window"
          choiceTestId="fleet-window-"
          choices={FLEET_SELECT_CHOICES}
          value={window}
          onChange={(w) => setWindow(w)}
        />
        {doc && (
          <span className="muted" data-testid="fleet-updated">
            updated {formatClock(doc.generated_at)}
          </span>
        )}
      </div>
      {error && (
        <div className="dash-banner error" role="alert" data-testid="fleet-error">
          Fleet figures unavailable: <code>{error.code}</code> {error.message}
          {doc && <span className="muted"> — showing the last figures, from {formatClock(doc.generated_at)}.</span>}
        </div>
      )}
      {doc ? <FleetFigures doc={doc} /> : !error && <p className="muted">Asking Prometheus…</p>}
    </section>
  );
}
