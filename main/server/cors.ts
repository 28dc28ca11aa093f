import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Cross-origin use of the API by named origins only (`ofa-ve serve --cors-origin ORIGIN`): the
 * console served by another instance (`http://console-host:7860`) or the desktop app
 * (`app://console`). Only with a bearer token: a page of an allowed origin still needs the token,
 * and no cookie or other ambient credential is ever honoured (no Allow-Credentials), so allowing
 * the origin opens nothing a token holder could not do with curl. Without the option, or for any
 * other origin, nothing changes: cross-site checks stay refused (request-origin.ts).
 */
export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[] = []) {
    this.origins = new Set(origins);
  }

  get enabled(): boolean {
    return this.origins.size > 0;
  }

  /** Whether a request's Origin header names an allowed origin (exactly, as browsers send it). */
  allows(origin: string | undefined): boolean {
    return origin !== undefined && this.origins.has(origin);
  }

  /**
   * Headers every answer carries (set before any handler writes its head, which merges them): the
   * allowed origin echoed back, Retry-After readable by the page (its batches wait that long), and
   * Vary so a cache never serves one origin's answer to another.
   */
  apply(req: IncomingMessage, res: ServerResponse): void {
    if (!this.enabled) return;
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (!this.allows(origin)) return;
    res.setHeader('access-control-allow-origin', origin!);
    res.setHeader('access-control-expose-headers', 'Retry-After');
  }

  /** A CORS preflight from an allowed origin: OPTIONS asking for a method this API serves. */
  isAllowedPreflight(req: IncomingMessage): boolean {
    const method = req.headers['access-control-request-method'];
    return req.method === 'OPTIONS' && this.allows(req.headers.origin) && (method === 'GET' || method === 'HEAD' || method === 'POST');
  }

  /** 204 with what the page may send: the token and a JSON or form body; cached for 10 minutes. */
  answerPreflight(req: IncomingMessage, res: ServerResponse): void {
    const headers: Record<string, string> = {
      'access-control-allow-methods': 'GET, HEAD, POST',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': '600',
      'cache-control': 'no-store',
    };
    // Chromium's Private Network Access asks before a public page reaches a private address.
    if (req.headers['access-control-request-private-network'] === 'true') headers['access-control-allow-private-network'] = 'true';
    res.writeHead(204, headers);
    res.end();
  }
}

/**
 * One `--cors-origin` value as the Origin header a browser sends for it: http(s) origins
 * normalised (lower case, no default port), or another scheme's `scheme://host` (the desktop
 * app's `app://console`). Throws with the reason for anything else (a path, `*`, `null`).
 */
export function parseCorsOrigin(value: string): string {
  const text = value.trim().replace(/\/$/, '');
  if (text === '*' || text === 'null') throw new Error(`--cors-origin ${value}: name each origin allowed, e.g. http://console-host:7860`);
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`--cors-origin ${value}: not a valid origin`);
    }
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || text.endsWith('#') || text.endsWith('?')) {
      throw new Error(`--cors-origin ${value}: an origin is scheme://host[:port], without a path (${url.origin})`);
    }
    return url.origin;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/[a-z0-9.-]+(:\d{1,5})?$/i.test(text)) return text.toLowerCase();
  throw new Error(`--cors-origin ${value}: an origin is scheme://host[:port], e.g. http://console-host:7860 or app://console`);
}

/** The `--cors-origin` values of `ofa-ve serve`, refused without a token (see CorsPolicy). */
export function parseCorsOrigins(values: readonly string[], token: string | undefined): string[] {
  if (values.length === 0) return [];
  if (!token) {
    throw new Error(
      '--cors-origin needs --token (or OFA_VE_TOKEN): without one, any page of that origin could use the service and read its metrics',
    );
  }
  return [...new Set(values.map(parseCorsOrigin))];
}
