import { app, BrowserWindow, dialog, Menu, Notification, safeStorage, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AppEvent, ConnectionState, EndpointDocument } from '../../preload/api-contract.ts';
import { appVersion, DEFAULT_PORT, defaultModelDir } from '../config.ts';
import { jsonLogger } from '../logging/json-logger.ts';
import { guardStdio, writeIfOpen } from '../logging/stdio-guard.ts';
import * as alerts from './alert-notifier.ts';
import { APP_ORIGIN, devServerUrlOf } from './app-origin.ts';
import { registerAppScheme, serveAppProtocol } from './app-protocol.ts';
import { buildAppMenu } from './app-menu.ts';
import { chooseModelFolder, IpcRouter, registerConnectionHandlers, registerConsoleHandlers, send } from './ipc-handlers.ts';
import { LocalService } from './local-service.ts';
import { ConnectionManager, loadConnectionChoice, startupConnection } from './remote-connection.ts';
import { createConsoleWindow } from './secure-window.ts';
import { TokenStore } from './token-store.ts';

/**
 * The desktop shell, kept thin: either its own model (the same ServiceRuntime and HTTP server,
 * /metrics on 127.0.0.1:7860, as `ofa-ve serve`) or a remote `ofa-ve serve` the window talks to
 * over HTTP; one secure window, a menu, and a notification when an in-app alert starts firing.
 * Options: --port N / OFA_VE_PORT, --model DIR / OFA_VE_MODEL, --connect URL (token from
 * OFA_VE_TOKEN or the keychain; the local model is not started).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = devServerUrlOf(app.isPackaged, process.env);
const rendererDir = path.join(here, '../renderer');
// Started from a terminal and piped (`| head`, a log shipper), a closed stdout must not crash the app.
guardStdio();
const logger = jsonLogger((line) => writeIfOpen(process.stdout, line));

function options(): { port: number; modelDir: string; connect: string | undefined } {
  const { values } = parseArgs({
    args: process.argv.slice(app.isPackaged ? 1 : 2),
    options: { port: { type: 'string' }, model: { type: 'string' }, connect: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const port = Number(values.port ?? process.env.OFA_VE_PORT ?? DEFAULT_PORT);
  return {
    port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : DEFAULT_PORT,
    modelDir: String(values.model ?? process.env.OFA_VE_MODEL ?? defaultModelDir()),
    connect: values.connect === undefined ? undefined : String(values.connect),
  };
}

/** Where checks run, from the command line and the saved choice; a bad --connect ends the app (exit 2). */
async function initialConnection(
  connect: string | undefined,
  tokens: TokenStore,
  settingsFile: string,
): Promise<ConnectionState | undefined> {
  try {
    const saved = await loadConnectionChoice(settingsFile);
    return await startupConnection({ connect, envToken: process.env.OFA_VE_TOKEN, saved, tokens });
  } catch (err) {
    const message = (err as Error).message;
    writeIfOpen(process.stderr, `ofa-ve console: ${message}\n`);
    dialog.showErrorBox('Cannot connect', message);
    return undefined;
  }
}

let mainWindow: BrowserWindow | undefined;

