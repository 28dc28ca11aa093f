/**
 * The live dashboard. App owns the one stats subscription and passes each document down; this view
 * only renders it (figures, charts, alerts); the slices, the comparison of two periods and the
 * slowest requests fetch their own.
 */
import { useMemo } from 'react';
import { STAGE_NAMES, type ApiError, type StatsDocument } from '../../preload/wire-types.ts';
import { UNAUTHORIZED, type ConsoleClient } from '../api/console-client.ts';
import { AlertsPanel } from './alerts-panel.tsx';
import { ChartCard } from './chart-frame.tsx';
import { ComparePanel } from './compare-panel.tsx';
import './dashboard.css';
import { IN_APP_SOURCE } from './fleet-format.ts';
import { FleetPanel } from './fleet-panel.tsx';
import { HeadlineFigures } from './headline-figures.tsx';
import { ErrorRateChart, LatencyChart, QpsChart, QueueDepthChart, StageBreakdownChart } from './live-charts.tsx';
import { SlicesPanel } from './slices-panel.tsx';
import { SlowestRequests } from './slowest-requests.tsx';
import { WINDOW_CHOICES, formatClock, formatMs, toChartRows, toStageBar, windowPhrase } from './stats-format.ts';
import { WindowSelect } from './window-select.tsx';

export interface DashboardViewProps {
  client: ConsoleClient;
  stats: StatsDocument | undefined;
  statsError: ApiError | undefined;
  windowS: number;
  onWindowChange(windowS: number): void;
  /**
   * The Prometheus the service reads (`ofa-ve serve --prometheus-url`), from the model document the
   * app already keeps (and refreshes): the Fleet panel and Compare's Prometheus source show only then.
   */
  prometheusUrl?: string;
}

const WINDOW_SELECT_CHOICES = WINDOW_CHOICES.map((choice) => ({ value: choice.seconds, label: choice.label }));

function LiveStats({ stats, stale }: { stats: StatsDocument; stale: boolean }) {
  // One reshaping per document; the memoised charts then redraw once a second at most.
  const rows = useMemo(() => toChartRows(stats), [stats]);
  const stageBar = useMemo(() => toStageBar(stats, STAGE_NAMES), [stats]);
  // Every in-app chart says so: beside a Fleet panel, these are this replica's own figures.
  const last = `last ${windowPhrase(stats.window_s)} · ${IN_APP_SOURCE}`;
  return (
    <div className={stale ? 'live-stats stale' : 'live-stats'} data-stale={stale ? 'true' : 'false'}>
      <HeadlineFigures stats={stats} />
      <div className="dash-grid" data-testid="charts">
        <ChartCard title="Requests per second" note={`checks by answer, ERROR = failed · ${last}`} testId="chart-qps">
          <QpsChart rows={rows} />
        </ChartCard>
        <ChartCard title="Latency" note={`P50 / P90 / P99 of each second's successful checks · ${last}`} testId="chart-latency">
          <LatencyChart rows={rows} />
        </ChartCard>
        <ChartCard title="Failed checks" note={`% of each second's checks; only 5xx alert · ${last}`} testId="chart-errors">
          <ErrorRateChart rows={rows} />
        </ChartCard>
        <ChartCard
          title="Queue depth"
          note={`checks waiting for a batch slot, sampled each second · ${IN_APP_SOURCE}`}
          testId="chart-queue"
        >
          <QueueDepthChart rows={rows} />
        </ChartCard>
        <ChartCard
          title="Stage breakdown"
          note={
            stageBar
              ? `mean latency ${formatMs(stats.mean_ms)} = stage means + untimed · successful checks, ${last}`
              : `no successful checks in the ${last}`
          }
          testId="chart-stages"
        >
          <StageBreakdownChart bar={stageBar} />
        </ChartCard>
        <AlertsPanel alerts={stats.alerts} now={stats.generated_at} />
      </div>
    </div>
  );
}

export function DashboardView({ client, stats, statsError, windowS, onWindowChange, prometheusUrl }: DashboardViewProps) {
  const stale = statsError !== undefined && stats !== undefined;
  return (
    <section className="dashboard" data-testid="dashboard">
      <div className="dash-toolbar">
        <h2>Live service</h2>
        <WindowSelect
          label="Window"
          caption="Window"
          testId="window-select"
          choiceTestId="window-"
          choices={WINDOW_SELECT_CHOICES}
          value={windowS}
          onChange={onWindowChange}
        />
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
          {statsError.code !== UNAUTHORIZED && ' — retrying'}
          {stats && <span className="muted"> — showing the last figures, from {formatClock(stats.generated_at)}.</span>}
        </div>
      )}
      {stats ? <LiveStats stats={stats} stale={stale} /> : !statsError && <p className="muted">Waiting for the first stats…</p>}
      {prometheusUrl !== undefined && <FleetPanel client={client} prometheusUrl={prometheusUrl} />}
      <SlicesPanel client={client} windowS={windowS} />
      <ComparePanel client={client} prometheusUrl={prometheusUrl} />
      <SlowestRequests client={client} />
    </section>
  );
}
