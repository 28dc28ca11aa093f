/**
 * The bottom status bar, shown on every tab: where checks run (the local model or a remote service,
 * with a button to change it), which model answers (and whether it is the demo), where Prometheus
 * can scrape, and how the process is doing (uptime, memory from the live stats).
 */
import { useState } from 'react';
import type { ModelDocument, StatsDocument } from '../../preload/wire-types.ts';
import type { ConsoleClient, EndpointInfo, ServiceLocation } from '../api/console-client.ts';
import type { ServiceLink } from '../api/service-link.ts';
import './dashboard.css';
import { MetricsUrl } from './metrics-url.tsx';
import { formatMiB, formatUptime } from './stats-format.ts';

export interface StatusBarProps {
  client: ConsoleClient;
  model: ModelDocument | undefined;
  endpoint: EndpointInfo | undefined;
  stats: StatsDocument | undefined;
  /** Whether the service answers; shown first, since every other figure here is stale without it. */
  link: ServiceLink;
  onModelChanged(doc: ModelDocument): void;
  /** Opens the connection dialog. */
  onOpenConnection?(): void;
}

/** Where checks run: "local model", or the host:port of the service over HTTP. */
function WhereStatus({ location, onOpenConnection }: { location: ServiceLocation; onOpenConnection?: () => void }) {
  const where =
    location.kind === 'local' ? (
      <>
        checks: <strong>local model</strong>
      </>
    ) : (
      <>
        {location.sameOrigin ? 'service' : 'remote'}: <strong className="mono">{location.host}</strong>
      </>
    );
  const kind = location.kind === 'local' ? 'local' : location.sameOrigin ? 'service' : 'remote';
  return (
    <span
      className={`status-where ${kind}`}
      data-testid="status-where"
      data-kind={kind}
      title={location.kind === 'http' ? location.origin : undefined}
    >
      <span>{where}</span>
      {onOpenConnection && (
        <button type="button" className="small" onClick={onOpenConnection} data-testid="open-connection">
          Connection…
        </button>
      )}
    </span>
  );
}

function ModelStatus({ model }: { model: ModelDocument | undefined }) {
  if (!model) return <span className="muted">model: …</span>;
  const summary = model.model;
  if (!model.ready || !summary) {
    return (
      <span className="status-warn" data-testid="status-model" title={model.error}>
        no model{model.error ? `: ${model.error}` : ' (loading…)'}
      </span>
    );
  }
  const fallback = summary.provider_fallback_reason;
  return (
    <span className="status-model" data-testid="status-model" title={model.model_dir}>
      <strong>{summary.name}</strong> <span className="muted">v{summary.version}</span>
      <span
        className={fallback ? 'provider-tag fallback' : 'provider-tag'}
        title={fallback ? `Running on CPU: ${fallback}` : undefined}
        data-testid="status-provider"
      >
        {summary.provider.toUpperCase()}
      </span>
      {summary.demo && (
        <span className="demo-tag" data-testid="demo-tag" title={model.warning}>
          DEMO MODEL
        </span>
      )}
    </span>
  );
}

function ChangeModelButton({ client, onModelChanged }: Pick<StatusBarProps, 'client' | 'onModelChanged'>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  if (!client.chooseModelDirectory) return null;
  const choose = async () => {
    setBusy(true);
    setError(undefined);
    try {
      // Called through the client so an implementation that is a method keeps its `this`.
      const doc = await client.chooseModelDirectory?.();
      if (doc) onModelChanged(doc);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span>
      <button type="button" className="small" disabled={busy} onClick={() => void choose()} data-testid="change-model">
        {busy ? 'Loading…' : 'Change model…'}
      </button>
      {error && <span className="status-warn"> {error}</span>}
    </span>
  );
}

function LinkStatus({ link }: { link: ServiceLink }) {
  if (link.state === 'up') return null;
  if (link.state === 'signed-out') {
    return (
      <span className="status-down" role="status" data-testid="status-link" data-state={link.state}>
        {link.tokenRefused ? 'token refused — sign in' : 'signed out — token needed'}
      </span>
    );
  }
  return (
    <span className="status-down" role="status" data-testid="status-link" data-state={link.state} title={link.message}>
      service unavailable — retrying
    </span>
  );
}

export function StatusBar({ client, model, endpoint, stats, link, onModelChanged, onOpenConnection }: StatusBarProps) {
  // While the service does not answer, its uptime and memory are not shown as if current, and the
  // model it last reported is dimmed: what it runs now is not known.
  const answering = link.state === 'up';
  const proc = answering ? stats?.process : undefined;
  return (
    <footer className="status-bar" data-testid="status-bar">
      <LinkStatus link={link} />
      <WhereStatus location={client.location} onOpenConnection={onOpenConnection} />
      <span
        className={answering ? undefined : 'status-stale'}
        data-testid="status-model-wrap"
        data-stale={answering ? undefined : 'true'}
        title={answering ? undefined : 'as last reported: the service is not answering'}
      >
        <ModelStatus model={model} />
      </span>
      <ChangeModelButton client={client} onModelChanged={onModelChanged} />
      <span className="status-sep" />
      <MetricsUrl endpoint={endpoint} />
      <span className="status-spacer" />
      <span data-testid="status-uptime">
        <span className="muted">up</span> {proc ? formatUptime(proc.uptime_s) : '—'}
      </span>
      <span data-testid="status-memory">
        <span className="muted">rss</span> {proc ? formatMiB(proc.rss_bytes) : '—'} <span className="muted">heap</span>{' '}
        {proc ? formatMiB(proc.heap_used_bytes) : '—'}
      </span>
      {endpoint?.version && <span className="muted">v{endpoint.version}</span>}
    </footer>
  );
}
