/** The row of big numbers at the top of the dashboard, for the selected window, each with what it means. */
import type { StatsDocument } from '../../preload/wire-types.ts';
import { headlineFigures, type HeadlineFigure } from './headline-meanings.ts';
import { NO_VALUE, formatCount, formatPercent, resultShares, windowPhrase } from './stats-format.ts';

function Figure({ figure }: { figure: HeadlineFigure }) {
  return (
    <div className={figure.tone ? `figure ${figure.tone}` : 'figure'} data-figure={figure.testId}>
      <div className="figure-label">{figure.label}</div>
      <div className="figure-value" data-testid={figure.testId}>
        {figure.value}
        {figure.unit && figure.value !== NO_VALUE && <span className="figure-unit"> {figure.unit}</span>}
      </div>
      <div className="figure-caption" data-testid={`${figure.testId}-caption`}>
        {figure.caption}
      </div>
    </div>
  );
}

export function HeadlineFigures({ stats }: { stats: StatsDocument }) {
  const { client_errors: clientErrors, server_errors: serverErrors } = stats.totals;
  return (
    <div className="figures" data-testid="figures">
      {headlineFigures(stats).map((figure) => (
        <Figure key={figure.testId} figure={figure} />
      ))}
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
              {type === 'ERROR' && (
                <span className="muted total-split" data-testid="total-error-split">
                  4xx {formatCount(clientErrors)} · 5xx {formatCount(serverErrors)}
                </span>
              )}
            </span>
          ))}
        </div>
        <div className="figure-caption">checks by answer over the last {windowPhrase(stats.window_s)}; ERROR = failed</div>
      </div>
    </div>
  );
}
