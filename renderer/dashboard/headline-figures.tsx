/** The row of big numbers at the top of the dashboard, for the selected window. */
import type { StatsDocument } from '../../preload/wire-types.ts';
import {
  formatBatchSize,
  formatCount,
  formatMs,
  formatPercent,
  formatQps,
  resultShares,
} from './stats-format.ts';

function Figure({ label, value, unit, testId, tone }: { label: string; value: string; unit?: string; testId?: string; tone?: string }) {
  return (
    <div className={tone ? `figure ${tone}` : 'figure'}>
      <div className="figure-label">{label}</div>
      <div className="figure-value" data-testid={testId}>
        {value}
        {unit && value !== '—' && <span className="figure-unit"> {unit}</span>}
      </div>
    </div>
  );
}

export function HeadlineFigures({ stats }: { stats: StatsDocument }) {
  const errorTone = stats.error_rate >= 0.05 ? 'bad' : stats.error_rate > 0 ? 'warn' : undefined;
  return (
    <div className="figures" data-testid="figures">
      <Figure label="QPS" value={formatQps(stats.qps)} unit="req/s" testId="qps" />
      <Figure label="P50" value={formatMs(stats.p50_ms)} testId="p50" />
      <Figure label="P90" value={formatMs(stats.p90_ms)} testId="p90" />
      <Figure label="P99" value={formatMs(stats.p99_ms)} testId="p99" />
      <Figure
        label="Error rate"
        value={stats.totals.requests > 0 ? formatPercent(stats.error_rate, 2) : '—'}
        testId="error-rate"
        tone={errorTone}
      />
      <Figure label="Mean batch" value={formatBatchSize(stats.mean_batch_size)} testId="mean-batch" />
      <Figure label="Queue" value={formatCount(stats.queue_depth)} testId="queue-depth" />
      <div className="figure totals" data-testid="totals">
        <div className="figure-label">
          Requests <span className="figure-total">{formatCount(stats.totals.requests)}</span>
        </div>
        <div className="totals-list">
          {resultShares(stats.totals).map(({ type, count, share }) => (
            <span key={type} className="total-item" title={share === null ? undefined : `${formatPercent(share)} of requests`}>
              <span className={`label-badge ${type}`}>{type}</span>
              <span className="total-count" data-testid={`total-${type}`}>
                {formatCount(count)}
              </span>
            </span>
          ))}
        </div>
      </div>
    </div>
  );
}
