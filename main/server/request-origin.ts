import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from './bearer-auth.ts';

/**
 * Guards a loopback server against other web pages in the user's browser. DNS rebinding: a page
 * whose own host name resolves to 127.0.0.1 could read the API, but its requests carry that foreign
 * name in Host. Cross-site posts: a plain form post needs no CORS preflight, yet the browser says
 * where it came from (Sec-Fetch-Site, Origin).
 */
export function loopbackHostAllowed(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (!host) return true; // HTTP/1.0 clients and some probes send none; no browser omits it
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return isLoopbackHost(name.toLowerCase());
}

/** True for a request a browser marked as coming from another site. */
export function isCrossSiteRequest(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}
