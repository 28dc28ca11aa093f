import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { CONNECT_PARAM, parseServiceUrl } from '../../preload/service-url.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * The UI's policy, sent as a header (frame-ancestors only works there; renderer/index.html's meta
 * tag repeats the rest). The page may fetch only its own origin, plus the one service it is
 * connected to (`connect`: an origin checked by parseServiceUrl), so that injected script could not
 * send a token or an image anywhere else.
 */
export function uiContentSecurityPolicy(connect?: string): string {
  const connectSrc = connect ? `'self' ${connect}` : "'self'";
  return (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; " +
    `connect-src ${connectSrc}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`
  );
}

export const UI_CONTENT_SECURITY_POLICY = uiContentSecurityPolicy();

/** The service a browser page asks to connect to (`/?connect=http://host:port`), if a valid address. */
export function connectOriginOf(requestTarget: string | undefined): string | undefined {
  let value: string | null;
  try {
    value = new URL(requestTarget ?? '/', 'http://localhost').searchParams.get(CONNECT_PARAM);
  } catch {
    return undefined;
  }
  if (!value) return undefined;
  const parsed = parseServiceUrl(value);
  return parsed.ok ? parsed.origin : undefined;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Serves the built React UI (out/renderer) for browser mode. Only regular files that resolve
 * (symlinks included) inside the UI folder are served; anything else is a 404, so no request path
 * can reach another file on the machine.
 */
export class StaticUi {
  constructor(private readonly dir: string) {}

  /** Whether the path is one this serves (the page and its assets), before any file lookup. */
  static owns(pathname: string): boolean {
    return pathname === '/' || pathname === '/index.html' || pathname.startsWith('/assets/') || pathname === '/favicon.ico';
  }

  /** Answers the request; false when there is no such file (the caller sends its 404). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    const file = await this.resolve(pathname === '/' ? '/index.html' : pathname);
    if (!file) return false;
    const info = await stat(file);
    const hashed = pathname.startsWith('/assets/');
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(info.size),
      // Vite puts a content hash in every asset name, so assets never change; the page always may.
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      'content-security-policy': uiContentSecurityPolicy(connectOriginOf(req.url)),
      ...SECURITY_HEADERS,
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file);
      stream.on('error', reject);
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res).on('finish', resolve);
    });
    return true;
  }

  private async resolve(pathname: string): Promise<string | undefined> {
    return resolveInside(this.dir, pathname);
  }
}

/**
 * The regular file a URL path names inside `dir` (symlinks resolved), or undefined: for anything
 * outside it, a bad escape, a NUL or a backslash. Shared by the HTTP server and Electron's app://.
 */
export async function resolveInside(dir: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  try {
    const root = await realpath(dir);
    const candidate = await realpath(path.join(root, path.posix.normalize(decoded)));
    if (!candidate.startsWith(root + path.sep)) return undefined;
    return (await stat(candidate)).isFile() ? candidate : undefined;
  } catch {
    return undefined;
  }
}
