/**
 * The Fleet panel: figures over every replica, read from the Prometheus the service was started
 * with (`ofa-ve serve --prometheus-url`), shown only when the service has one. Fleet QPS,
 * P50/P90/P99 (bucket rates summed over the replicas, `sum by (le)`), error rate, a per-replica table
 * with the slowest marked, and charts over the window; every figure and chart says its source, and
 * hovering a figure shows its PromQL.
 */
import { memo, useCallback, useMemo, useState } from 'react';
import type { FleetDocument, PrometheusFigure } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { usePoll } from '../api/use-poll.ts';
import { ChartCard, EMPTY_LATENCY_TICKS_MS, TimeLineChart, latencyLines, type LineLayer } from './chart-frame.tsx';
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
import './fleet-panel.css';
import { NO_VALUE, formatAxisMs, formatClock, formatMs, formatPercent, formatQps } from './stats-format.ts';
import { WindowSelect } from './window-select.tsx';

const FLEET_SELECT_CHOICES = FLEET_WINDOW_CHOICES.map((choice) => ({ value: choice.window, label: choice.label }));

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

/**
 * Lines over the window from Prometheus' range queries; gaps where Prometheus had no sample. The axis
 * spans the whole window, so that a Prometheus with a short history shows where it is in it.
 */
const FleetLineChart = memo(function FleetLineChart({
  rows,
  lines,
  span,
  axisFormat,
  valueFormat,
  emptyTicks,
}: {
  rows: FleetChartRow[];
  lines: LineLayer[];
  /** The whole window in epoch seconds. */
  span: [number, number];
  axisFormat(v: number): string;
  valueFormat(v: number): string;
  emptyTicks?: readonly number[];
}) {
  // 16 px between tick labels, as the Fleet charts always had (the live charts: 8).
  const axis = useMemo(() => ({ span, whole: true, minTickGap: 16 }), [span]);
  return <TimeLineChart rows={rows} lines={lines} axis={axis} axisFormat={axisFormat} valueFormat={valueFormat} emptyTicks={emptyTicks} />;
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
                {formatPercent(r.error_rate)}
              </td>
              <td className="num" data-col="skew">
                {r.p90_skew === null ? NO_VALUE : `${r.p90_skew.toFixed(2)}×`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FleetFigures({ doc }: { doc: FleetDocument }) {
  // Built once per answer: FleetLineChart is memoised, so fresh arrays every render would redraw it.
  const { qpsLines, qpsRows } = useMemo(() => {
    const palette = chartPalette();
    const replicaLines = replicaLineNames(doc);
    const lines: LineLayer[] = [
      { key: 'qps', name: 'fleet', color: palette.accent },
      ...replicaLines.map((key, i) => ({
        key,
        name: key.slice(4),
        color: [palette.warn, palette.axis, palette.danger][i % 3]!,
        dash: '4 3',
      })),
    ];
    return { qpsLines: lines, qpsRows: fleetChartRows(doc.series.lines, ['qps', ...replicaLines]) };
  }, [doc]);
  const latencyRows = useMemo(() => fleetChartRows(doc.series.lines, ['p50_ms', 'p90_ms', 'p99_ms']), [doc]);
  const latencyLineLayers = useMemo(latencyLines, []);
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
          text={formatPercent(doc.error_rate.value)}
          caption={`5xx / (checks − 4xx) · ${sum}`}
          testId="fleet-error-rate"
        />
      </div>
      <ReplicaTable doc={doc} />
      <div className="dash-grid">
        <ChartCard title="Fleet QPS" note={`fleet and per replica · ${over} · ${sum}`} testId="fleet-chart-qps">
          <FleetLineChart rows={qpsRows} lines={qpsLines} span={span} axisFormat={formatQps} valueFormat={formatQps} />
        </ChartCard>
        <ChartCard title="Fleet latency" note={`P50 / P90 / P99 · ${over} · ${buckets}`} testId="fleet-chart-latency">
          <FleetLineChart
            rows={latencyRows}
            lines={latencyLineLayers}
            span={span}
            axisFormat={formatAxisMs}
            valueFormat={formatMs}
            emptyTicks={EMPTY_LATENCY_TICKS_MS}
          />
        </ChartCard>
      </div>
    </>
  );
}

export function FleetPanel({ client, prometheusUrl }: { client: ConsoleClient; prometheusUrl: string }) {
  const [window, setWindow] = useState<string>(FLEET_WINDOW_CHOICES[0]!.window);
  const load = useCallback((signal: AbortSignal) => client.fleet(window, signal), [client, window]);
  const { value: doc, error } = usePoll(load, FLEET_REFRESH_MS);

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
