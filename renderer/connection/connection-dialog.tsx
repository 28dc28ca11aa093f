/**
 * Where checks run: the local model (desktop) or the service that served the page (browser), or a
 * remote `ofa-ve serve` given by its address and token. "Test connection" reaches it first and says
 * what answers there (version, model, provider, demo); "Connect" switches and reloads the page.
 */
import { useState, type ChangeEvent, type FormEvent } from 'react';
import type { RemoteServiceInfo } from '../../preload/api-contract.ts';
import { parseServiceUrl } from '../../preload/service-url.ts';
import type { Outcome } from '../../preload/wire-types.ts';
import type { ConnectionControl, ConnectionSetup } from '../api/connection-control.ts';
import { toApiError } from '../api/console-client.ts';
import './connection.css';

export interface ConnectionDialogProps {
  control: ConnectionControl;
  target: ConnectionSetup['target'];
  tokenStorage: string;
  /** Shown first: why the dialog opened (a link naming a service, a refused token). */
  notice?: string;
  /** A remote to fill in (the one a link named); defaults to the one in use. */
  prefillUrl?: string;
  onCancel(): void;
  cancelLabel?: string;
}

function TestResult({ state }: { state: Outcome<RemoteServiceInfo> }) {
  if (!state.ok) {
    return (
      <p className="connection-result error" role="alert" data-testid="connection-result" data-ok="false">
        <code>{state.error.code}</code> {state.error.message}
      </p>
    );
  }
  const info = state.value;
  const summary = info.model.model;
  return (
    <p className="connection-result ok" role="status" data-testid="connection-result" data-ok="true">
      Reached <strong>ofa-ve {info.version}</strong> at {info.host}:{' '}
      {summary ? (
        <>
          model <strong>{summary.name}</strong> v{summary.version} on {summary.provider.toUpperCase()}
          {summary.demo && <span className="demo-tag">DEMO MODEL</span>}
        </>
      ) : (
        <>no model loaded ({info.model.error ?? 'still loading'})</>
      )}
    </p>
  );
}

export function ConnectionDialog({ control, target, tokenStorage, notice, prefillUrl, onCancel, cancelLabel }: ConnectionDialogProps) {
  const [mode, setMode] = useState<'local' | 'remote'>(prefillUrl ? 'remote' : target.mode);
  const [url, setUrl] = useState(prefillUrl ?? (target.mode === 'remote' ? target.url : ''));
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState<'test' | 'connect' | undefined>();
  const [result, setResult] = useState<Outcome<RemoteServiceInfo> | undefined>();
  const parsed = parseServiceUrl(url);
  const remote = mode === 'remote';
  const canTest = remote && parsed.ok && control.canTest(url);
  // The address and token fields: typed as is (no spell check, no autofill); a change makes the last test's answer stale.
  const textField = (value: string, set: (value: string) => void) => ({
    spellCheck: false,
    autoComplete: 'off',
    value,
    onChange: (e: ChangeEvent<HTMLInputElement>) => {
      set(e.target.value);
      setResult(undefined);
    },
  });

  const test = async () => {
    setBusy('test');
    setResult(undefined);
    try {
      setResult({ ok: true, value: await control.test(url, token) });
    } catch (err) {
      setResult({ ok: false, error: toApiError(err) });
    } finally {
      setBusy(undefined);
    }
  };

  const connect = async (event: FormEvent) => {
    event.preventDefault();
    if (remote && !parsed.ok) return;
    setBusy('connect');
    setResult(undefined);
    try {
      await control.connect(remote ? { mode: 'remote', url, token } : { mode: 'local' });
      // The page reloads on its own; keep the buttons busy until it does.
    } catch (err) {
      setResult({ ok: false, error: toApiError(err) });
      setBusy(undefined);
    }
  };

  return (
    <div className="connection-backdrop">
      <form
        className="connection-dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="connection-title"
        onSubmit={connect}
        data-testid="connection-dialog"
      >
        <h2 id="connection-title">Where checks run</h2>
        {notice && (
          <p className="connection-notice" role="alert" data-testid="connection-notice">
            {notice}
          </p>
        )}
        <label className="connection-choice">
          <input type="radio" name="connection-mode" checked={!remote} onChange={() => setMode('local')} data-testid="connection-local" />
          <span>
            <strong>{control.localLabel}</strong>
            <span className="muted">
              {control.kind === 'desktop' ? ' — this computer runs the model.' : ' — the ofa-ve serve this page came from.'}
            </span>
          </span>
        </label>
        <label className="connection-choice">
          <input type="radio" name="connection-mode" checked={remote} onChange={() => setMode('remote')} data-testid="connection-remote" />
          <span>
            <strong>Remote service</strong>
            <span className="muted"> — an ofa-ve serve on another machine (a GPU box, a fleet behind a load balancer).</span>
          </span>
        </label>
        <fieldset className="connection-remote" disabled={!remote}>
          <label>
            <span>Address</span>
            <input
              type="url"
              placeholder="https://gpu-box.example:7860"
              {...textField(url, setUrl)}
              aria-invalid={remote && url !== '' && !parsed.ok}
              data-testid="connection-url"
            />
          </label>
          {remote && url !== '' && !parsed.ok && <p className="connection-warn">{parsed.reason}</p>}
          {remote && parsed.ok && parsed.insecure && (
            <p className="connection-warn" data-testid="connection-insecure">
              Plain http to another machine: the token crosses the network unencrypted. Prefer https (a TLS proxy in front of the service).
            </p>
          )}
          <label>
            <span>Access token</span>
            <input
              type="password"
              placeholder="its --token (empty: the one kept for this address, if any)"
              {...textField(token, setToken)}
              data-testid="connection-token"
            />
          </label>
          <p className="muted small">{tokenStorage}</p>
          <p className="muted small">
            The service must allow this {control.kind === 'desktop' ? 'app' : 'page'}:{' '}
            <code>ofa-ve serve --token … --cors-origin {control.pageOrigin}</code>
          </p>
        </fieldset>
        {remote && parsed.ok && !control.canTest(url) && (
          <p className="muted small" data-testid="connection-test-later">
            This page may reach only the service it is connected to: Connect reloads it pointed at {parsed.host}, and the status bar then
            says whether it answers.
          </p>
        )}
        {result && <TestResult state={result} />}
        <div className="connection-actions">
          {remote && (
            <button
              type="button"
              disabled={!canTest || busy !== undefined}
              onClick={() => void test()}
              title={canTest || !parsed.ok ? undefined : 'Connect first: the page reloads allowed to reach this address'}
              data-testid="connection-test"
            >
              {busy === 'test' ? 'Testing…' : 'Test connection'}
            </button>
          )}
          <span className="connection-spacer" />
          <button type="button" onClick={onCancel} disabled={busy === 'connect'} data-testid="connection-cancel">
            {cancelLabel ?? 'Cancel'}
          </button>
          <button
            type="submit"
            className="primary"
            disabled={busy !== undefined || (remote && !parsed.ok)}
            data-testid="connection-connect"
          >
            {busy === 'connect' ? 'Connecting…' : 'Connect'}
          </button>
        </div>
      </form>
    </div>
  );
}
