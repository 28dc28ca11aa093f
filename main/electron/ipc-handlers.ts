import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { EndpointDocument, IpcChannel, IpcContract, IpcEvents } from '../../preload/api-contract.ts';
import { TRACE_FORMATS, type ModelDocument, type Outcome } from '../../preload/wire-types.ts';
import { CheckError, toCheckError } from '../errors.ts';
import type { ServiceRuntime } from '../service/service-runtime.ts';
import { addMarkFromBody, compareOf, MAX_MARK_BODY_BYTES, slicesOf } from '../service/telemetry-queries.ts';
import { cancellableCheckId } from '../service/structured-check-request.ts';
import { traceDocument } from '../service/trace-document.ts';
import { isTrustedSender } from './app-origin.ts';
import { IpcChecks } from './ipc-checks.ts';
import { fieldsOf } from './ipc-request.ts';
import { connectRequestOf, testRequestOf, type ConnectionManager } from './remote-connection.ts';
import { ConnectionError } from './remote-fetch.ts';

/**
 * A channel's handler. The request is `unknown`, not the contract's type: it is whatever the page's
 * structured clone holds (a compromised or buggy page sends anything), so each handler checks it.
 */
type Handler<C extends IpcChannel> = (request: unknown, sender: WebContents) => Promise<IpcContract[C]['response']>;

/**
 * Registers one handler per contract channel. Every call is refused unless it comes from the main
 * frame of the app's own window (electron/fiddle's sender check): an iframe or a navigated page
 * cannot reach the model.
 */
export class IpcRouter {
  constructor(private readonly devServerUrl: string | undefined) {}

  handle<C extends IpcChannel>(channel: C, handler: Handler<C>): void {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, request: unknown) => {
      const frame = event.senderFrame;
      if (!isTrustedSender(frame, event.sender.mainFrame, frame?.url, this.devServerUrl)) {
        // FORBIDDEN, as HTTP says to a caller that is not allowed: UNAUTHORIZED reads as "signed out" in the renderer.
        return { ok: false, error: { code: 'FORBIDDEN', message: 'IPC call from an untrusted frame' } } satisfies Outcome<never>;
      }
      return handler(request, event.sender);
    });
  }
}

/** Runs an operation and turns any failure into the contract's `{ ok: false, error }`. */
export async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    return { ok: false, error: toCheckError(err).toJSON() };
  }
}

/**
 * Shows a folder dialog and loads the chosen model (the menu and the renderer both use it);
 * null when cancelled. A folder that fails keeps the current model and throws MODEL_INVALID.
 */
export async function chooseModelFolder(runtime: ServiceRuntime, win: BrowserWindow | undefined): Promise<ModelDocument | null> {
  const options: Electron.OpenDialogOptions = {
    title: 'Choose a model folder (with model.json)',
    defaultPath: runtime.modelDir,
    properties: ['openDirectory'],
  };
  const picked = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  const dir = picked.filePaths[0];
  if (picked.canceled || !dir) return null;
  await runtime.loadModel(dir);
  return runtime.modelDocument({ includeDir: true });
}

export function send<E extends keyof IpcEvents>(target: WebContents, channel: E, payload: IpcEvents[E]): void {
  if (!target.isDestroyed()) target.send(channel, payload);
}

/** A file name safe to suggest in a save dialog: no folders, no control characters. */
function safeFileName(name: unknown, fallback: string): string {
  const base = [...path.basename(String(name ?? ''))]
    .map((c) => (c.charCodeAt(0) < 0x20 || '<>:"/\\|?*'.includes(c) ? '_' : c))
    .join('')
    .slice(0, 120);
  return base && base !== '.' && base !== '..' ? base : fallback;
}

const MAX_SUBSCRIPTIONS_PER_WINDOW = 8;

/**
 * The most an export (`file:save`) may hold: far more than any results file of the checker (a
 * batch's CSV or JSON), and a bound on what a page can make main write to disk in one call.
 */
export const MAX_SAVE_BYTES = 64 * 1024 * 1024;

/** The local model is not running: the window is connected to a remote service (it talks HTTP to it). */
function localModelOff(): CheckError {
  return new CheckError('NOT_READY', 'the local model is not running: the console is connected to a remote service');
}

