import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import type { ApiError, ModelDocument, StatsDocument } from '../preload/wire-types.ts';
import { connectionControlFor, type ConnectionControl, type ConnectionSetup } from './api/connection-control.ts';
import {
  SERVICE_UNAVAILABLE,
  toApiError,
  UNAUTHORIZED,
  type ConsoleClient,
  type EndpointInfo,
  type TokenAuth,
  unavailableReason,
} from './api/console-client.ts';
import { serviceLink } from './api/service-link.ts';
import { CheckerView } from './checker/checker-view.tsx';
import { ConnectionDialog } from './connection/connection-dialog.tsx';
import { DashboardView } from './dashboard/dashboard-view.tsx';
import { StatusBar } from './dashboard/status-bar.tsx';

type Tab = 'checker' | 'dashboard';

function initialTab(): Tab {
  return location.hash === '#dashboard' ? 'dashboard' : 'checker';
}

/**
 * A protected instance (`ofa-ve serve --token`) opened without a token, or with a wrong one: ask
 * for it here rather than failing every request. The token is kept for the tab, as ?token= is.
 */
function SignInPrompt({ auth, refused, onSignedIn }: { auth: TokenAuth; refused: boolean; onSignedIn(): void }) {
  const [token, setToken] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!token.trim()) return;
    auth.signIn(token);
    setToken('');
    onSignedIn();
  };
  return (
    <form className="sign-in" onSubmit={submit} data-testid="sign-in">
      <h2>Sign in</h2>
      <p>
        This service is protected by an access token. Paste the token it was started with (<code>ofa-ve serve --token …</code>
        ), or open this page as <code>…/?token=…</code>. It is kept for this tab only.
      </p>
      {refused && (
        <p className="sign-in-refused" role="alert" data-testid="sign-in-refused">
          That token was refused: check it and try again.
        </p>
      )}
      <label>
        Access token{' '}
        <input
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
          data-testid="sign-in-token"
        />
      </label>
      <button type="submit" disabled={!token.trim()} data-testid="sign-in-submit">
        Sign in
      </button>
    </form>
  );
}

/**
 * The console: first where its checks run (the page's own client, or a remote service chosen in
 * the connection dialog, by `?connect=` in a browser or `--connect` in the desktop app), then the
 * views over that client. A service a link named is confirmed in the dialog before any request
 * goes to it.
 */
export function App({ client: pageClient }: { client: ConsoleClient }) {
  const control = useMemo(() => connectionControlFor(pageClient), [pageClient]);
  const [setup, setSetup] = useState<ConnectionSetup | undefined>();
  const [setupError, setSetupError] = useState<ApiError | undefined>();
  useEffect(() => {
    control.setup().then(setSetup, (err: unknown) => setSetupError(toApiError(err)));
  }, [control]);

  if (setupError) {
    return (
      <div className="banner error" role="alert">
        Cannot tell where checks run: <code>{setupError.code}</code> {setupError.message}
      </div>
    );
  }
  if (!setup) return null;
  if (setup.confirm) {
    return (
      <div className="app">
        <ConnectionDialog
          control={control}
          target={{ mode: 'local' }}
          tokenStorage={setup.tokenStorage}
          prefillUrl={setup.confirm.url}
          notice={
            `This link opens the console connected to ${setup.confirm.host}: your images and captions will be sent there. ` +
            'Connect only if you trust it.'
          }
          onCancel={() => void control.connect({ mode: 'local' })}
          cancelLabel="Stay on this service"
        />
      </div>
    );
  }
  return <ConsoleShell client={setup.client} control={control} setup={setup} />;
}

/**
 * The whole console: checker and dashboard tabs over one ConsoleClient, one live stats
 * subscription shared by the dashboard and the status bar, the model banners, and the link to the
 * service (signed out, unavailable and retrying, or up).
 */
