import { BrowserWindow, shell } from 'electron';
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
    minWidth: 900,
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
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//i.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(options.url);
  return win;
}
