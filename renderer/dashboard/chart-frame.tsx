/**
 * What every dashboard chart shares, the in-app live charts and the Fleet panel's alike: the card,
 * the margins, the grid, the time and value axes, the tooltip, the legend and the line series, all
 * in the palette and formatted the same way. Recharts reads its axes and tooltip from the chart's
 * children, so these are functions that return those elements rather than wrapping components.
 */
import type { ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { chartPalette } from './chart-palette.ts';
import { formatClock, timeTicks } from './stats-format.ts';

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

export const AXIS_TICK = { fontSize: 11 };
export const CHART_MARGIN = { top: 6, right: 12, bottom: 0, left: 0 };

export interface TimeAxisOptions {
  /** The first and last second (epoch s) the axis shows; undefined while there are no points. */
  span: readonly [number, number] | undefined;
  /**
   * The span is the whole window, which the data may not fill (the Fleet panel: a Prometheus with a
   * short history shows where it is in it). Otherwise the axis spans exactly the data's points.
   */
  whole?: boolean;
  /** Least room between tick labels, in px. */
  minTickGap?: number;
}

/**
 * The x axis: epoch seconds as wall-clock time, with ticks on round seconds so the labels stay put
 * while the window slides.
 */
export function timeAxis({ span, whole = false, minTickGap = 8 }: TimeAxisOptions) {
  const palette = chartPalette();
  return (
    <XAxis
      dataKey="t"
      type="number"
      domain={whole && span ? [span[0], span[1]] : ['dataMin', 'dataMax']}
      ticks={span ? timeTicks(span[0], span[1]) : undefined}
      allowDataOverflow={whole}
      tickFormatter={(t: number) => formatClock(t)}
      tick={{ ...AXIS_TICK, fill: palette.axis }}
      stroke={palette.grid}
      minTickGap={minTickGap}
    />
  );
}

/** The x axis' span for rows of one point a second: their first and last second. */
export function rowsSpan(rows: readonly { t: number }[]): [number, number] | undefined {
  const first = rows[0]?.t;
  const last = rows[rows.length - 1]?.t;
  return first !== undefined && last !== undefined ? [first, last] : undefined;
}

/** The y axis of a value from 0 up. */
export function valueAxis(format?: (value: number) => string, extra?: { allowDecimals?: boolean }) {
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

export function grid() {
  return <CartesianGrid stroke={chartPalette().grid} strokeDasharray="3 3" vertical={false} />;
}

/** Tooltip in the palette; `order` keeps the series' own order (recharts sorts by name by default). */
export function tooltip(formatValue: (value: number) => string, order: readonly string[] = [], labelIsTime = true) {
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

/** Legend in the series' own order (recharts sorts by name by default). */
export function legend() {
  return <Legend wrapperStyle={{ fontSize: 12 }} itemSorter={null} />;
}

/** A series of a chart: its data key, legend name and colour. */
export interface Layer {
  key: string;
  name: string;
  color: string;
}

/** A line series, optionally dashed. */
export type LineLayer = Layer & { dash?: string };

/** One line a series, straight between points; a null (no requests that second) is a gap. */
export function lineSeries(lines: readonly LineLayer[]) {
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

/** P50 / P90 / P99 as lines, as both latency charts draw them. */
export function latencyLines(): LineLayer[] {
  const palette = chartPalette();
  return [
    { key: 'p50_ms', name: 'P50', color: palette.accent },
    { key: 'p90_ms', name: 'P90', color: palette.warn },
    // Dashed: with few requests in a second P99 often equals P90 and would hide it.
    { key: 'p99_ms', name: 'P99', color: palette.danger, dash: '5 3' },
  ];
}

/**
 * Lines over time on a value axis from 0, in the shared frame: the in-app latency chart and the
 * Fleet panel's charts. `axisFormat` labels the y axis' ticks, `valueFormat` the tooltip's values.
 */
export function TimeLineChart({
  rows,
  lines,
  axis,
  axisFormat,
  valueFormat,
}: {
  rows: readonly { t: number }[];
  lines: readonly LineLayer[];
  axis: TimeAxisOptions;
  axisFormat(value: number): string;
  valueFormat(value: number): string;
}) {
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis(axis)}
        {valueAxis(axisFormat)}
        {tooltip(
          valueFormat,
          lines.map((l) => l.key),
        )}
        {legend()}
        {lineSeries(lines)}
      </LineChart>
    </ResponsiveContainer>
  );
}
