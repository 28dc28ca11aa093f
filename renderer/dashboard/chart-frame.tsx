/**
 * What every dashboard chart shares, the in-app live charts and the Fleet panel's alike: the card,
 * the margins, the grid, the time and value axes, the tooltip, the legend and the line series, all
 * in the palette and formatted the same way. Recharts reads its axes and tooltip from the chart's
 * children, so these are functions that return those elements rather than wrapping components.
 */
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, type DotItemDotProps } from 'recharts';
import { chartPalette } from './chart-palette.ts';
import { formatClock, timeTicks } from './stats-format.ts';

/** The width (px) of the chart box a chart draws in, for its time axis' tick count; undefined until measured. */
const ChartWidth = createContext<number | undefined>(undefined);

/** The width of the enclosing ChartCard's chart box (undefined outside one, or before it is laid out). */
export function useChartWidth(): number | undefined {
  return useContext(ChartWidth);
}

/** A titled card with a fixed-height box, which ResponsiveContainer needs to size its chart. */
export function ChartCard({ title, note, testId, children }: { title: string; note?: string; testId?: string; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState<number | undefined>();
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver((entries) => {
      const measured = entries[0]?.contentRect.width;
      if (measured !== undefined) setWidth(Math.round(measured));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return (
    <figure className="chart-card" data-testid={testId}>
      <figcaption>
        <span className="chart-title">{title}</span>
        {note && <span className="muted chart-note">{note}</span>}
      </figcaption>
      <ChartWidth.Provider value={width}>
        <div className="chart-box" ref={box}>
          {children}
        </div>
      </ChartWidth.Provider>
    </figure>
  );
}

export const AXIS_TICK = { fontSize: 11 };
/** Right margin: room for half of a time label on the window's last second, which is a tick on round seconds. */
export const CHART_MARGIN = { top: 6, right: 28, bottom: 0, left: 0 };
/** The value axes' width (px). */
const VALUE_AXIS_WIDTH = 56;
/** A time label's width (px): "12:00:00" in the axis' 11 px font. */
const TIME_LABEL_WIDTH = 52;

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
  /** The chart box's width (useChartWidth): how many time labels fit; undefined: as many as 6. */
  width?: number;
}

/** How many time ticks fit a chart box `width` px wide with `minTickGap` px between labels. */
export function timeTickCount(width: number | undefined, minTickGap: number): number {
  if (width === undefined || !Number.isFinite(width)) return 6;
  const plot = width - VALUE_AXIS_WIDTH - CHART_MARGIN.left - CHART_MARGIN.right;
  return Math.max(2, Math.floor(plot / (TIME_LABEL_WIDTH + minTickGap)));
}

/**
 * The x axis: epoch seconds as wall-clock time over exactly the span, ticks on multiples of one round
 * step (timeTicks), as many as fit the chart's width, so the labels stay put while the window slides.
 * All of them are drawn (interval 0): recharts' default ('preserveEnd') drops whichever single label
 * would touch its neighbour, which left an irregular step (…:50, :00, :20); the count already fits.
 */
export function timeAxis({ span, whole = false, minTickGap = 8, width }: TimeAxisOptions) {
  const palette = chartPalette();
  return (
    <XAxis
      dataKey="t"
      type="number"
      domain={span ? [span[0], span[1]] : ['dataMin', 'dataMax']}
      ticks={span ? timeTicks(span[0], span[1], timeTickCount(width, minTickGap)) : undefined}
      interval={0}
      allowDataOverflow={whole}
      tickFormatter={(t: number) => formatClock(t)}
      tick={{ ...AXIS_TICK, fill: palette.axis }}
      stroke={palette.grid}
    />
  );
}

/** The x axis' span for rows of one point a second: their first and last second. */
export function rowsSpan(rows: readonly { t: number }[]): [number, number] | undefined {
  const first = rows[0]?.t;
  const last = rows[rows.length - 1]?.t;
  return first !== undefined && last !== undefined ? [first, last] : undefined;
}

/**
 * The y axis of a value from 0 up. `fixedTicks`: a scale of its own, for a chart with no value to
 * scale to (recharts draws no ticks at all for a domain without data).
 */
export function valueAxis(format?: (value: number) => string, extra?: { allowDecimals?: boolean; fixedTicks?: readonly number[] }) {
  const palette = chartPalette();
  const fixed = extra?.fixedTicks;
  return (
    <YAxis
      width={VALUE_AXIS_WIDTH}
      tickFormatter={format}
      tick={{ ...AXIS_TICK, fill: palette.axis }}
      stroke={palette.grid}
      allowDecimals={extra?.allowDecimals ?? true}
      domain={fixed ? [0, fixed[fixed.length - 1] ?? 0] : [0, 'auto']}
      ticks={fixed ? [...fixed] : undefined}
      // Recharts takes a given domain over the data's only with this; without data it draws no ticks otherwise.
      allowDataOverflow={fixed !== undefined}
    />
  );
}

/** True when no row has a number under any of `keys` (nothing for recharts to scale an axis to). */
export function noValues(rows: readonly object[], keys: readonly string[]): boolean {
  return !rows.some((row) => keys.some((key) => Number.isFinite((row as Record<string, unknown>)[key])));
}

export function grid() {
  return <CartesianGrid stroke={chartPalette().grid} strokeDasharray="3 3" vertical={false} />;
}

/**
 * Tooltip in the palette; `order` keeps the series' own order (recharts sorts by name by default).
 * `bandCursor`: the hovered second of a bar chart is shaded in the grid's colour, not recharts' light
 * grey, which looks like a bar of data.
 */
export function tooltip(formatValue: (value: number) => string, order: readonly string[] = [], labelIsTime = true, bandCursor = false) {
  const palette = chartPalette();
  return (
    <Tooltip
      isAnimationActive={false}
      cursor={bandCursor ? { fill: palette.grid, fillOpacity: 0.5, stroke: 'none' } : true}
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
/** `width`/`opacity`/`className`: a line drawn behind others (the fleet's total under its replicas). */
export type LineLayer = Layer & { dash?: string; width?: number; opacity?: number; className?: string };

/** True when the row has a number under `key` (a point of that line). */
function hasValue(row: object | undefined, key: string): boolean {
  return row !== undefined && Number.isFinite((row as Record<string, unknown>)[key]);
}

/** True when some row has a value under `key` and neither neighbour has one: a point no segment reaches. */
export function hasIsolatedPoint(rows: readonly object[], key: string): boolean {
  return rows.some((row, i) => hasValue(row, key) && !hasValue(rows[i - 1], key) && !hasValue(rows[i + 1], key));
}

/**
 * The dot of a line at its isolated points only (a value between two gaps, as sparse traffic gives):
 * a line draws no segment there, so without it such a second would not be drawn at all. Everywhere
 * else the line itself shows the point, and no dot is drawn.
 */
function isolatedDot(line: LineLayer) {
  const radius = (line.width ?? 1.5) + 1;
  return ({ points, index, cx, cy }: DotItemDotProps) => {
    const isolated = (i: number) => points[i] !== undefined && points[i].y !== null;
    if (cx === undefined || cy === undefined || !isolated(index) || isolated(index - 1) || isolated(index + 1)) return null;
    return <circle className="isolated-point" cx={cx} cy={cy} r={radius} fill={line.color} fillOpacity={line.opacity} stroke="none" />;
  };
}

/**
 * One line a series, straight between points; a null (no requests that second) is a gap. A point
 * with gaps on both sides is a dot (`rows`: the chart's data, to tell whether a line has one).
 */
export function lineSeries(lines: readonly LineLayer[], rows: readonly object[] = []) {
  return lines.map((line) => (
    <Line
      key={line.key}
      dataKey={line.key}
      name={line.name}
      type="linear"
      className={line.className}
      stroke={line.color}
      strokeDasharray={line.dash}
      strokeWidth={line.width ?? 1.5}
      strokeOpacity={line.opacity}
      // Dots only where a point stands alone: the dot function runs for every point, so only for a line that has one.
      dot={hasIsolatedPoint(rows, line.key) ? isolatedDot(line) : false}
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

/** A latency chart's y axis (ms) while it has no latency to scale to: a service with no checks yet. */
export const EMPTY_LATENCY_TICKS_MS: readonly number[] = [0, 25, 50, 75, 100];

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
  emptyTicks,
}: {
  rows: readonly { t: number }[];
  lines: readonly LineLayer[];
  axis: TimeAxisOptions;
  axisFormat(value: number): string;
  valueFormat(value: number): string;
  /** The y axis' ticks while no line has a value (no traffic), so the empty chart keeps a scale as the others do. */
  emptyTicks?: readonly number[];
}) {
  const width = useChartWidth();
  const empty =
    emptyTicks &&
    noValues(
      rows,
      lines.map((l) => l.key),
    );
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis({ ...axis, width })}
        {valueAxis(axisFormat, { fixedTicks: empty ? emptyTicks : undefined })}
        {tooltip(
          valueFormat,
          lines.map((l) => l.key),
        )}
        {legend()}
        {lineSeries(lines, rows)}
      </LineChart>
    </ResponsiveContainer>
  );
}
