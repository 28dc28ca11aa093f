/**
 * The dashboard's live charts. They redraw once a second from a fresh stats document, so every series
 * has animation off and no dots (but where a point stands alone, which no line reaches), and each
 * chart is memoised to redraw only when its data changes.
 */
import { memo } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  ResponsiveContainer,
  XAxis,
  YAxis,
  usePlotArea,
  useXAxisScale,
  type BarShapeProps,
} from 'recharts';
import { RESULT_TYPES, STAGE_NAMES } from '../../preload/wire-types.ts';
import {
  AXIS_TICK,
  CHART_MARGIN,
  EMPTY_LATENCY_TICKS_MS,
  TimeLineChart,
  grid,
  latencyLines,
  legend,
  noValues,
  rowsSpan,
  timeAxis,
  tooltip,
  useChartWidth,
  valueAxis,
  type Layer,
} from './chart-frame.tsx';
import { chartPalette } from './chart-palette.ts';
import { failedSecondLayout, type BarSpan, type TimeScale } from './failed-checks-chart.ts';
import { STAGE_SHORT_LABELS, UNTIMED, formatAxisMs, formatMs, percentAxis, type ChartRow, type StageBarRow } from './stats-format.ts';

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
  const width = useChartWidth();
  const layers = RESULT_TYPES.map((type) => ({ key: type, name: type, color: palette.result[type] }));
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis({ span: rowsSpan(rows), width })}
        {valueAxis(undefined, { allowDecimals: false })}
        {tooltip((v) => `${v} req/s`, RESULT_TYPES)}
        {legend()}
        {stackedAreas(layers, 'results', 0.75)}
      </AreaChart>
    </ResponsiveContainer>
  );
});

/** P50/P90/P99 per second in ms; seconds without requests are gaps, not zeros; with none at all, a 0–100 ms scale. */
export const LatencyChart = memo(function LatencyChart({ rows }: { rows: ChartRow[] }) {
  return (
    <TimeLineChart
      rows={rows}
      lines={latencyLines()}
      axis={{ span: rowsSpan(rows) }}
      axisFormat={formatAxisMs}
      valueFormat={formatMs}
      emptyTicks={EMPTY_LATENCY_TICKS_MS}
    />
  );
});

/**
 * One second's bar of a stacked layer, over the span `layout` gives it (failed-checks-chart.ts): its
 * second to the next, not centred on it (recharts places bars on a number axis by the axis' ticks),
 * or, where seconds are too narrow to show, the width of its group of seconds, when it is the group's
 * worst. Both layers of a second get the same span, so the stack stays whole. Crisp edges: the bars
 * of consecutive seconds meet without a seam or an overlap.
 */
function SecondBar({
  shape,
  color,
  opacity,
  layout,
}: {
  shape: BarShapeProps;
  color: string;
  opacity: number;
  layout: (scale: TimeScale) => ReadonlyMap<number, BarSpan>;
}) {
  const scale = useXAxisScale();
  const plot = usePlotArea();
  const t: unknown = (shape.payload as { t?: unknown } | undefined)?.t;
  if (!scale || !plot || typeof t !== 'number' || !(shape.height > 0) || !Number.isFinite(shape.y)) return null;
  const bar = layout({ x: (second) => scale(second) ?? NaN, left: plot.x, right: plot.x + plot.width }).get(t);
  if (!bar) return null;
  return (
    <rect
      className="second-bar"
      x={bar.x0}
      y={shape.y}
      width={bar.x1 - bar.x0}
      height={shape.height}
      fill={color}
      fillOpacity={opacity}
      shapeRendering="crispEdges"
    />
  );
}

/**
 * Failed checks per second in % of that second's checks: server errors (5xx, what the alert counts)
 * under client errors (4xx, never alerted on), stacked, on a round scale of at least 0–1 %. Seconds
 * without requests are gaps: no traffic is not "0 % errors". Each second is a bar its own second
 * wide: a step area gives a second followed by a gap no width, so a lone second (sparse traffic, a
 * single burst of 400s) would not be drawn at all. Where seconds are under MIN_BAR_PX wide (5 and
 * 15 min), each few-second group draws its worst second, so no burst hides behind its neighbours.
 */
export const ErrorRateChart = memo(function ErrorRateChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  const width = useChartWidth();
  const axis = percentAxis(rows.reduce((m, r) => Math.max(m, (r.error_pct ?? 0) + (r.client_error_pct ?? 0)), 0));
  const layers = [
    { key: 'error_pct', name: 'server (5xx)', color: palette.danger },
    { key: 'client_error_pct', name: 'client (4xx)', color: palette.axis },
  ] as const;
  const layout = failedSecondLayout(rows.map((r) => ({ t: r.t, failedPct: (r.error_pct ?? 0) + (r.client_error_pct ?? 0) })));
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis({ span: rowsSpan(rows), width })}
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
          true,
          true,
        )}
        {legend()}
        {layers.map((layer) => (
          <Bar
            key={layer.key}
            dataKey={layer.key}
            name={layer.name}
            stackId="errors"
            fill={layer.color}
            isAnimationActive={false}
            shape={(shape: BarShapeProps) => <SecondBar shape={shape} color={layer.color} opacity={0.6} layout={layout} />}
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
});

/** Requests waiting for a batch slot, sampled once a second. */
export const QueueDepthChart = memo(function QueueDepthChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  const width = useChartWidth();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis({ span: rowsSpan(rows), width })}
        {/* No queue sample in the window yet (a service just started): the scale an idle requests chart shows. */}
        {valueAxis(undefined, { allowDecimals: false, fixedTicks: noValues(rows, ['queue_depth']) ? [0, 1, 2, 3, 4] : undefined })}
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
