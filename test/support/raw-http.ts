/**
 * Raw HTTP/1.1 over a TCP socket: for requests no HTTP client will send (a request target that is
 * not a URL, malformed header lines, a body cut off mid-way). The request should carry
 * `Connection: close` so the server ends the exchange by closing the socket.
 */
import net from 'node:net';

export interface RawResponse {
  /** 0 when the server closed the connection without a status line. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The response has a JSON `{"error":{…}}` body: the app's router answered, not Node's HTTP parser. */
  fromApp: boolean;
}

export function parseRawResponse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let payload = end < 0 ? '' : text.slice(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) payload = dechunk(payload);
  const body = Buffer.from(payload, 'latin1').toString('utf8');
  return { status, headers, body, fromApp: /^\{"error":\{"code":"[A-Z_]+"/.test(body) };
}

/** Joins the chunks of a `Transfer-Encoding: chunked` payload (latin1 in, latin1 out). */
function dechunk(payload: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = payload.indexOf('\r\n', at);
    if (lineEnd < 0) return out;
    const size = Number.parseInt(payload.slice(at, lineEnd), 16);
    if (!Number.isFinite(size) || size <= 0) return out;
    out += payload.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Writes `request` to host:port and collects everything until the server closes the socket.
 * Rejects when nothing closes it within `timeoutMs` (a hang). With `abortAfterWrite`, the client
 * destroys its socket right after writing (a client that goes away mid-request) and resolves with
 * status 0. `localAddress` sends it from another loopback address (127.0.0.2: another client).
 */
export function rawRequest(
  port: number,
  request: Uint8Array | string,
  options: { host?: string; timeoutMs?: number; abortAfterWrite?: boolean; localAddress?: string } = {},
): Promise<RawResponse> {
  const { host = '127.0.0.1', timeoutMs = 10_000, abortAfterWrite = false, localAddress } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host, localAddress });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A reset after the server's answer (it closed while we were still writing) still counts as an answer.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks)));
    });
    socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request, () => {
      if (abortAfterWrite) socket.destroy();
    });
  });
}
