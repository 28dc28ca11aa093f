/**
 * The slowest recent requests with where their time went. Polled every 5 s while the dashboard is
 * mounted (it is only mounted while shown), plus a Refresh button.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { STAGE_NAMES, type SlowRequest } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { chartPalette } from './chart-palette.ts';
import { STAGE_SHORT_LABELS, formatClock, formatCount, formatMs, shortId, stageSegments } from './stats-format.ts';

const REFRESH_MS = 5000;

function StageBreakdown({ request }: { request: SlowRequest }) {
  const palette = chartPalette();
  const segments = stageSegments(request.stages, request.latency_ms, STAGE_NAMES);
  if (segments.length === 0) return <span className="muted">—</span>;
  return (
    <div className="stage-breakdown">
      <div className="stage-bar" aria-hidden="true">
        {segments.map((s) => (
          <span
            key={s.stage}
            className="stage-bar-segment"
            style={{ width: `${(s.fraction * 100).toFixed(2)}%`, background: palette.stage[s.stage] }}
          />
        ))}
      </div>
      <div className="stage-values">
        {segments.map((s) => (
          <span key={s.stage} className="stage-value">
            <span className="stage-dot" style={{ background: palette.stage[s.stage] }} />
            {STAGE_SHORT_LABELS[s.stage]} <span className="mono">{formatMs(s.ms)}</span>
          </span>
        ))}
      </div>
    </div>
  );
}

export function SlowestRequests({ client }: { client: ConsoleClient }) {
  const [rows, setRows] = useState<SlowRequest[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(false);
  const [fetchedAt, setFetchedAt] = useState<number | undefined>();
  // Ignore answers that arrive after unmount or after a newer request was sent.
  const generation = useRef(0);

  const refresh = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    client.slowest().then(
      (list) => {
        if (mine !== generation.current) return;
        setRows([...list].sort((a, b) => b.latency_ms - a.latency_ms));
        setError(undefined);
        setFetchedAt(Date.now() / 1000);
        setLoading(false);
      },
      (err: unknown) => {
        if (mine !== generation.current) return;
        setError(err instanceof Error ? err.message : String(err));
        setLoading(false);
      },
    );
  }, [client]);

  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => {
      clearInterval(timer);
      generation.current++;
    };
  }, [refresh]);

  return (
    <section className="dash-card slowest" data-testid="slowest">
      <div className="card-head">
        <h3>Slowest requests</h3>
        <span className="muted">{fetchedAt !== undefined ? `updated ${formatClock(fetchedAt)}` : ''}</span>
        <button type="button" onClick={refresh} disabled={loading} data-testid="slowest-refresh">
          Refresh
        </button>
      </div>
      {error && (
        <div className="dash-banner error" role="alert">
          Could not load the slowest requests: {error}
        </div>
      )}
      {rows === undefined ? (
        !error && <p className="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No requests yet.</p>
      ) : (
        <table className="slowest-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>Time</th>
              <th className="num">Latency</th>
              <th>Result</th>
              <th className="num">Batch</th>
              <th className="stages-col">Stages</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid="slow-request">
                <td className="mono" title={r.id}>
                  {shortId(r.id)}
                </td>
                <td className="mono">{formatClock(r.ended_at)}</td>
                <td className="num mono">{formatMs(r.latency_ms)}</td>
                <td>
                  <span className={`label-badge ${r.result_type}`}>{r.result_type}</span>
                </td>
                <td className="num mono">{formatCount(r.batch_size)}</td>
                <td>
                  <StageBreakdown request={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
