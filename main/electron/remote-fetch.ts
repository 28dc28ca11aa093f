/**
 * Requests from the desktop app's main process to a remote `ofa-ve serve` ("Test connection" in
 * remote-connection.ts, the alerts watcher in alert-notifier.ts): one time limit per request, and
 * one way to say the service could not be reached, so both report it in the same words.
 */
import { CONNECTION_ERROR_CODES, type ConnectionErrorCode } from '../../preload/wire-types.ts';

/** A failure to show the user as is, with a stable code (the renderer's ApiError). */
export class ConnectionError extends Error {
  constructor(
    readonly code: ConnectionErrorCode | 'UNAUTHORIZED',
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/**
 * The most a JSON answer of a remote is read to: ofa-ve serve's documents are a few KiB (a stats
 * document with every stage and alert well under 1 MiB), so more is not the service.
 */
export const MAX_REMOTE_JSON_BYTES = 4 * 1024 * 1024;

/**
 * `init` to `origin` + `path` (path and query), given `timeoutMs` to answer. Any HTTP answer is
 * returned, whatever its status (the caller knows what each means there), except a redirect: it is
 * not followed (it would test, and send the token to, another service than the one the user named)
 * and throws NOT_OFA_VE naming where it points. No answer at all (refused, no such host, timed
 * out) throws SERVICE_UNAVAILABLE naming the host and why.
 */
export async function fetchRemote(
  origin: string,
  path: string,
  timeoutMs: number,
  init: Omit<RequestInit, 'signal' | 'redirect'> = {},
): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(`${origin}${path}`, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : causeOf(err);
    throw new ConnectionError(CONNECTION_ERROR_CODES.SERVICE_UNAVAILABLE, `cannot reach ${new URL(origin).host}: ${why}`);
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    const location = res.headers.get('location');
    const target = location ? targetOf(location, `${origin}${path}`) : undefined;
    throw new ConnectionError(
      CONNECTION_ERROR_CODES.NOT_OFA_VE,
      target
        ? `${new URL(origin).host} redirects to ${target}: connect to that address`
        : `${new URL(origin).host} answered ${path} with a redirect (${res.status}) and no address: is this the right address?`,
    );
  }
  return res;
}

/** Where a Location header points, as an origin to connect to (a relative one resolved against the request). */
function targetOf(location: string, requestUrl: string): string | undefined {
  try {
    return new URL(location, requestUrl).origin;
  } catch {
    return undefined;
  }
}

/**
 * A remote's answer as JSON, read to at most `maxBytes` (RESPONSE_TOO_LARGE past it, announced or
 * not, without reading the rest); undefined when it is not JSON or the connection dropped mid-answer
 * (the caller says what it expected instead).
 */
export async function readRemoteJson(res: Response, host: string, maxBytes = MAX_REMOTE_JSON_BYTES): Promise<unknown> {
  const tooLarge = () =>
    new ConnectionError(
      CONNECTION_ERROR_CODES.RESPONSE_TOO_LARGE,
      `${host} answered with more than ${maxBytes / (1024 * 1024)} MiB, far more than ofa-ve serve sends: is this the right address?`,
    );
  const announced = Number(res.headers.get('content-length'));
  if (Number.isFinite(announced) && announced > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return undefined;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ConnectionError) throw err;
    return undefined;
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** fetch's own message is "fetch failed": the cause says what happened (ECONNREFUSED, ENOTFOUND). */
function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause as { code?: string; message?: string } | undefined;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}