function ConsoleShell({ client, control, setup }: { client: ConsoleClient; control: ConnectionControl; setup: ConnectionSetup }) {
  const [tab, setTab] = useState<Tab>(initialTab);
  const [connectionOpen, setConnectionOpen] = useState(false);
  const [tokenDialogDismissed, setTokenDialogDismissed] = useState(false);
  const [model, setModel] = useState<ModelDocument | undefined>();
  const [modelError, setModelError] = useState<ApiError | undefined>();
  const [endpoint, setEndpoint] = useState<EndpointInfo | undefined>();
  const [windowS, setWindowS] = useState(60);
  const [stats, setStats] = useState<StatsDocument | undefined>();
  const [statsError, setStatsError] = useState<ApiError | undefined>();
  // Bumped by signing in: everything that talks to the service starts again with the new token.
  const [session, setSession] = useState(0);
  const link = serviceLink([modelError, statsError], client.auth?.hasToken() ?? false);
  const endpointKnown = useRef(false);
  // When (performance.now()) the service was last reachable again after being unavailable: the
  // checker tells a batch the outage stopped that it can go on.
  const [serviceBackAt, setServiceBackAt] = useState<number | undefined>();
  const wasUnavailable = useRef(false);
  useEffect(() => {
    if (link.state === 'unavailable') wasUnavailable.current = true;
    else if (link.state === 'up' && wasUnavailable.current) {
      wasUnavailable.current = false;
      setServiceBackAt(performance.now());
    }
  }, [link.state]);

  const refreshModel = useCallback(() => {
    client.modelInfo().then(
      (doc) => {
        setModel(doc);
        setModelError(undefined);
        if (!endpointKnown.current) {
          void client.endpoint().then(
            (info) => {
              endpointKnown.current = true;
              setEndpoint(info);
            },
            () => setEndpoint(undefined),
          );
        }
      },
      (err: unknown) => setModelError(toApiError(err)),
    );
  }, [client]);

  useEffect(() => {
    refreshModel();
  }, [refreshModel, session]);

  // While the model is loading or missing, or the service is gone, ask again every 2 s so the page
  // recovers by itself. Signed out, only a token helps.
  const retryModel = link.state === 'unavailable' || (link.state === 'up' && !model?.ready);
  useEffect(() => {
    if (!retryModel) return;
    const timer = setInterval(refreshModel, 2000);
    return () => clearInterval(timer);
  }, [retryModel, refreshModel]);

  useEffect(
    () =>
      client.subscribeStats(
        windowS,
        (doc) => {
          setStats(doc);
          setStatsError(undefined);
        },
        setStatsError,
      ),
    [client, windowS, session],
  );

  // Desktop menu: File > Choose Model Folder, File > Connection… and View > Checker / Dashboard.
  useEffect(
    () =>
      client.onAppEvent?.((event) => {
        if (event.type === 'model-changed') setModel(event.model);
        else if (event.type === 'show-connection') setConnectionOpen(true);
        else selectTab(event.view);
      }),
    [client],
  );

  const selectTab = (next: Tab) => {
    setTab(next);
    history.replaceState(null, '', `#${next}`);
  };

  const signedIn = () => {
    setModelError(undefined);
    setStatsError(undefined);
    setSession((n) => n + 1);
  };

  const chooseModel = client.chooseModelDirectory;
  // A refused token where there is no sign-in prompt (the desktop app keeps it in the keychain): the dialog asks.
  const tokenNeeded = link.state === 'signed-out' && !client.auth && !tokenDialogDismissed;
  const otherModelError =
    modelError && modelError.code !== SERVICE_UNAVAILABLE && modelError.code !== UNAUTHORIZED ? modelError : undefined;
  return (
    <div className="app">
      <header className="app-header">
        <h1>OFA-VE Console</h1>
        <nav className="app-tabs" role="tablist">
          <button role="tab" aria-selected={tab === 'checker'} onClick={() => selectTab('checker')}>
            Checker
          </button>
          <button role="tab" aria-selected={tab === 'dashboard'} onClick={() => selectTab('dashboard')}>
            Dashboard
          </button>
        </nav>
        <span className="muted">{client.mode === 'desktop' ? 'desktop' : 'browser'} mode</span>
      </header>
      {/* The dashboard says so in its own banner, with how old its figures are. */}
      {link.state === 'unavailable' && tab !== 'dashboard' && (
        <div className="banner error" role="status" data-testid="service-unavailable">
          Service unavailable — retrying. Checks cannot run until it is back.{' '}
          <span className="muted">{unavailableReason(link.message)}</span>
        </div>
      )}
      {model?.model?.demo && (
        <div className="banner demo" role="alert" data-testid="demo-banner">
          Demo model loaded: answers are not meaningful. It has the real model&apos;s inputs and outputs, with random weights.
        </div>
      )}
      {model && !model.ready && link.state === 'up' && (
        <div className="banner error" role="alert" data-testid="model-error">
          Model not loaded: {model.error ?? 'still loading…'}
          {chooseModel && (
            <button
              style={{ marginLeft: 12 }}
              onClick={() => void chooseModel().then(setModel, (err: unknown) => setModelError(toApiError(err)))}
            >
              Choose model folder…
            </button>
          )}
        </div>
      )}
      {setup.notice && (
        <div className="banner demo" role="status" data-testid="connection-notice-banner">
          {setup.notice}
        </div>
      )}
      {otherModelError && (
        <div className="banner error" role="alert">
          Cannot load the model information: <code>{otherModelError.code}</code> {otherModelError.message}
        </div>
      )}
      <main className="app-main">
        {link.state === 'signed-out' && client.auth ? (
          <SignInPrompt auth={client.auth} refused={link.tokenRefused} onSignedIn={signedIn} />
        ) : tab === 'checker' ? (
          <CheckerView
            client={client}
            model={model}
            serviceDown={link.state === 'unavailable' ? unavailableReason(link.message) : undefined}
            serviceBackAt={serviceBackAt}
          />
        ) : (
          <DashboardView
            client={client}
            stats={stats}
            statsError={statsError}
            windowS={windowS}
            onWindowChange={setWindowS}
            prometheusUrl={model?.prometheus_url}
          />
        )}
      </main>
      <StatusBar
        client={client}
        model={model}
        endpoint={endpoint}
        stats={stats}
        link={link}
        onModelChanged={setModel}
        onOpenConnection={() => setConnectionOpen(true)}
      />
      {(connectionOpen || tokenNeeded) && (
        <ConnectionDialog
          control={control}
          target={setup.target}
          tokenStorage={setup.tokenStorage}
          notice={
            tokenNeeded
              ? link.tokenRefused
                ? 'The service refused the token: give the right one.'
                : 'The service needs an access token.'
              : undefined
          }
          onCancel={() => {
            setConnectionOpen(false);
            setTokenDialogDismissed(true);
          }}
        />
      )}
    </div>
  );
}
