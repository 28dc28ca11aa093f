import { useCallback, useEffect, useState } from 'react';
import type { ApiError, ModelDocument, StatsDocument } from '../preload/wire-types.ts';
import type { ConsoleClient, EndpointInfo } from './api/console-client.ts';
import { CheckerView } from './checker/checker-view.tsx';
import { DashboardView } from './dashboard/dashboard-view.tsx';
import { StatusBar } from './dashboard/status-bar.tsx';

type Tab = 'checker' | 'dashboard';

function initialTab(): Tab {
  return location.hash === '#dashboard' ? 'dashboard' : 'checker';
}

/**
 * The whole console: checker and dashboard tabs over one ConsoleClient, one live stats
 * subscription shared by the dashboard and the status bar, and the model banners.
 */
export function App({ client }: { client: ConsoleClient }) {
  const [tab, setTab] = useState<Tab>(initialTab);
  const [model, setModel] = useState<ModelDocument | undefined>();
  const [modelError, setModelError] = useState<string | undefined>();
  const [endpoint, setEndpoint] = useState<EndpointInfo | undefined>();
  const [windowS, setWindowS] = useState(60);
  const [stats, setStats] = useState<StatsDocument | undefined>();
  const [statsError, setStatsError] = useState<ApiError | undefined>();

  const refreshModel = useCallback(() => {
    client.modelInfo().then(
      (doc) => {
        setModel(doc);
        setModelError(undefined);
      },
      (err: unknown) => setModelError(err instanceof Error ? err.message : String(err)),
    );
  }, [client]);

  useEffect(() => {
    refreshModel();
    void client.endpoint().then(setEndpoint, () => setEndpoint(undefined));
  }, [client, refreshModel]);

  // While the model is loading or missing, ask again every 2 s so the page recovers by itself.
  useEffect(() => {
    if (model?.ready) return;
    const timer = setInterval(refreshModel, 2000);
    return () => clearInterval(timer);
  }, [model?.ready, refreshModel]);

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
    [client, windowS],
  );

  // Desktop menu: File > Choose Model Folder and View > Checker / Dashboard.
  useEffect(
    () =>
      client.onAppEvent?.((event) => {
        if (event.type === 'model-changed') setModel(event.model);
        else selectTab(event.view);
      }),
    [client],
  );

  const selectTab = (next: Tab) => {
    setTab(next);
    history.replaceState(null, '', `#${next}`);
  };

  const chooseModel = client.chooseModelDirectory;
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
      {model?.model?.demo && (
        <div className="banner demo" role="alert" data-testid="demo-banner">
          Demo model loaded: answers are not meaningful. It has the real model&apos;s inputs and outputs, with random weights.
        </div>
      )}
      {model && !model.ready && (
        <div className="banner error" role="alert" data-testid="model-error">
          Model not loaded: {model.error ?? 'still loading…'}
          {chooseModel && (
            <button
              style={{ marginLeft: 12 }}
              onClick={() => void chooseModel().then(setModel, (err: Error) => setModelError(err.message))}
            >
              Choose model folder…
            </button>
          )}
        </div>
      )}
      {modelError && (
        <div className="banner error" role="alert">
          Cannot reach the service: {modelError}
        </div>
      )}
      <main className="app-main">
        {tab === 'checker' ? (
          <CheckerView client={client} model={model} />
        ) : (
          <DashboardView client={client} stats={stats} statsError={statsError} windowS={windowS} onWindowChange={setWindowS} />
        )}
      </main>
      <StatusBar client={client} model={model} endpoint={endpoint} stats={stats} onModelChanged={setModel} />
    </div>
  );
}
