import { app, BrowserWindow, dialog, Menu, Notification, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AppEvent, EndpointDocument } from '../../preload/api-contract.ts';
import { defaultModelDir } from '../config.ts';
import { jsonLogger } from '../logging/json-logger.ts';
import { guardStdio, writeIfOpen } from '../logging/stdio-guard.ts';
import { OfaVeHttpServer } from '../server/http-server.ts';
import { appVersion, ServiceRuntime } from '../service/service-runtime.ts';
import { APP_ORIGIN } from './app-origin.ts';
import { registerAppScheme, serveAppProtocol } from './app-protocol.ts';
import { buildAppMenu } from './app-menu.ts';
import { chooseModelFolder, IpcRouter, registerConsoleHandlers, send } from './ipc-handlers.ts';
import { createConsoleWindow } from './secure-window.ts';

/**
 * The desktop shell, kept thin: the same ServiceRuntime and HTTP server (/metrics on
 * 127.0.0.1:7860) as `ofa-ve serve`, one secure window over IPC, a menu, and a notification when an
 * in-app alert starts firing. Options: --port N / OFA_VE_PORT, --model DIR / OFA_VE_MODEL.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const rendererDir = path.join(here, '../renderer');
// Started from a terminal and piped (`| head`, a log shipper), a closed stdout must not crash the app.
guardStdio();
const logger = jsonLogger((line) => writeIfOpen(process.stdout, line));

function options(): { port: number; modelDir: string } {
  const { values } = parseArgs({
    args: process.argv.slice(app.isPackaged ? 1 : 2),
    options: { port: { type: 'string' }, model: { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const port = Number(values.port ?? process.env.OFA_VE_PORT ?? 7860);
  return {
    port: Number.isInteger(port) && port >= 0 && port <= 65535 ? port : 7860,
    modelDir: String(values.model ?? process.env.OFA_VE_MODEL ?? defaultModelDir()),
  };
}

let mainWindow: BrowserWindow | undefined;

async function start(): Promise<void> {
  registerAppScheme();
  await app.whenReady();
  const { port, modelDir } = options();
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  if (!devServerUrl) serveAppProtocol(rendererDir);

  const runtime = new ServiceRuntime({ modelDir, provider: 'auto', logger });
  const limits = runtime.limits;
  const server = new OfaVeHttpServer(runtime, {
    logger,
    // The same UI in a browser at http://127.0.0.1:PORT/ (the window itself uses app://).
    uiDir: devServerUrl ? undefined : rendererDir,
    bodyLimits: {
      maxBodyBytes: Math.ceil((limits.maxImageBytes * 4) / 3) + 2 * limits.maxTextBytes + 64 * 1024,
      maxImageBytes: limits.maxImageBytes,
      maxFieldBytes: limits.maxTextBytes,
    },
  });
  // The HTTP endpoint is for Prometheus and scripts; if its port is taken the app works without it.
  let endpoint: EndpointDocument = { metrics_url: null, error: 'starting', version: appVersion() };
  try {
    const address = await server.listen(port, '127.0.0.1');
    endpoint = { metrics_url: `http://127.0.0.1:${address.port}/metrics`, version: appVersion() };
    logger.log('info', 'listening', { url: `http://127.0.0.1:${address.port}`, metrics: endpoint.metrics_url });
  } catch (err) {
    endpoint = { metrics_url: null, error: `no /metrics endpoint: ${(err as Error).message}`, version: appVersion() };
    logger.log('error', 'HTTP server not started', { error: (err as Error).message });
  }

  const router = new IpcRouter(devServerUrl);
  registerConsoleHandlers(router, runtime, () => endpoint);

  runtime.alerts.on('firing', (alert: { name: string; summary: string }) => {
    if (Notification.isSupported()) new Notification({ title: `Alert firing: ${alert.name}`, body: alert.summary }).show();
  });

  const toWindow = (event: AppEvent) => {
    if (mainWindow) send(mainWindow.webContents, 'app:event', event);
  };
  const chooseModel = () => {
    chooseModelFolder(runtime, mainWindow).then(
      (model) => model && toWindow({ type: 'model-changed', model }),
      (err: Error) => dialog.showErrorBox('Model not loaded', `${err.message}\n\nThe current model stays in use.`),
    );
  };
  Menu.setApplicationMenu(
    buildAppMenu({ chooseModel, showView: (view) => toWindow({ type: 'show-view', view }), metricsUrl: () => endpoint.metrics_url }, !app.isPackaged),
  );

  mainWindow = createConsoleWindow({
    preload: path.join(here, '../preload/index.cjs'),
    url: devServerUrl ?? `${APP_ORIGIN}/index.html`,
    devServerUrl,
  });
  mainWindow.on('closed', () => (mainWindow = undefined));
  void runtime.start();

  app.on('window-all-closed', () => app.quit());
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void Promise.all([server.close(), runtime.close(5000)]).finally(() => app.exit(0));
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
