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
import { STAGE_NAMES, type StageName } from '../../preload/wire-types.ts';
import { chartPalette } from './chart-palette.ts';
import {
  RESULT_TYPES,
  STAGE_SHORT_LABELS,
  formatAxisMs,
  formatClock,
  formatMs,
  percentAxis,
  timeTicks,
  type ChartRow,
  type StageBarRow,
} from './stats-format.ts';

/** A titled card with a fixed-height box, which ResponsiveContainer needs to size its chart. */
export function ChartCard({ title, note, children }: { title: string; note?: string; children: ReactNode }) {
  return (
    <figure className="chart-card">
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

const LEGEND_STYLE = { fontSize: 12 };

/** Requests per second, stacked by result type (each point is one second, so counts are QPS). */
export const QpsChart = memo(function QpsChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <AreaChart data={rows} margin={CHART_MARGIN}>
        {grid()}
        {timeAxis(rows)}
        {valueAxis(undefined, { allowDecimals: false })}
        {tooltip((v) => `${v} req/s`, RESULT_TYPES)}
        <Legend wrapperStyle={LEGEND_STYLE} itemSorter={null} />
        {RESULT_TYPES.map((type) => (
          <Area
            key={type}
            dataKey={type}
            name={type}
            stackId="results"
            type="stepAfter"
            stroke={palette.result[type]}
            fill={palette.result[type]}
            fillOpacity={0.55}
            dot={false}
            activeDot={false}
            isAnimationActive={false}
          />
        ))}
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
        {tooltip(formatMs, lines.map((l) => l.key))}
        <Legend wrapperStyle={LEGEND_STYLE} itemSorter={null} />
        {lines.map((line) => (
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
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
});

/** Share of requests per second that failed, in %, on a round scale of at least 0–1 %. */
export const ErrorRateChart = memo(function ErrorRateChart({ rows }: { rows: ChartRow[] }) {
  const palette = chartPalette();
  const axis = percentAxis(rows.reduce((m, r) => Math.max(m, r.error_pct ?? 0), 0));
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
        />
        {tooltip((v) => `${v.toFixed(1)}%`)}
        <Area
          dataKey="error_pct"
          name="errors"
          type="stepAfter"
          stroke={palette.danger}
          fill={palette.danger}
          fillOpacity={0.35}
          dot={false}
          activeDot={false}
          connectNulls={false}
          isAnimationActive={false}
        />
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

/** Where the time goes: the stages' P50s and P90s as two stacked horizontal bars. */
export const StageBreakdownChart = memo(function StageBreakdownChart({ bars }: { bars: StageBarRow[] }) {
  const palette = chartPalette();
  return (
    <ResponsiveContainer width="100%" height="100%">
      <BarChart data={bars} layout="vertical" margin={CHART_MARGIN} barCategoryGap="25%">
        <CartesianGrid stroke={palette.grid} strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" tickFormatter={formatAxisMs} tick={{ ...AXIS_TICK, fill: palette.axis }} stroke={palette.grid} />
        <YAxis type="category" dataKey="quantile" width={40} tick={{ ...AXIS_TICK, fill: palette.axis }} stroke={palette.grid} />
        {tooltip(formatMs, STAGE_NAMES, false)}
        <Legend wrapperStyle={LEGEND_STYLE} itemSorter={null} />
        {STAGE_NAMES.map((stage: StageName) => (
          <Bar
            key={stage}
            dataKey={stage}
            name={STAGE_SHORT_LABELS[stage]}
            stackId="stages"
            fill={palette.stage[stage]}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
});
