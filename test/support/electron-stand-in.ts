/**
 * What main/electron/ipc-handlers.ts uses of Electron, for tests under plain Node (no Electron
 * binary here; where one runs, test/e2e/electron-shell.test.ts drives the real app): ipcMain
 * records each channel's handler so a test can call it as a renderer's invoke would, and the save
 * dialog answers with the path a test sets. Loaded in place of 'electron' by
 * electron-stand-in-hooks.mjs (see useElectronStandIn below).
 */
import { EventEmitter } from 'node:events';
import { register } from 'node:module';

type InvokeHandler = (event: unknown, request: unknown) => Promise<unknown>;

/** ipcMain.handle's registrations, by channel. */
export const invokeHandlers = new Map<string, InvokeHandler>();

export const ipcMain = {
  handle(channel: string, handler: InvokeHandler): void {
    invokeHandlers.set(channel, handler);
  },
};

/** Where the save dialog "saves": undefined is the user cancelling it. */
export const saveDialog: { filePath: string | undefined } = { filePath: undefined };

export const dialog = {
  showOpenDialog: async () => ({ canceled: true, filePaths: [] as string[] }),
  showSaveDialog: async () => ({ canceled: saveDialog.filePath === undefined, filePath: saveDialog.filePath }),
};

/** No windows: handlers fall back to their window-less dialogs. */
export const BrowserWindow = { fromWebContents: () => null };

/**
 * A window's WebContents as the handlers use it: events (destroyed, did-start-navigation,
 * render-process-gone) emitted by the test, the main frame the sender check compares with, and
 * what was sent to the page.
 */
export class StandInWebContents extends EventEmitter {
  readonly mainFrame: { url: string };
  readonly sent: { channel: string; payload: unknown }[] = [];
  destroyed = false;

  constructor(url = 'app://console/index.html') {
    super();
    this.mainFrame = { url };
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  send(channel: string, payload: unknown): void {
    this.sent.push({ channel, payload });
  }
}

/** Makes `import … from 'electron'` load this module; call before importing a module that imports Electron. */
export function useElectronStandIn(): void {
  register('./electron-stand-in-hooks.mjs', import.meta.url);
}

export default { ipcMain, dialog, BrowserWindow };
