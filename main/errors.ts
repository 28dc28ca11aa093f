import { INPUT_ERROR_CODES } from '../preload/wire-types.ts';

/**
 * Stable error codes shared by the CLI, the HTTP API and IPC. A client keys on `code`; `message`
 * is for people and never carries a stack trace or a server path it did not send.
 */
export const ERROR_STATUS = {
  INVALID_IMAGE: 400,
  EMPTY_TEXT: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  // No such endpoint, file or request (a trace of an unknown or expired id); never counted as a check.
  NOT_FOUND: 404,
  // A method the route does not serve (sent with an Allow header); never counted as a check.
  METHOD_NOT_ALLOWED: 405,
  // The request body did not arrive in time (a stalled or far too slow upload).
  REQUEST_TIMEOUT: 408,
  // A fleet figure or a Prometheus comparison asked of a service started without --prometheus-url.
  PROMETHEUS_NOT_CONFIGURED: 409,
  PAYLOAD_TOO_LARGE: 413,
  IMAGE_TOO_LARGE: 413,
  TEXT_TOO_LONG: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // nginx's "client closed request": the client hung up before its check ran (never sent: no one is listening).
  CLIENT_CLOSED_REQUEST: 499,
  INTERNAL: 500,
  // The Prometheus of --prometheus-url did not answer, in time or at all, or answered an error.
  PROMETHEUS_UNAVAILABLE: 502,
  MODEL_INVALID: 503,
  NOT_READY: 503,
  OVERLOADED: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Codes that never answer a check (other routes, or a method the check route does not serve). */
const NOT_CHECK_CODES: ReadonlySet<ErrorCode> = new Set([
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PROMETHEUS_NOT_CONFIGURED',
  'PROMETHEUS_UNAVAILABLE',
]);

/** The statuses a check can end with: 200 and every error code's but those that never answer one. */
export const CHECK_STATUS_CODES: readonly number[] = [
  200,
  ...new Set(
    (Object.entries(ERROR_STATUS) as [ErrorCode, number][]).flatMap(([code, status]) => (NOT_CHECK_CODES.has(code) ? [] : [status])),
  ),
].sort((a, b) => a - b);

export class CheckError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CheckError';
    this.code = code;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  get isInputError(): boolean {
    return INPUT_ERROR_CODES.has(this.code);
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Wraps anything thrown into a CheckError without leaking internals to the caller. */
export function toCheckError(err: unknown): CheckError {
  if (err instanceof CheckError) return err;
  return new CheckError('INTERNAL', 'internal error while processing the request', { cause: err });
}