/**
 * The console's IPC surface over the same ServiceRuntime that serves HTTP and /metrics; `local`
 * is undefined while the app is connected to a remote service. Returns what stops every stats
 * subscription (when the local model stops).
 */
export function registerConsoleHandlers(
  router: IpcRouter,
  local: () => ServiceRuntime | undefined,
  endpoint: () => EndpointDocument,
): { unsubscribeAll(): void } {
  const subscriptions = new Map<string, { timer: NodeJS.Timeout; sender: WebContents }>();
  const unsubscribe = (id: string) => {
    const sub = subscriptions.get(id);
    if (!sub) return;
    clearInterval(sub.timer);
    subscriptions.delete(id);
  };
  const runtime = (): ServiceRuntime => {
    const current = local();
    if (!current) throw localModelOff();
    return current;
  };
  const checks = new IpcChecks((request, signal) => runtime().checkStructured(request, signal));
  // A page that goes takes its subscriptions and its checks with it (its queued checks are not run
  // for no one: they are dropped as a browser's aborted requests are).
  const forgetSender = (sender: WebContents) => {
    for (const [id, sub] of [...subscriptions]) if (sub.sender === sender) unsubscribe(id);
    checks.cancelAll(sender);
  };
  // One set of listeners per WebContents, not one per subscription (they would pile up). A page
  // that goes (closed, reloaded, navigated, crashed): `destroyed` alone does not fire on a reload,
  // and the new page knows nothing of the old one's ids.
  const watched = new WeakSet<WebContents>();
  const watch = (sender: WebContents) => {
    if (watched.has(sender)) return;
    watched.add(sender);
    sender.once('destroyed', () => forgetSender(sender));
    sender.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) forgetSender(sender);
    });
    sender.on('render-process-gone', () => forgetSender(sender));
  };

  router.handle('app:endpoint', () => outcome(async () => endpoint()));
  router.handle('model:info', () => outcome(async () => runtime().modelDocument({ includeDir: true })));
  router.handle('model:choose-directory', (_request, sender) =>
    outcome(() => chooseModelFolder(runtime(), BrowserWindow.fromWebContents(sender) ?? undefined)),
  );
  // What a page sends is whatever its structured clone holds: checked and counted by the runtime
  // (test/integration/bad-input-ipc.test.ts feeds it the bad-input corpus).
  router.handle('check:run', (request, sender) =>
    outcome(() => {
      watch(sender);
      return checks.check(sender, request);
    }),
  );
  router.handle('check:cancel', (request, sender) =>
    outcome(async () => {
      // The same rule as the check's own checkId: one no check could carry is a mistake, not "none in flight".
      const checkId = cancellableCheckId(request);
      if (checkId === undefined) throw new CheckError('BAD_REQUEST', 'checkId must be the id the check was sent with');
      return { cancelled: checks.cancel(sender, checkId) };
    }),
  );
  router.handle('stats:subscribe', (request, sender) =>
    outcome(async () => {
      const service = runtime();
      const windowS = fieldsOf(request).windowS;
      if (typeof windowS !== 'number' || !Number.isInteger(windowS) || windowS < 1 || windowS > service.stats.retentionSeconds) {
        throw new CheckError('BAD_REQUEST', `window must be a whole number of seconds from 1 to ${service.stats.retentionSeconds}`);
      }
      const mine = [...subscriptions.entries()].filter(([, s]) => s.sender === sender);
      // A renderer that forgets to unsubscribe cannot pile up timers: the oldest goes.
      if (mine.length >= MAX_SUBSCRIPTIONS_PER_WINDOW) unsubscribe(mine[0]![0]);
      const subscriptionId = randomUUID();
      const tick = () => send(sender, 'stats:tick', { subscriptionId, stats: service.statsDocument(windowS) });
      subscriptions.set(subscriptionId, { timer: setInterval(tick, 1000), sender });
      watch(sender);
      setImmediate(tick);
      return { subscriptionId };
    }),
  );
  router.handle('stats:unsubscribe', (request) =>
    outcome(async () => {
      const { subscriptionId } = fieldsOf(request);
      if (typeof subscriptionId !== 'string') throw new CheckError('BAD_REQUEST', 'subscriptionId must be the id stats:subscribe gave');
      unsubscribe(subscriptionId);
      return null;
    }),
  );
  router.handle('stats:slowest', () => outcome(async () => runtime().stats.slowest(20)));
  // The same LiveStats methods as GET /api/v1/slices, /marks and /compare; what a page sends is checked here.
  router.handle('stats:slices', (request) => {
    const { windowS, attribute } = fieldsOf(request);
    return outcome(async () => slicesOf(runtime().stats, windowS, attribute));
  });
  router.handle('stats:marks', () => outcome(async () => runtime().stats.marks()));
  router.handle('stats:add-mark', (request) =>
    outcome(async () => {
      const body = { name: fieldsOf(request).name };
      // The same limit as POST /api/v1/marks' body, measured on the body that request would send.
      if (typeof body.name === 'string' && Buffer.byteLength(JSON.stringify(body)) > MAX_MARK_BODY_BYTES) {
        throw new CheckError('PAYLOAD_TOO_LARGE', `the body is over ${MAX_MARK_BODY_BYTES} bytes`);
      }
      return addMarkFromBody(runtime().stats, body);
    }),
  );
  router.handle('stats:compare', (request) => {
    const { a, b, attribute } = fieldsOf(request);
    return outcome(async () => compareOf(runtime().stats, a, b, attribute));
  });
  // The builder GET /api/v1/requests/{id}/trace uses, over the same ring: the same document, operator events included.
  router.handle('stats:trace', (request) =>
    outcome(async () => {
      const { id, format: asked } = fieldsOf(request);
      const format = TRACE_FORMATS.find((f) => f === asked);
      if (!format) throw new CheckError('BAD_REQUEST', `format must be one of ${TRACE_FORMATS.join(', ')}`);
      if (typeof id !== 'string') throw new CheckError('BAD_REQUEST', 'id must be a request id');
      return traceDocument(runtime().stats.traces, id, format);
    }),
  );
  router.handle('file:save', (request, sender) =>
    outcome(async () => {
      const { content, suggestedName } = fieldsOf(request);
      if (typeof content !== 'string') throw new CheckError('BAD_REQUEST', 'nothing to save');
      // UTF-16 length first: a string of more code units than the cap is over it in UTF-8 too, without counting.
      if (content.length > MAX_SAVE_BYTES || Buffer.byteLength(content) > MAX_SAVE_BYTES) {
        throw new CheckError('PAYLOAD_TOO_LARGE', `the file to save is over ${MAX_SAVE_BYTES / (1024 * 1024)} MiB`);
      }
      const win = BrowserWindow.fromWebContents(sender) ?? undefined;
      const name = safeFileName(suggestedName, 'ofa-ve-results.txt');
      const ext = path.extname(name).slice(1) || 'txt';
      const options: Electron.SaveDialogOptions = {
        title: 'Export results',
        defaultPath: name,
        filters: [{ name: ext.toUpperCase(), extensions: [ext] }],
      };
      const picked = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
      if (picked.canceled || !picked.filePath) return { saved: false };
      await writeFile(picked.filePath, content, 'utf8');
      return { saved: true };
    }),
  );
  return {
    unsubscribeAll: () => {
      for (const id of [...subscriptions.keys()]) unsubscribe(id);
    },
  };
}

/** Like outcome(), and a ConnectionError keeps its code and message (they are meant for the user). */
async function connectionOutcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    if (err instanceof ConnectionError) return { ok: false, error: { code: err.code, message: err.message } };
    return { ok: false, error: toCheckError(err).toJSON() };
  }
}

/** Local model or remote service (the connection dialog); the same sender check as every channel. */
export function registerConnectionHandlers(router: IpcRouter, connection: ConnectionManager): void {
  router.handle('connection:get', () => connectionOutcome(async () => connection.info()));
  router.handle('connection:test', (request) => connectionOutcome(async () => connection.test(testRequestOf(request))));
  router.handle('connection:connect', (request) => connectionOutcome(async () => connection.connect(connectRequestOf(request))));
}
