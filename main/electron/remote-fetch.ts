/**
 * Requests from the desktop app's main process to a remote `ofa-ve serve` ("Test connection" in
 * remote-connection.ts, the alerts watcher in alert-notifier.ts): one time limit per request, and
 * one way to say the service could not be reached, so both report it in the same words.
 */

/** A failure to show the user as is, with a stable code (the renderer's ApiError). */
export class ConnectionError extends Error {
  constructor(
    readonly code: 'BAD_URL' | 'SERVICE_UNAVAILABLE' | 'NOT_OFA_VE' | 'CORS_NOT_ALLOWED' | 'UNAUTHORIZED',
    message: string,
  ) {
    super(message);
    this.name = 'ConnectionError';
  }
}

/**
 * `init` to `origin` + `path` (path and query), given `timeoutMs` to answer. Any HTTP answer is
 * returned, whatever its status (the caller knows what each means there); no answer at all (refused,
 * no such host, timed out) throws SERVICE_UNAVAILABLE naming the host and why.
 */
export async function fetchRemote(
  origin: string,
  path: string,
  timeoutMs: number,
  init: Omit<RequestInit, 'signal'> = {},
): Promise<Response> {
  try {
    return await fetch(`${origin}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : causeOf(err);
    throw new ConnectionError('SERVICE_UNAVAILABLE', `cannot reach ${new URL(origin).host}: ${why}`);
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
