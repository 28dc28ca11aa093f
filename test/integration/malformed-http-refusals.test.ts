/**
 * Against the real `ofa-ve serve` (its own process, its stdout access log): requests refused for
 * malformed HTTP or text are answered with the JSON error and counted once, under the status their
 * client got, in ofa_ve_request_total, in GET /api/v1/stats and in the access log.
 *
 * - a check whose chunked body Node's HTTP parser refuses (a bad chunk size, a chunk not ended by
 *   CRLF): 400 BAD_REQUEST with the JSON body, never counted or logged as 499 CLIENT_CLOSED_REQUEST;
 * - bytes that are not HTTP, or a malformed request head: the JSON 400, and no check counted; an
 *   oversized head: Node's bare 431, no check counted;
 * - a caption or premise whose bytes are not UTF-8 (multipart or JSON): 400, decided from the bytes
 *   (a U+FFFD typed in a caption is checked);
 * - the caption sent as a file part (`curl -F text=@caption.txt`): 400 saying it must be a plain field.
 * Against the server in this process with a 1 s head timeout: a head that stalls gets 408
 * REQUEST_TIMEOUT (the JSON error) and is no check; garbage pipelined after an answered request gets
 * the JSON 400 after that answer.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { bodyLimitsFor } from '../../main/server/check-body-parser.ts';
import { OfaVeHttpServer } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import { multipartBody, multipartType, type FormPart } from '../support/multipart-body.ts';
import { parseRawResponse, rawRequest, type RawResponse } from '../support/raw-http.ts';
import { requestTotals } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

interface ErrorBody {
  error: { code: string; message: string };
}

const photo = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 60, b: 40 } } })
  .jpeg()
  .toBuffer();
const image: FormPart = { name: 'image', filename: 'ok.jpg', contentType: 'image/jpeg', data: photo };

describe('ofa-ve serve: malformed HTTP and text refused, answered with the JSON error and counted as the client saw it', () => {
  let serve: ServeProcess;
  let port: number;
  /** The checks sent so far, per status the client got. */
  const sent: Record<string, number> = {};
  const expectCounted = (status: number, n = 1) => {
    sent[status] = (sent[status] ?? 0) + n;
  };

  before(async () => {
    serve = await startServe([]);
    port = Number(new URL(serve.url).port);
  });
  after(async () => serve?.stop());

  const raw = (request: string | Buffer): Promise<RawResponse> => rawRequest(port, request, { timeoutMs: 10_000 });
  const chunkedCheck = (contentType: string) =>
    `POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\n\r\n`;

  async function metricsByStatus(): Promise<Record<string, number>> {
    const { series } = requestTotals(await (await fetch(`${serve.url}/metrics`)).text());
    const out: Record<string, number> = {};
    for (const [labels, value] of series) {
      const status = /status_code="(\d+)"/.exec(labels)?.[1] ?? '?';
      if (value > 0) out[status] = (out[status] ?? 0) + value;
    }
    return out;
  }

  /** GET /api/v1/stats's totals, once they count `total` checks (the runtime reuses a stats document for 500 ms). */
  async function statsTotals(total: number): Promise<{ requests: number; by_status: Record<string, number> }> {
    for (let i = 0; ; i++) {
      const doc = (await (await fetch(`${serve.url}/api/v1/stats?window=900`)).json()) as {
        totals: { requests: number; by_status: Record<string, number> };
      };
      if (doc.totals.requests === total || i === 40) return doc.totals;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The access log's check lines (`"msg":"check"`), once there are `n` of them (the child writes them a moment later). */
  async function checkLogLines(n: number): Promise<{ status: number; code?: string }[]> {
    const read = () =>
      serve.logs.filter((line) => line.includes('"msg":"check"')).map((line) => JSON.parse(line) as { status: number; code?: string });
    for (let i = 0; i < 100 && read().length < n; i++) await new Promise((r) => setTimeout(r, 50));
    return read();
  }

  async function assertCountedAsSent(): Promise<void> {
    assert.deepEqual(await metricsByStatus(), sent, 'ofa_ve_request_total, per status');
    const total = Object.values(sent).reduce((a, b) => a + b, 0);
    const stats = await statsTotals(total);
    assert.equal(stats.requests, total, 'GET /api/v1/stats, in all');
    assert.deepEqual(stats.by_status, sent, 'GET /api/v1/stats, per status');
    const lines = await checkLogLines(total);
    assert.equal(lines.length, total, 'one access log line per check');
    const logged: Record<string, number> = {};
    for (const line of lines) logged[line.status] = (logged[line.status] ?? 0) + 1;
    assert.deepEqual(logged, sent, 'the access log, per status');
  }

  const assertJsonError = (answer: RawResponse, status: number, code: string, message: RegExp) => {
    assert.equal(answer.status, status, answer.body);
    assert.ok(answer.fromApp, `a JSON error body, not Node's bare answer: ${JSON.stringify(answer.body)}`);
    assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
    const { error } = JSON.parse(answer.body) as ErrorBody;
    assert.equal(error.code, code);
    assert.match(error.message, message);
  };

  it('a check whose chunked body is malformed: 400 BAD_REQUEST with the JSON error, counted and logged 400, not 499', async () => {
    const bodies: [string, string][] = [
      [chunkedCheck('application/json'), 'zz\r\nabc\r\n0\r\n\r\n'],
      [chunkedCheck(multipartType()), 'zz\r\nabc\r\n0\r\n\r\n'],
      [chunkedCheck('application/json'), '3\r\n{"iXX0\r\n\r\n'],
      [chunkedCheck(multipartType()), '5\r\n-----XX0\r\n\r\n'],
    ];
    for (const [head, body] of bodies) {
      const answer = await raw(head + body);
      assertJsonError(answer, 400, 'BAD_REQUEST', /^malformed HTTP\/1\.1 request body: /);
      assert.equal(answer.headers.connection, 'close');
      expectCounted(400);
    }
    await assertCountedAsSent();
    const lines = await checkLogLines(4);
    assert.ok(
      lines.every((line) => line.code === 'BAD_REQUEST'),
      `logged as BAD_REQUEST, never CLIENT_CLOSED_REQUEST: ${JSON.stringify(lines)}`,
    );
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
  });

  it('bytes that are not HTTP, or a malformed head: the JSON 400, no check counted; an oversized head: a bare 431', async () => {
    assertJsonError(await raw('GARBAGE\r\n\r\n'), 400, 'BAD_REQUEST', /^malformed HTTP\/1\.1 request: /);
    assertJsonError(await raw('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'), 400, 'BAD_REQUEST', /^malformed HTTP\/1\.1 request: /);
    const badHeader = `POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nBad Header: x\r\nContent-Length: 0\r\n\r\n`;
    assertJsonError(await raw(badHeader), 400, 'BAD_REQUEST', /^malformed HTTP\/1\.1 request: /);
    const oversized = await raw(`POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.equal(oversized.status, 431);
    assert.equal(oversized.body, '');
    await assertCountedAsSent();
  });

  /** A check of multipart `parts` sent with fetch: its status and body. */
  async function postForm(parts: FormPart[]): Promise<{ status: number; body: string }> {
    const res = await fetch(`${serve.url}/api/v1/check`, {
      method: 'POST',
      headers: { 'content-type': multipartType() },
      body: new Uint8Array(multipartBody(parts)),
    });
    return { status: res.status, body: await res.text() };
  }

  const assertRefused = (answer: { status: number; body: string }, message: RegExp) => {
    assert.equal(answer.status, 400, answer.body);
    const { error } = JSON.parse(answer.body) as ErrorBody;
    assert.equal(error.code, 'BAD_REQUEST');
    assert.match(error.message, message);
  };

  it('a caption or premise whose bytes are not UTF-8: 400, decided from the bytes (a typed U+FFFD is checked)', async () => {
    const notUtf8 = Buffer.from([0xff, 0xfe, 0xfd]);
    assertRefused(await postForm([image, { name: 'text', data: notUtf8 }]), /^the caption \(text\) is not valid UTF-8$/);
    assertRefused(
      await postForm([image, { name: 'text', data: 'a dog' }, { name: 'premise', data: notUtf8 }]),
      /^the premise is not valid UTF-8$/,
    );
    const json = Buffer.concat([Buffer.from(`{"image":"${photo.toString('base64')}","text":"a `), notUtf8, Buffer.from(' dog"}')]);
    const res = await fetch(`${serve.url}/api/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
    assertRefused({ status: res.status, body: await res.text() }, /^the JSON body is not valid UTF-8$/);
    expectCounted(400, 3);

    const typed = await postForm([image, { name: 'text', data: 'a red square \ufffd' }]);
    assert.equal(typed.status, 200, typed.body);
    expectCounted(200);
    await assertCountedAsSent();
  });

  it('the caption sent as a file part (curl -F text=@caption.txt): 400 saying it must be a plain field; another file is named', async () => {
    const asFile: FormPart = { name: 'text', filename: 'caption.txt', contentType: 'text/plain', data: 'a red square\n' };
    assertRefused(await postForm([image, asFile]), /^the caption \(text\) must be a plain form field, not a file/);
    assertRefused(await postForm([asFile, image]), /^the caption \(text\) must be a plain form field, not a file/);
    const thumbnail: FormPart = { name: 'thumbnail', filename: 't.jpg', contentType: 'image/jpeg', data: photo };
    assertRefused(await postForm([image, { name: 'text', data: 'a dog' }, thumbnail]), /"thumbnail"/);
    expectCounted(400, 3);
    await assertCountedAsSent();
  });
});

describe('the server in this process: a stalled head, and garbage pipelined after an answered request', () => {
  let runtime: ServiceRuntime;
  let server: OfaVeHttpServer;
  let port: number;

  before(async () => {
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger });
    server = new OfaVeHttpServer(runtime, {
      logger: silentLogger,
      bodyLimits: bodyLimitsFor(runtime.limits),
      timeouts: { headersMs: 1000, bodyMs: 1000 },
    });
    ({ port } = await server.listen(0, '127.0.0.1'));
    await runtime.start();
  });
  after(async () => {
    await server?.close(1000);
    await runtime?.close(2000);
  });

  const checksCounted = async () => requestTotals(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).total;

  /** Everything the server sends after `request` until it closes the connection. */
  async function exchange(request: string): Promise<string> {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(request);
    const closed = once(socket, 'close');
    const timer = setTimeout(() => socket.destroy(), 10_000);
    await closed;
    clearTimeout(timer);
    return Buffer.concat(chunks).toString('latin1');
  }

  it('a request head that stalls: 408 REQUEST_TIMEOUT with the JSON error, not counted as a check', { timeout: 20_000 }, async () => {
    const answer = parseRawResponse(Buffer.from(await exchange(`POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`), 'latin1'));
    assert.equal(answer.status, 408, answer.body);
    assert.equal((JSON.parse(answer.body) as ErrorBody).error.code, 'REQUEST_TIMEOUT');
    assert.equal(await checksCounted(), 0);
  });

  it('garbage pipelined after an answered request: that answer first, then the JSON 400', async () => {
    const text = await exchange(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nGARBAGE\r\n\r\n`);
    const second = text.indexOf('HTTP/1.1 400');
    assert.ok(text.startsWith('HTTP/1.1 200'), text.slice(0, 100));
    assert.ok(second > 0, `a 400 after the 200: ${JSON.stringify(text)}`);
    const answer = parseRawResponse(Buffer.from(text.slice(second), 'latin1'));
    assert.equal((JSON.parse(answer.body) as ErrorBody).error.code, 'BAD_REQUEST');
    assert.equal(await checksCounted(), 0);
  });
});
