/**
 * The dashboard's live charts. They redraw once a second from a fresh stats document, so every series
 * has animation off and no dots, and each chart is memoised to redraw only when its data changes.
 */
import { memo, type ReactNode } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { RESULT_TYPES, STAGE_NAMES } from '../../preload/wire-types.ts';
import { chartPalette } from './chart-palette.ts';
import {
  STAGE_SHORT_LABELS,
  UNTIMED,
  formatAxisMs,
  formatClock,
  formatMs,
  percentAxis,
  timeTicks,
  type ChartRow,
  type StageBarRow,
} from './stats-format.ts';

/** A titled card with a fixed-height box, which ResponsiveContainer needs to size its chart. */
export function ChartCard({ title, note, testId, children }: { title: string; note?: string; testId?: string; children: ReactNode }) {
  return (
    <figure className="chart-card" data-testid={testId}>
      <figcaption>
        <span className="chart-title">{title}</span>
        {note && <span className="muted chart-note">{note}</span>}
      </figcaption>
      <div className="chart-box">{children}</div>
    </figure>
  );
}

const AXIS_TICK = { fontSize: 11 };
const CHART_MARGIN = { top: 6, right: 12, bottom: 0, left: 0 };

/**
 * Shared x axis: epoch seconds as wall-clock time, spanning exactly the window's points, with ticks
 * on round seconds so the labels stay put while the window slides.
 */
function timeAxis(rows: ChartRow[]) {
  const palette = chartPalette();
  const first = rows[0]?.t;
  const last = rows[rows.length - 1]?.t;
  return (
    <XAxis
      dataKey="t"
      type="number"
      domain={['dataMin', 'dataMax']}
      ticks={first !== undefined && last !== undefined ? timeTicks(first, last) : undefined}
      tickFormatter={(t: number) => formatClock(t)}
      tick={{ ...AXIS_TICK, fill: palette.axis }}
      stroke={palette.grid}
      minTickGap={8}
    />
  );
}

function valueAxis(format?: (value: number) => string, extra?: { allowDecimals?: boolean }) {
  const palette = chartPalette();
  return (
    <YAxis
      width={56}
      tickFormatter={format}
      tick={{ ...AXIS_TICK, fill: palette.axis }}
      stroke={palette.grid}
      allowDecimals={extra?.allowDecimals ?? true}
      domain={[0, 'auto']}
    />
  );
}

function grid() {
  return <CartesianGrid stroke={chartPalette().grid} strokeDasharray="3 3" vertical={false} />;
}

/** Tooltip in the palette; `order` keeps the series' own order (recharts sorts by name by default). */
function tooltip(formatValue: (value: number) => string, order: readonly string[] = [], labelIsTime = true) {
  const palette = chartPalette();
  return (
    <Tooltip
      isAnimationActive={false}
      itemSorter={(item) => order.indexOf(String(item.dataKey))}
      contentStyle={{ background: palette.panel, border: `1px solid ${palette.grid}`, borderRadius: 6, fontSize: 12 }}
      labelStyle={{ color: palette.text }}
      labelFormatter={(label) => (labelIsTime ? formatClock(Number(label)) : String(label))}
      formatter={(value) => (typeof value === 'number' ? formatValue(value) : String(value ?? '—'))}
    />
  );
}

/** A series of a chart: its data key, legend name and colour. */
export interface Layer {
  key: string;
  name: string;
  color: string;
}

/** One line a series, straight between seconds; a null (no requests that second) is a gap. */
export function lineSeries(lines: readonly (Layer & { dash?: string })[]) {
  return lines.map((line) => (
    <Line
      key={line.key}
      dataKey={line.key}
      name={line.name}
      type="linear"
      stroke={line.color}
      strokeDasharray={line.dash}
      strokeWidth={1.5}
      dot={false}
      connectNulls={false}
      isAnimationActive={false}
    />
  ));
}

/** Legend in the series' own order. */
function legend() {
  return <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />;
}

/** Layers stacked in the given order, one step a second and fill only (see QpsChart for why). */
function stackedAreas(layers: readonly Layer[], stackId: string, fillOpacity: number) {
  return layers.map((layer) => (
    <Area
      key={layer.key}
      dataKey={layer.key}
      name={layer.name}
      stackId={stackId}
      type="stepAfter"
      stroke="none"
      strokeWidth={0}
      fill={layer.color}
      fillOpacity={fillOpacity}
      dot={false}
      activeDot={false}
      connectNulls={false}
      isAnimationActive={false}
    />
  ));
}

