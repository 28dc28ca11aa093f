/**
 * The address of an `ofa-ve serve` the console connects to, as the user types it: checked the same
 * way by the connection dialog, the desktop app's `--connect`, the app protocol's and the HTTP
 * server's CSP (a page may only reach the service it is connected to). Self-contained (no imports)
 * because both the Node and the web type-checks read it.
 */
// Not an Outcome: a refused address has a reason for the user to read, no error code, and the fields stay flat for its many readers.
export type ServiceUrl =
  | {
      ok: true;
      /** scheme://host[:port], what CSP connect-src, CORS and the token store key on. */
      origin: string;
      /** host[:port], for people ("remote: gpu-box:7860"). */
      host: string;
      /** Plain http to a host other than this machine: the token would cross the network unencrypted. */
      insecure: boolean;
    }
  | { ok: false; reason: string };

/** The query parameter of the browser UI that names the service to connect to. */
export const CONNECT_PARAM = 'connect';

function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** An http(s) address with nothing but scheme, host and port (a trailing slash is fine). */
export function parseServiceUrl(input: string): ServiceUrl {
  const text = input.trim();
  if (!text) return { ok: false, reason: 'give the address of the service, e.g. http://gpu-box:7860' };
  if (!/^https?:\/\//i.test(text)) {
    const rest = text.includes('://') ? text.slice(text.indexOf('://') + 3) : text;
    return { ok: false, reason: `start the address with http:// or https:// (e.g. http://${rest})` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: `not a valid address: ${text}` };
  }
  if (url.username || url.password) {
    return { ok: false, reason: 'no user name or password in the address: give the token in its own field' };
  }
  if (url.pathname !== '/' || url.search || url.hash) {
    return { ok: false, reason: `give the service's address only (scheme, host and port), without a path or query: ${url.origin}` };
  }
  return { ok: true, origin: url.origin, host: url.host, insecure: url.protocol === 'http:' && !isLoopbackName(url.hostname) };
}
