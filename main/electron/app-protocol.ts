import { net, protocol } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveInside, uiContentSecurityPolicy } from '../server/static-ui.ts';
import { APP_SCHEME } from './app-origin.ts';

/** Must run before app 'ready': app:// is a standard, secure origin with fetch, like https. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/**
 * Serves the built renderer at app://console/ from `rendererDir` only. The page gets its own
 * origin (not file://, which would share one with every local file) and the same CSP header as
 * the browser mode: connect-src is the app's own origin, plus the remote service's while the app
 * is connected to one (`remoteOrigin`, read for each page load: the window reloads on a switch).
 */
export function serveAppProtocol(rendererDir: string, remoteOrigin: () => string | undefined): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== 'console') return new Response('not found', { status: 404 });
    const file = await resolveInside(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname);
    if (!file) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('content-security-policy', uiContentSecurityPolicy(remoteOrigin()));
    headers.set('x-content-type-options', 'nosniff');
    if (path.extname(file) === '.js') headers.set('content-type', 'text/javascript; charset=utf-8');
    return new Response(response.body, { status: 200, headers });
  });
}