/**
 * Requests per second, stacked by result type (each point is one second, so counts are QPS). The
 * layers are fill only: an outline follows the top of its layer even where the layer is 0 high, so
 * a stroked ERROR layer would paint its colour over every second with no error at all.
 */
export const QpsChart = memo(function QpsChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  const layers = RESULT_TYPES.map((type) => ({ key: type, name: type, color: palette.result[type] }));
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis(rows)}
        {valueAxis(undefined, { allowDecimals: false })}
        {tooltip((v) => `${v} req/s`, RESULT_TYPES)}
        {legend()}
        {stackedAreas(layers, 'results', 0.75)}
      </AreaChart>
    </ResponsiveContainer>
  );
});

/** P50/P90/P99 per second in ms; seconds without requests are gaps, not zeros. */
export const LatencyChart = memo(function LatencyChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  const lines = [
    { key: 'p50_ms', name: 'P50', color: palette.accent, dash: undefined },
    { key: 'p90_ms', name: 'P90', color: palette.warn, dash: undefined },
    // Dashed: with few requests in a second P99 often equals P90 and would hide it.
    { key: 'p99_ms', name: 'P99', color: palette.danger, dash: '5 3' },
  ] as const;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis(rows)}
        {valueAxis(formatAxisMs)}
        {tooltip(
          formatMs,
          lines.map((l) => l.key),
        )}
        {legend()}
        {lineSeries(lines)}
      </LineChart>
    </ResponsiveContainer>
  );
});

/**
 * Failed checks per second in % of that second's checks: server errors (5xx, what the alert counts)
 * under client errors (4xx, never alerted on), stacked, fill only (see QpsChart), on a round scale
 * of at least 0–1 %. Seconds without requests are gaps: no traffic is not "0 % errors".
 */
export const ErrorRateChart = memo(function ErrorRateChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  const axis = percentAxis(rows.reduce((m, r) => Math.max(m, (r.error_pct ?? 0) + (r.client_error_pct ?? 0)), 0));
  const layers = [
    { key: 'error_pct', name: 'server (5xx)', color: palette.danger },
    { key: 'client_error_pct', name: 'client (4xx)', color: palette.axis },
  ] as const;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis(rows)}
        <YAxis
          width={52}
          unit="%"
          tick={{ ...AXIS_TICK, fill: palette.axis }}
          stroke={palette.grid}
          domain={[0, axis.max]}
          ticks={axis.ticks}
          allowDataOverflow
        />
        {tooltip(
          (v) => `${v.toFixed(1)}%`,
          layers.map((l) => l.key),
        )}
        {legend()}
        {stackedAreas(layers, 'errors', 0.6)}
      </AreaChart>
    </ResponsiveContainer>
  );
});

/** Requests waiting for a batch slot, sampled once a second. */
export const QueueDepthChart = memo(function QueueDepthChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis(rows)}
        {valueAxis(undefined, { allowDecimals: false })}
        {tooltip((v) => `${v} queued`)}
        <Area
          dataKey="queue_depth"
          name="queue depth"
          type="stepAfter"
          stroke={palette.accent}
          fill={palette.accent}
          fillOpacity={0.3}
          dot={false}
          activeDot={false}
          connectNulls={false}
          isAnimationActive={false}
        />
      </AreaChart>
    </ResponsiveContainer>
  );
});

/**
 * How the mean latency of successful checks divides: one bar of the stage means and the untimed
 * remainder, adding up to the mean (means add up; per-stage quantiles do not).
 */
export const StageBreakdownChart = memo(function StageBreakdownChart({ bar }: { bar: StageBarRow | undefined }) {
  const palette = chartPalette();
  const parts = [
    ...STAGE_NAMES.map((stage) => ({ key: stage, name: STAGE_SHORT_LABELS[stage], color: palette.stage[stage] })),
    { key: UNTIMED, name: 'untimed', color: palette.untimed },
  ];
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={bar ? [bar] : []} layout="vertical" margin={CHART_MARGIN} maxBarSize={48}>
        <CartesianGrid stroke={palette.grid} strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" tickFormatter={formatAxisMs} tick={{ ...AXIS_TICK, fill: palette.axis }} stroke={palette.grid} />
        <YAxis type="category" dataKey="bar" width={44} tick={{ ...AXIS_TICK, fill: palette.axis }} stroke={palette.grid} />
        {tooltip(
          formatMs,
          parts.map((p) => p.key),
          false,
        )}
        {legend()}
        {parts.map((part) => (
          <Bar key={part.key} dataKey={part.key} name={part.name} stackId="stages" fill={part.color} isAnimationActive={false} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
});
