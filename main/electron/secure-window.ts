import { BrowserWindow, dialog, shell } from 'electron';
import { isAppUrl } from './app-origin.ts';
import { secureWebPreferences } from './web-preferences.ts';

/**
 * The console window: nothing navigates away from the app or opens a window; https links the user
 * clicks go to the system browser. Dropped files are handled by the page (navigateOnDragDrop off).
 */
export function createConsoleWindow(options: { preload: string; url: string; devServerUrl: string | undefined }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 900,
    minWidth: 700,
    minHeight: 600,
    title: 'OFA-VE Console',
    backgroundColor: '#0f1419',
    show: false,
    webPreferences: secureWebPreferences(options.preload),
  });
  win.once('ready-to-show', () => win.show());
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, options.devServerUrl)) event.preventDefault();
  });
  win.webContents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, options.devServerUrl)) event.preventDefault();
  });
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  // The checker's beforeunload (unchecked or unexported rows) would otherwise block closing the
  // window silently: Electron shows no prompt of its own. preventDefault here means "leave anyway".
  win.webContents.on('will-prevent-unload', (event) => {
    const choice = dialog.showMessageBoxSync(win, {
      type: 'question',
      buttons: ['Leave', 'Stay'],
      defaultId: 1,
      cancelId: 1,
      message: 'Leave the checker?',
      detail: 'Some rows are not checked or their results are not exported. They are kept for next time.',
    });
    if (choice === 0) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//i.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(options.url);
  return win;
}