async function start(): Promise<void> {
  registerAppScheme();
  await app.whenReady();
  const { port, modelDir, connect } = options();
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const userData = app.getPath('userData');
  const tokens = new TokenStore(path.join(userData, 'remote-tokens.json'), safeStorage);
  const settingsFile = path.join(userData, 'connection.json');
  const initial = await initialConnection(connect, tokens, settingsFile);
  if (!initial) {
    app.exit(2);
    return;
  }

  // The local model runs only while the app is not connected to a remote service.
  let local: LocalService | undefined;
  const notConnected: EndpointDocument = { metrics_url: null, error: 'connected to a remote service', version: appVersion() };
  const endpoint = () => local?.endpoint ?? notConnected;
  const router = new IpcRouter(devServerUrl);
  const handlers = registerConsoleHandlers(router, () => local?.runtime, endpoint);
  const startLocal = async () => {
    local = await LocalService.start({
      modelDir,
      port,
      logger,
      // The same UI in a browser at http://127.0.0.1:PORT/ (the window itself uses app://).
      uiDir: devServerUrl ? undefined : rendererDir,
      // The notification comes from the alert watcher below; a start is read at once, not at the next poll.
      onAlertFiring: () => void alertWatcher.poke(),
    });
  };
  const stopLocal = async () => {
    const stopping = local;
    local = undefined;
    handlers.unsubscribeAll();
    await stopping?.close();
  };
  // The Origin the window's requests carry, which a remote must allow (--cors-origin).
  const pageOrigin = devServerUrl ? new URL(devServerUrl).origin : APP_ORIGIN;
  const connection = new ConnectionManager(initial, { tokens, settingsFile, startLocal, stopLocal, test: { pageOrigin } });
  registerConnectionHandlers(router, connection);
  // An OS notification when an alert of the service in use (local or remote) starts and ends; View > Alert Notifications mutes.
  const notificationsFile = path.join(userData, 'notifications.json');
  const notifier = new alerts.AlertNotifier(alerts.electronNotificationPresenter(Notification), {
    muted: await alerts.loadNotificationsMuted(notificationsFile),
    onClick: () => {
      if (!mainWindow) return;
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.show();
      mainWindow.focus();
      toWindow({ type: 'show-view', view: 'dashboard' });
    },
  });
  const alertWatcher = new alerts.AlertWatcher(
    notifier,
    () => {
      const current = connection.current;
      if (current.mode === 'remote') {
        return { key: current.url, label: current.host, read: () => alerts.readRemoteAlerts(current.url, current.token) };
      }
      const runtime = local?.runtime;
      return runtime && { key: 'local', label: 'local model', read: async () => runtime.alerts.current() };
    },
    { intervalMs: 5000, onError: (message) => logger.log('warn', 'cannot read alerts', { error: message }) },
  );
  if (!devServerUrl) serveAppProtocol(rendererDir, () => connection.connectSources()[0]);
  if (initial.mode === 'local') await startLocal();
  else logger.log('info', 'connected to a remote service', { url: initial.url, token: initial.tokenSource });
  alertWatcher.start();

  const toWindow = (event: AppEvent) => {
    if (mainWindow) send(mainWindow.webContents, 'app:event', event);
  };
  const chooseModel = () => {
    if (!local) {
      dialog.showErrorBox(
        'Connected to a remote service',
        "The model is the remote service's. Choose File > Connection… > Local model to use a model folder here.",
      );
      return;
    }
    chooseModelFolder(local.runtime, mainWindow).then(
      (model) => model && toWindow({ type: 'model-changed', model }),
      (err: Error) => dialog.showErrorBox('Model not loaded', `${err.message}\n\nThe current model stays in use.`),
    );
  };
  Menu.setApplicationMenu(
    buildAppMenu(
      {
        chooseModel,
        showConnection: () => toWindow({ type: 'show-connection' }),
        showView: (view) => toWindow({ type: 'show-view', view }),
        metricsUrl: () => endpoint().metrics_url,
        alertNotifications: {
          enabled: () => !notifier.muted,
          setEnabled: (enabled) => {
            notifier.muted = !enabled;
            alerts
              .saveNotificationsMuted(notificationsFile, !enabled)
              .catch((err: Error) => logger.log('warn', 'notification setting not saved', { error: err.message }));
          },
        },
      },
      !app.isPackaged,
    ),
  );

  mainWindow = createConsoleWindow({
    preload: path.join(here, '../preload/index.cjs'),
    url: devServerUrl ?? `${APP_ORIGIN}/index.html`,
    devServerUrl,
  });
  mainWindow.on('closed', () => (mainWindow = undefined));

  app.on('window-all-closed', () => app.quit());
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void (local?.close() ?? Promise.resolve()).finally(() => app.exit(0));
  });
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  void start();
}
