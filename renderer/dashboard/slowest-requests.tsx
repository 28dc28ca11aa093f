import { useCallback, useState } from 'react';
import { traceFileName } from '../../preload/trace-spans.ts';
import { STAGE_NAMES, type SlowRequest, type TraceFormat } from '../../preload/wire-types.ts';
import { ClientError, NOT_FOUND, toApiError, type ConsoleClient } from '../api/console-client.ts';
import { usePoll } from '../api/use-poll.ts';
import { StageBar, latencyPartColour } from './stage-bar.tsx';
import { STAGE_SHORT_LABELS, UNTIMED, formatClock, formatCount, formatMs, latencyDivision, shortId } from './stats-format.ts';
import type { LatencyPart } from './stats-format.ts';
import { WindowSelect, type WindowChoice } from './window-select.tsx';

const REFRESH_MS = 5000;

type Filter = 'all' | 'failed';

const filterChoices = (failedCount: number): WindowChoice<Filter>[] => [
  { value: 'all', label: 'All' },
  { value: 'failed', label: `Failed (${failedCount})` },
];

function partLabel(part: LatencyPart): string {
  return part === UNTIMED ? 'untimed' : STAGE_SHORT_LABELS[part];
}

/** How this request's latency divides: its timed stages and the untimed rest, adding up to its latency. */
function StageBreakdown({ request }: { request: SlowRequest }) {
  const segments = latencyDivision(request.stages, request.latency_ms, STAGE_NAMES);
  // A check refused before any stage ran has nothing to divide: its latency is all parsing and refusing.
  if (segments.every((s) => s.part === UNTIMED)) return <span className="muted">no stage ran</span>;
  return (
    <div className="stage-breakdown">
      <StageBar segments={segments} />
      <div className="stage-values">
        {segments.map((s) => (
          <span key={s.part} className="stage-value">
            <span className="stage-dot" style={{ background: latencyPartColour(s.part) }} />
            {partLabel(s.part)} <span className="mono">{formatMs(s.ms)}</span>
          </span>
        ))}
      </div>
    </div>
  );
}

/** The answer, or for a failed check its error code and HTTP status. */
function Outcome({ request }: { request: SlowRequest }) {
  return (
    <span className="slow-outcome">
      <span className={`label-badge ${request.result_type}`}>{request.result_type}</span>
      {request.result_type === 'ERROR' && (
        <span className="mono slow-error" data-testid="slow-error-code">
          {request.error_code ?? 'unknown'} <span className="muted">{request.status_code}</span>
        </span>
      )}
    </span>
  );
}

const TRACE_TITLES: Record<TraceFormat, string> = {
  chrome: 'Save this check as Chrome Trace Event JSON: open it in ui.perfetto.dev or chrome://tracing',
  otlp: 'Save this check as OTLP/JSON: import it in Jaeger UI or Grafana (Tempo), or POST it to a collector at /v1/traces',
};

/**
 * Saves the request's trace in either format, as the service answers `GET /api/v1/requests/{id}/trace`
 * (over IPC the same builder): with onnxruntime's operator events where `--profile-sample-rate`
 * sampled its batch, which the row does not carry. A request that has left the service's ring of
 * recent traces has none any more: the button says so.
 */
function TraceLinks({ request, client }: { request: SlowRequest; client: ConsoleClient }) {
  const [error, setError] = useState<string | undefined>();
  const [gone, setGone] = useState(false);
  const [saving, setSaving] = useState<TraceFormat | undefined>();
  const save = (format: TraceFormat) => {
    setSaving(format);
    client
      .trace(request.id, format)
      .then((doc) => client.saveFile(traceFileName(request.id, format), JSON.stringify(doc), 'application/json'))
      .then(
        () => setError(undefined),
        (err: unknown) => {
          if (err instanceof ClientError && err.code === NOT_FOUND) setGone(true);
          setError(toApiError(err).message);
        },
      )
      .finally(() => setSaving(undefined));
  };
  const button = (format: TraceFormat, label: string) => (
    <button
      type="button"
      style={{ padding: '1px 8px', fontSize: 12 }}
      title={TRACE_TITLES[format]}
      aria-label={`${label} trace of check ${request.id}`}
      onClick={() => save(format)}
      disabled={gone || saving !== undefined}
      data-testid={`trace-${format}`}
    >
      {label}
    </button>
  );
  return (
    <span className="trace-links" style={{ display: 'inline-flex', flexDirection: 'column', alignItems: 'stretch', gap: 3 }}>
      {button('chrome', 'Perfetto')}
      {button('otlp', 'OTLP')}
      {gone ? (
        <span className="muted" role="alert" title={error} data-testid="trace-gone">
          trace no longer kept
        </span>
      ) : (
        error && (
          <span className="muted" role="alert" title={error} data-testid="trace-error">
            not saved
          </span>
        )
      )}
    </span>
  );
}

export function SlowestRequests({ client }: { client: ConsoleClient }) {
  const [filter, setFilter] = useState<Filter>('all');
  const load = useCallback(
    (signal: AbortSignal) =>
      client
        .slowest(signal)
        .then((list) => ({ rows: [...list].sort((a, b) => b.latency_ms - a.latency_ms), fetchedAt: Date.now() / 1000 })),
    [client],
  );
  const { value, error, loading, refresh } = usePoll(load, REFRESH_MS);
  const rows = value?.rows;
  const fetchedAt = value?.fetchedAt;

  const failedCount = rows?.filter((r) => r.result_type === 'ERROR').length ?? 0;
  const shown = filter === 'failed' ? rows?.filter((r) => r.result_type === 'ERROR') : rows;
  return (
    <section className="dash-card slowest" data-testid="slowest">
      <div className="card-head">
        <h3>Slowest requests</h3>
        <span className="muted">failed checks included, with their code</span>
        <WindowSelect
          label="Show"
          choiceTestId="slowest-"
          choices={filterChoices(failedCount)}
          value={filter}
          onChange={(f) => setFilter(f)}
        />
        <span className="muted">{fetchedAt !== undefined ? `updated ${formatClock(fetchedAt)}` : ''}</span>
        <button type="button" onClick={refresh} disabled={loading} data-testid="slowest-refresh">
          Refresh
        </button>
      </div>
      {error && (
        <div className="dash-banner error" role="alert">
          Could not load the slowest requests: {error.message}
        </div>
      )}
      {shown === undefined ? (
        !error && <p className="muted">Loading…</p>
      ) : shown.length === 0 ? (
        <p className="muted">{filter === 'failed' ? 'No failed checks among them.' : 'No requests yet.'}</p>
      ) : (
        <div className="table-scroll">
          <table className="slowest-table">
            <thead>
              <tr>
                <th>ID</th>
                <th>Time</th>
                <th className="num">Latency</th>
                <th>Result</th>
                <th className="num">Batch</th>
                <th className="stages-col">Stages</th>
                <th>Trace</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.id} data-testid="slow-request" data-result={r.result_type}>
                  <td className="mono" title={r.id}>
                    {shortId(r.id)}
                  </td>
                  <td className="mono">{formatClock(r.ended_at)}</td>
                  <td className="num mono">{formatMs(r.latency_ms)}</td>
                  <td className="outcome-cell">
                    <Outcome request={r} />
                  </td>
                  <td className="num mono">{formatCount(r.batch_size)}</td>
                  <td>
                    <StageBreakdown request={r} />
                  </td>
                  <td>
                    <TraceLinks request={r} client={client} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
