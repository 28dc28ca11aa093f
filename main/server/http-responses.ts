import type { ServerResponse } from 'node:http';
import { CheckError } from '../errors.ts';
import { RETRY_AFTER_SECONDS } from '../service/check-service.ts';

/** A JSON answer; never cached (every route's answer is live). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  // HEAD: the same status and headers as GET, without the body (Node drops it, but say so plainly).
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}

/** `{"error":{"code","message"}}` with the status of its code and the headers that code promises. */
export function sendError(res: ServerResponse, error: CheckError, headers: Record<string, string> = {}): void {
  const extra: Record<string, string> = { ...headers };
  if (error.code === 'OVERLOADED' || error.code === 'NOT_READY') extra['retry-after'] = String(RETRY_AFTER_SECONDS);
  if (error.code === 'UNAUTHORIZED') extra['www-authenticate'] = 'Bearer';
  // The connection is in an unknown state after a body that never arrived in full.
  if (error.code === 'REQUEST_TIMEOUT') extra.connection = 'close';
  sendJson(res, error.status, { error: error.toJSON() }, extra);
}

/** 405 with the methods the route serves (RFC 9110 §15.5.6). */
export function sendMethodNotAllowed(res: ServerResponse, method: string | undefined, path: string, allow: readonly string[]): void {
  sendError(
    res,
    new CheckError('METHOD_NOT_ALLOWED', `${method ?? 'this method'} is not supported on ${path}; use ${allow.join(' or ')}`),
    {
      allow: allow.join(', '),
    },
  );
}

/**
 * A complete HTTP/1.1 answer as bytes, for a socket refused before any request was parsed on it
 * (too many connections): the same JSON error body, then the connection closes.
 */
export function rawErrorResponse(error: CheckError, reason: string): Buffer {
  const body = JSON.stringify({ error: error.toJSON() });
  const retry = error.code === 'OVERLOADED' ? `Retry-After: ${RETRY_AFTER_SECONDS}\r\n` : '';
  return Buffer.from(
    `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\n${retry}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
