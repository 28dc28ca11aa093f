/**
 * The Fleet panel: figures over every replica, read from the Prometheus the service was started
 * with (`ofa-ve serve --prometheus-url`), shown only when the service has one. Fleet QPS,
 * P50/P90/P99 (bucket rates summed over the replicas, `sum by (le)`), error rate, a per-replica table
 * with the slowest marked, and charts over the window; every figure and chart says its source, and
 * hovering a figure shows its PromQL.
 */
import { memo, useCallback, useMemo, useState } from 'react';
import { LineChart, ResponsiveContainer } from 'recharts';
import type { FleetDocument, PrometheusFigure } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { usePoll } from '../api/use-poll.ts';
import {
  CHART_MARGIN,
  ChartCard,
  EMPTY_LATENCY_TICKS_MS,
  TimeLineChart,
  grid,
  latencyLines,
  legend,
  lineSeries,
  timeAxis,
  tooltip,
  useChartWidth,
  valueAxis,
  type LineLayer,
} from './chart-frame.tsx';
import { chartPalette, seriesColors } from './chart-palette.ts';
import {
  AS_OF_LAST_SCRAPE,
  FLEET_REFRESH_MS,
  FLEET_WINDOW_CHOICES,
  fleetChartRows,
  formatAxisQps,
  prometheusSource,
  replicaLineNames,
  skewCell,
  skewPhrase,
  upLabel,
  type FleetChartRow,
} from './fleet-format.ts';
import './fleet-panel.css';
import { formatAxisMs, formatClock, formatMs, formatPercent, formatQps } from './stats-format.ts';
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

/** The fleet total's line: wide and translucent, drawn first, so the replicas' lines on it stay visible. */
const FLEET_LINE_WIDTH = 5;
const FLEET_LINE_OPACITY = 0.45;

/**
 * Fleet QPS with a line per replica. The fleet total is drawn behind, wide and pale; each replica on
 * top in a colour of its own (never the axis grey or the fleet's), so a replica that takes all the
 * load is seen on the fleet's line and a small one along the axis.
 */
const FleetQpsChart = memo(function FleetQpsChart({
  rows,
  fleet,
  replicas,
  span,
}: {
  rows: FleetChartRow[];
  fleet: LineLayer;
  replicas: LineLayer[];
  span: [number, number];
}) {
  const width = useChartWidth();
  const axis = useMemo(() => ({ span, whole: true, minTickGap: 16 }), [span]);
  const order = useMemo(() => [fleet.key, ...replicas.map((l) => l.key)], [fleet, replicas]);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis({ ...axis, width })}
        {valueAxis(formatAxisQps)}
        {tooltip(formatQps, order)}
        {legend()}
        {lineSeries([{ ...fleet, width: FLEET_LINE_WIDTH, opacity: FLEET_LINE_OPACITY, className: 'fleet-total' }, ...replicas], rows)}
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
            <th scope="col" className="num" title="its P90 over the P90 of the replicas up (the fleet's while every replica is up)">
              P90 / replicas up
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
              data-as-of-last-scrape={r.as_of_last_scrape ? 'true' : 'false'}
              className={[r.slowest ? 'slowest' : '', r.up === false ? 'down' : ''].join(' ').trim() || undefined}
              title={
                r.as_of_last_scrape
                  ? `${r.instance} is ${r.up === false ? 'down' : 'gone'}: its figures are ${AS_OF_LAST_SCRAPE}`
                  : undefined
              }
            >
              <th scope="row" className="mono">
                {r.instance}
                {r.slowest && <span className="slowest-tag"> slowest</span>}
              </th>
              <td data-col="up">
                {upLabel(r.up)}
                {r.as_of_last_scrape && (r.qps !== null || r.p90_ms !== null || r.error_rate !== null) && (
                  <span className="muted as-of-note" data-testid="fleet-replica-as-of">
                    {' '}
                    · figures as of its last scrape
                  </span>
                )}
              </td>
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
                {skewCell(r)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FleetFigures({ doc }: { doc: FleetDocument }) {
  // Built once per answer: the charts are memoised, so fresh arrays every render would redraw them.
  const { fleetLine, replicaLayers, qpsRows } = useMemo(() => {
    const palette = chartPalette();
    const colors = seriesColors(palette);
    const replicaLines = replicaLineNames(doc);
    return {
      fleetLine: { key: 'qps', name: 'fleet', color: palette.accent } satisfies LineLayer,
      replicaLayers: replicaLines.map((key, i): LineLayer => ({
        key,
        name: key.slice(4),
        color: colors[i % colors.length]!,
        // Past the palette's colours the dash tells lines of one colour apart.
        dash: i < colors.length ? undefined : '4 3',
      })),
      qpsRows: fleetChartRows(doc.series.lines, ['qps', ...replicaLines]),
    };
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
      <div className="dash-grid fleet-charts">
        <ChartCard title="Fleet QPS" note={`fleet and per replica · ${over} · ${sum}`} testId="fleet-chart-qps">
          <FleetQpsChart rows={qpsRows} fleet={fleetLine} replicas={replicaLayers} span={span} />
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
