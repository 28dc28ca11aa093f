/** The app's origin and the sender check, free of Electron imports so unit tests can run them. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://console`;

/**
 * The dev server the window loads under `npm run dev` (electron-vite sets ELECTRON_RENDERER_URL),
 * never in a packaged app: there the variable, set by anyone who starts the app, would load its
 * page instead of app://console/, and the IPC sender check would trust that page's origin.
 */
export function devServerUrlOf(isPackaged: boolean, env: Readonly<Record<string, string | undefined>>): string | undefined {
  return isPackaged ? undefined : env.ELECTRON_RENDERER_URL || undefined;
}

/** The app's own pages: app://console/ in a build, the dev server's origin under `npm run dev`. */
export function isAppUrl(url: string | undefined, devServerUrl: string | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    if (devServerUrl) return parsed.origin === new URL(devServerUrl).origin;
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'console';
  } catch {
    return false;
  }
}

/**
 * Whether an IPC call may be served: it must come from the top frame of the window (not an
 * iframe) and that frame must show the app's own page (not a page it was navigated to).
 */
export function isTrustedSender<F>(
  frame: F | null | undefined,
  mainFrame: F,
  frameUrl: string | undefined,
  devServerUrl: string | undefined,
): boolean {
  return frame != null && frame === mainFrame && isAppUrl(frameUrl, devServerUrl);
}
