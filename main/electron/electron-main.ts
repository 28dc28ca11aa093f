import { app, BrowserWindow, session, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultModelDir } from '../config.ts';
import { CheckError } from '../errors.ts';
import { EntailmentEngine } from '../inference/entailment-engine.ts';
import { IpcRouter, outcome } from './ipc-handlers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const rendererFile = path.join(here, '../renderer/index.html');

let engine: EntailmentEngine | undefined;
let loadError: CheckError | undefined;

function isAppUrl(url: string | undefined): boolean {
  if (!url) return false;
  if (rendererUrl) return url.startsWith(rendererUrl);
  try {
    return fileURLToPath(new URL(url)) === rendererFile;
  } catch {
    return false;
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'OFA-VE Console',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
    },
  });
  // Nothing navigates away from the app or opens windows; links go to the system browser.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (rendererUrl) void win.loadURL(rendererUrl);
  else void win.loadFile(rendererFile);
  return win;
}

async function start(): Promise<void> {
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  const router = new IpcRouter((_sender, frameUrl) => isAppUrl(frameUrl));
  router.handle('model:info', () =>
    outcome(async () => {
      if (!engine) throw loadError ?? new CheckError('NOT_READY', 'the model is still loading');
      const { name, version, demo, provider, imageSize } = engine.info;
      return { name, version, demo, provider, imageSize };
    }),
  );
  router.handle('check:run', (request) =>
    outcome(async () => {
      if (!engine) throw loadError ?? new CheckError('NOT_READY', 'the model is still loading');
      const started = performance.now();
      const result = await engine.check({ image: request.image, text: request.text, premise: request.premise });
      return { ...result, stages: { ...result.stages }, latency_ms: performance.now() - started };
    }),
  );
  try {
    engine = await EntailmentEngine.load(process.env.OFA_VE_MODEL ?? defaultModelDir());
  } catch (err) {
    loadError = err instanceof CheckError ? err : new CheckError('MODEL_INVALID', String(err));
  }
  createWindow();
  app.on('window-all-closed', () => app.quit());
}

if (!app.requestSingleInstanceLock()) app.quit();
else void start();
