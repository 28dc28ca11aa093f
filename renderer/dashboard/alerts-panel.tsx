/**
 * The two deploy/ alert rules as the app evaluates them over its live stats, so a desktop user sees
 * what Prometheus would page on without running one.
 */
import type { AlertStatus } from '../../preload/wire-types.ts';
import { formatActiveSince, formatAlertQuantity, sortAlerts } from './stats-format.ts';

function AlertRow({ alert, now }: { alert: AlertStatus; now: string }) {
  return (
    <li className={`alert alert-${alert.state}`} data-testid="alert" data-state={alert.state} data-name={alert.name}>
      <div className="alert-head">
        <span className="alert-name">{alert.name}</span>
        <span className={`alert-severity ${alert.severity}`}>{alert.severity}</span>
        <span className={`alert-state ${alert.state}`}>{alert.state}</span>
      </div>
      <div className="alert-summary muted">{alert.summary}</div>
      <div className="alert-figures">
        <span>
          now <strong className="mono">{formatAlertQuantity(alert.name, alert.value)}</strong>
        </span>
        <span>
          threshold <span className="mono">{formatAlertQuantity(alert.name, alert.threshold)}</span>
        </span>
        <span>
          since <span className="mono">{formatActiveSince(alert.active_since, now)}</span>
        </span>
      </div>
    </li>
  );
}

export function AlertsPanel({ alerts, now }: { alerts: readonly AlertStatus[] | undefined; now: string }) {
  const sorted = sortAlerts(alerts ?? []);
  const firing = sorted.filter((a) => a.state === 'firing').length;
  return (
    <section className="dash-card alerts-panel" data-testid="alerts">
      <h3>
        Alerts{' '}
        <span className="muted">
          {firing > 0 ? `${firing} firing` : sorted.some((a) => a.state === 'pending') ? 'pending' : 'all quiet'}
        </span>
      </h3>
      {sorted.length === 0 ? (
        <p className="muted">The service reports no alert rules.</p>
      ) : (
        <ul className="alert-list">
          {sorted.map((alert) => (
            <AlertRow key={alert.name} alert={alert} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}
