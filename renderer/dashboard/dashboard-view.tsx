/**
 * The live dashboard. App owns the one stats subscription and passes each document down; this view
 * only renders it (figures, charts, alerts) and polls the slowest requests itself.
 */
import { useMemo } from 'react';
import { STAGE_NAMES, type ApiError, type StatsDocument } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { AlertsPanel } from './alerts-panel.tsx';
import './dashboard.css';
import { HeadlineFigures } from './headline-figures.tsx';
import {
  ChartCard,
  ErrorRateChart,
  LatencyChart,
  QpsChart,
  QueueDepthChart,
  StageBreakdownChart,
} from './live-charts.tsx';
import { SlowestRequests } from './slowest-requests.tsx';
import { WINDOW_CHOICES, formatClock, stagesHaveData, toChartRows, toStageBars } from './stats-format.ts';

export interface DashboardViewProps {
  client: ConsoleClient;
  stats: StatsDocument | undefined;
  statsError: ApiError | undefined;
  windowS: number;
  onWindowChange(windowS: number): void;
}

function WindowSelect({ windowS, onChange }: { windowS: number; onChange(windowS: number): void }) {
  return (
    <label className="window-select">
      Window{' '}
      <select data-testid="window-select" value={String(windowS)} onChange={(e) => onChange(Number(e.target.value))}>
        {WINDOW_CHOICES.map((choice) => (
          <option key={choice.seconds} value={String(choice.seconds)}>
            {choice.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function LiveStats({ stats, stale }: { stats: StatsDocument; stale: boolean }) {
  // One reshaping per document; the memoised charts then redraw once a second at most.
  const rows = useMemo(() => toChartRows(stats), [stats]);
  const stageBars = useMemo(() => toStageBars(stats.stages, STAGE_NAMES), [stats]);
  const windowLabel = WINDOW_CHOICES.find((c) => c.seconds === stats.window_s)?.label ?? `${stats.window_s} s`;
  return (
    <div className={stale ? 'live-stats stale' : 'live-stats'} data-stale={stale ? 'true' : 'false'}>
      <HeadlineFigures stats={stats} />
      <div className="dash-grid" data-testid="charts">
        <ChartCard title="Requests per second" note={`by result · last ${windowLabel}`}>
          <QpsChart rows={rows} />
        </ChartCard>
        <ChartCard title="Latency" note="P50 / P90 / P99 per second">
          <LatencyChart rows={rows} />
        </ChartCard>
        <ChartCard title="Error rate" note="% of requests per second">
          <ErrorRateChart rows={rows} />
        </ChartCard>
        <ChartCard title="Queue depth" note="sampled each second">
          <QueueDepthChart rows={rows} />
        </ChartCard>
        <ChartCard
          title="Stage breakdown"
          note={stagesHaveData(stats.stages) ? `per-stage P50 and P90 · last ${windowLabel}` : 'no requests in the window'}
        >
          <StageBreakdownChart bars={stageBars} />
        </ChartCard>
        <AlertsPanel alerts={stats.alerts} now={stats.generated_at} />
      </div>
    </div>
  );
}

export function DashboardView({ client, stats, statsError, windowS, onWindowChange }: DashboardViewProps) {
  const stale = statsError !== undefined && stats !== undefined;
  return (
    <section className="dashboard" data-testid="dashboard">
      <div className="dash-toolbar">
        <h2>Live service</h2>
        <WindowSelect windowS={windowS} onChange={onWindowChange} />
        {stats && (
          <span className="muted" data-testid="stats-updated">
            updated {formatClock(stats.generated_at)}
          </span>
        )}
        {stale && (
          <span className="stale-tag" data-testid="stale">
            stale
          </span>
        )}
      </div>
      {statsError && (
        <div className="dash-banner error" role="alert" data-testid="stats-error">
          Live stats unavailable: <code>{statsError.code}</code> {statsError.message}
          {stats && <span className="muted"> — showing the last figures, from {formatClock(stats.generated_at)}.</span>}
        </div>
      )}
      {stats ? <LiveStats stats={stats} stale={stale} /> : !statsError && <p className="muted">Waiting for the first stats…</p>}
      <SlowestRequests client={client} />
    </section>
  );
}
