/**
 * Hostile and clumsy HTTP clients: each class of abuse bounded, answered and counted truthfully.
 *
 * Against the real `ofa-ve serve` (a separate process; its resident memory read from /proc):
 * - 400 server-sent event clients that never read (paused sockets, a 900 s window so every tick is
 *   large, ~160 KiB) for 50 s: serve's RSS stays bounded, /healthz answers throughout, and every
 *   stalled stream is cut off once the kernel's buffers are full and the stall limit has passed;
 * - 128 concurrent uploads of the maximum size (20 MiB): each answered 200 or 503 OVERLOADED with
 *   Retry-After (the upload byte budget), /healthz answered throughout, the counts exact;
 * - a flood of idle and half-sent connections, past the connection cap, under a descriptor limit of
 *   256: serve keeps running and /healthz and /metrics still get in.
 * Against the server in this process with small limits (the worker is still its own process):
 * - connection caps: the connection idle longest makes room; when every one is busy, a newcomer
 *   gets a 503 OVERLOADED with Retry-After; one client address cannot take another's room;
 * - the upload byte budget: an upload that does not fit is refused (503 + Retry-After) before its
 *   body is read, and counted; bytes are released when the answer is sent or the client is gone,
 *   also for checks pipelined behind another on a connection that dies;
 * - a check body that stalls: 408 REQUEST_TIMEOUT on the wire and in ofa_ve_request_total;
 * - HEAD on every route; 405 with Allow for every method a route does not serve (never a check);
 *   `window` in plain digits only; no absolute server path in /readyz or /api/v1/model.
 *
 * The figures (RSS, /healthz latency) are diagnostics, not assertions: two busy cores make timing
 * bounds flaky. What is asserted is correctness: answers, counts, the process alive.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { OfaVeHttpServer, type HttpServerOptions } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import { multipartBody, multipartType } from '../support/multipart-body.ts';
import { HAS_PROC, mib, peakRssBytes, rssBytes } from '../../bench/support/proc-stats.ts';
import { parseRawResponse, rawRequest } from '../support/raw-http.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { requestTotals } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../support/shared-reference.ts';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

async function statusTotals(url: string, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const { series } = requestTotals(await (await fetch(`${url}/metrics`, { headers, signal: AbortSignal.timeout(10_000) })).text());
  const out: Record<string, number> = {};
  for (const [labels, value] of series) {
    const status = /status_code="(\d+)"/.exec(labels)?.[1] ?? '?';
    if (value > 0) out[status] = (out[status] ?? 0) + value;
  }
  return out;
}

/** A TCP connection from `localAddress` (any 127.x.y.z is loopback on Linux: another "client"). */
async function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Everything the server sends on `socket` until it closes it (or `timeoutMs`). */
function readUntilClosed(socket: net.Socket, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.resume();
  });
}

/** Reads (and drops) what the server sent until it closes the connection: false if it does not in `timeoutMs`. */
function drainUntilClosed(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.on('data', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

async function healthzMs(url: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(30_000) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return performance.now() - t0;
}

// ---- the real ofa-ve serve ----------------------------------------------------------------------

describe(
  'ofa-ve serve against clients that never read, and a flood of maximum-size uploads',
  { skip: !HAS_PROC && 'reads RSS from /proc' },
  () => {
    let server: ServeProcess;
    before(async () => {
      server = await startServe([]);
    });
    after(async () => server?.stop());

    it(
      '400 event-stream clients that never read: RSS bounded, /healthz answers, every stalled stream cut off',
      { timeout: 180_000 },
      async (t) => {
        const CLIENTS = 400;
        // The kernel takes ~4 MiB per connection first (tcp_wmem's maximum: ~25 ticks of 160 KiB);
        // then the server's own buffers would grow, and the 15 s stall limit cuts the stream off.
        const HOLD_MS = 50_000;
        const port = Number(new URL(server.url).port);
        const pid = server.child.pid!;
        for (let i = 0; i < 3; i++) await healthzMs(server.url);
        const rssBefore = rssBytes(pid)!;
        const sockets: net.Socket[] = [];
        for (let i = 0; i < CLIENTS; i++) {
          const socket = await connect(port);
          // Never read: the kernel's buffers fill, then the server's.
          socket.pause();
          socket.write(`GET /api/v1/events?window=900 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
          sockets.push(socket);
        }
        let peak = rssBefore;
        const health: number[] = [];
        const until = performance.now() + HOLD_MS;
        while (performance.now() < until) {
          health.push(await healthzMs(server.url));
          peak = Math.max(peak, rssBytes(pid) ?? 0);
          await sleep(250);
        }
        const tick = (await (await fetch(`${server.url}/api/v1/stats?window=900`)).arrayBuffer()).byteLength;
        // Now read: each client gets what was sent before the server cut it off, then the end.
        const ended = await Promise.all(sockets.map((s) => drainUntilClosed(s, 60_000)));
        const cut = ended.filter(Boolean).length;
        t.diagnostic(
          `${CLIENTS} non-reading SSE clients for ${HOLD_MS / 1000} s (a tick is ${(tick / 1024).toFixed(0)} KiB): serve RSS ${mib(rssBefore)} before, ` +
            `peak ${mib(peak)} (+${mib(peak - rssBefore)}); /healthz p50 ${quantile(health, 0.5).toFixed(1)} ms, ` +
            `p99 ${quantile(health, 0.99).toFixed(1)} ms; streams cut off: ${cut}/${CLIENTS}`,
        );
        assert.equal(server.child.exitCode, null, 'serve is still running');
        assert.equal(cut, CLIENTS, 'every stalled stream was cut off');
        // Without backpressure, 400 clients × ~25 ticks × 160 KiB (1.5 GiB) would pile up in the heap.
        assert.ok(peak - rssBefore < 128 * MiB, `RSS grew by ${mib(peak - rssBefore)}`);
      },
    );

    it(
      '128 concurrent 20 MiB uploads: each 200 or 503 OVERLOADED with Retry-After, /healthz answers, counts exact',
      { timeout: 300_000 },
      async (t) => {
        const UPLOADS = 128;
        const url = new URL(server.url);
        const pid = server.child.pid!;
        const before = await statusTotals(server.url);
        const photo = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 30, g: 140, b: 200 } } })
          .png()
          .toBuffer();
        // One body for every upload (the client holds 20 MiB, not 2.5 GiB): a PNG padded after IEND.
        const image = Buffer.concat([photo, Buffer.alloc(20 * MiB - photo.length)]);
        const body = multipartBody([
          { name: 'image', filename: 'big.png', contentType: 'image/png', data: image },
          { name: 'text', data: 'a blue picture' },
        ]);
        const rssBefore = rssBytes(pid)!;
        const agent = new http.Agent({ keepAlive: false, maxSockets: UPLOADS });
        const started = performance.now();
        const uploads = Array.from(
          { length: UPLOADS },
          () =>
            new Promise<{ status: number; code?: string; retryAfter?: string; error?: string }>((resolve) => {
              const req = http.request(
                {
                  host: url.hostname,
                  port: url.port,
                  method: 'POST',
                  path: '/api/v1/check',
                  agent,
                  headers: { 'content-type': multipartType(), 'content-length': String(body.length) },
                },
                (res) => {
                  const chunks: Buffer[] = [];
                  res.on('data', (c: Buffer) => chunks.push(c));
                  res.on('end', () => {
                    const text = Buffer.concat(chunks).toString('utf8');
                    let code: string | undefined;
                    try {
                      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
                    } catch {
                      code = `not JSON: ${text.slice(0, 80)}`;
                    }
                    resolve({ status: res.statusCode ?? 0, code, retryAfter: res.headers['retry-after'] });
                  });
                },
              );
              req.setTimeout(240_000, () => req.destroy(new Error('no answer in 240 s')));
              req.on('error', (err) => resolve({ status: 0, error: err.message }));
              req.end(body);
            }),
        );
        let done = false;
        const all = Promise.all(uploads).finally(() => {
          done = true;
        });
        const health: number[] = [];
        let peak = rssBefore;
        while (!done) {
          health.push(await healthzMs(server.url));
          peak = Math.max(peak, rssBytes(pid) ?? 0);
          await sleep(50);
        }
        const outcomes = await all;
        agent.destroy();
        const seconds = (performance.now() - started) / 1000;
        const byStatus: Record<string, number> = {};
        for (const o of outcomes) byStatus[String(o.status)] = (byStatus[String(o.status)] ?? 0) + 1;
        t.diagnostic(
          `${UPLOADS} concurrent 20 MiB uploads in ${seconds.toFixed(1)} s: ${JSON.stringify(byStatus)}; /healthz (${health.length} probes) ` +
            `p50 ${quantile(health, 0.5).toFixed(1)} ms, p99 ${quantile(health, 0.99).toFixed(1)} ms, max ${Math.max(...health).toFixed(1)} ms; ` +
            `serve RSS ${mib(rssBefore)} before, peak ${mib(peak)} (VmHWM ${mib(peakRssBytes(pid))})`,
        );
        for (const o of outcomes) {
          if (o.status === 200) continue;
          assert.equal(o.status, 503, `only 200 and 503: ${JSON.stringify(o)}`);
          assert.equal(o.code, 'OVERLOADED');
          assert.match(o.retryAfter ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
        }
        assert.ok((byStatus['200'] ?? 0) > 0, 'some uploads were checked');
        assert.ok(health.length > 0, '/healthz answered during the uploads');
        assert.equal(server.child.exitCode, null, 'serve is still running');
        const after = await statusTotals(server.url);
        const moved: Record<string, number> = {};
        for (const [status, n] of Object.entries(after)) if (n !== (before[status] ?? 0)) moved[status] = n - (before[status] ?? 0);
        assert.deepEqual(moved, byStatus, 'ofa_ve_request_total moved by exactly what the clients saw');
      },
    );
  },
);

/** `ofa-ve serve` under a descriptor limit (ulimit -n), resolved once it says its URL. */
async function serveWithFileLimit(limit: number): Promise<{ child: ChildProcess; url: string; logs: string[] }> {
  const bin = path.join(REPO_ROOT, 'bin/ofa-ve.js');
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$0" "$1" serve --port 0`, process.execPath, bin], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stderr!.on('data', (c: Buffer) => logs.push(String(c)));
  const url = await new Promise<string>((resolve, reject) => {
    let found: string | undefined;
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${logs.join('')}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      logs.push(String(c));
      found ??= /"url":"([^"]+)"/.exec(String(c))?.[1];
      if (found && /"msg":"model (not )?loaded"/.test(logs.join(''))) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${logs.join('')}`)));
  });
  return { child, url, logs };
}

describe('ofa-ve serve under a flood of idle connections (ulimit -n 256)', () => {
  let child: ChildProcess | undefined;
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('600 idle and half-sent connections: serve keeps running, /healthz and /metrics still get in', { timeout: 90_000 }, async (t) => {
    const serve = await serveWithFileLimit(256);
    child = serve.child;
    const port = Number(new URL(serve.url).port);
    const flood: net.Socket[] = [];
    const failed: string[] = [];
    for (let i = 0; i < 600; i++) {
      try {
        const socket = await connect(port);
        // Every other one a slowloris: half a request head, never finished.
        if (i % 2) socket.write(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
        flood.push(socket);
      } catch (err) {
        failed.push(String(err));
      }
    }
    const healthz = await fetch(`${serve.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(healthz.status, 200);
    const metrics = await fetch(`${serve.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^ofa_ve_build_info/m);
    await sleep(200);
    const open = flood.filter((s) => !s.destroyed && s.readyState === 'open').length;
    t.diagnostic(`flood of 600: ${failed.length} connects failed, ${open} still open at the end (the rest closed to make room)`);
    assert.equal(child.exitCode, null, 'serve is still running (no EMFILE crash)');
    for (const s of flood) s.destroy();
  });
});

// ---- the server in this process, with small limits ----------------------------------------------

interface Local {
  runtime: ServiceRuntime;
  server: OfaVeHttpServer;
  url: string;
  port: number;
  close(): Promise<void>;
}

async function startLocal(options: Partial<HttpServerOptions> = {}, modelDir = DEMO_MODEL_DIR): Promise<Local> {
  const runtime = new ServiceRuntime({ modelDir, provider: 'cpu', logger: silentLogger });
  const server = new OfaVeHttpServer(runtime, {
    logger: silentLogger,
    bodyLimits: { maxBodyBytes: 4 * MiB, maxImageBytes: 2 * MiB, maxFieldBytes: 16 * 1024 },
    ...options,
  });
  const { port } = await server.listen(0, '127.0.0.1');
  await runtime.start();
  return {
    runtime,
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await server.close(1000);
      await runtime.close(2000);
    },
  };
}

describe('connection caps: idle connections make room, busy ones are not evicted, one client cannot take all', () => {
  let h: Local;
  before(async () => {
    h = await startLocal({ connections: { maxConnections: 12, maxConnectionsPerClient: 6 } });
  });
  after(async () => h?.close());

  it(
    'evicts the connection idle longest; refuses a newcomer with 503 when all are busy; other clients still get in',
    { timeout: 30_000 },
    async () => {
      // Client 127.0.0.2: six idle connections (three of them half-way through a request head).
      const idle: net.Socket[] = [];
      for (let i = 0; i < 6; i++) {
        const s = await connect(h.port, '127.0.0.2');
        if (i % 2) s.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\n`);
        idle.push(s);
        await sleep(20);
      }
      await sleep(100);
      const oldestClosed = once(idle[0] as net.Socket, 'close');
      // A seventh from the same client: the oldest idle one makes room, and the newcomer is served.
      const seventh = await rawRequest(h.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nConnection: close\r\n\r\n`, {
        localAddress: '127.0.0.2',
      });
      assert.equal(seventh.status, 200);
      await oldestClosed;
      assert.ok(
        idle.slice(1).every((s) => !s.destroyed),
        'only the oldest idle connection was closed',
      );

      // Client 127.0.0.3: six busy connections (event streams), then a seventh: refused, 503 + Retry-After.
      const busy: net.Socket[] = [];
      for (let i = 0; i < 6; i++) {
        const s = await connect(h.port, '127.0.0.3');
        s.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\n\r\n`);
        await once(s, 'data');
        busy.push(s);
      }
      const refused = await rawRequest(h.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nConnection: close\r\n\r\n`, {
        localAddress: '127.0.0.3',
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'OVERLOADED');
      assert.ok(
        busy.every((s) => !s.destroyed),
        'busy connections are never evicted',
      );

      // 12 open in all (5 idle + 6 busy + 1): a connection from 127.0.0.1 takes the place of the
      // connection idle longest, whoever's it is.
      const another = await connect(h.port, '127.0.0.4');
      await sleep(50);
      assert.equal(h.server.connections.open, 12);
      const nextOldestClosed = once(idle[1] as net.Socket, 'close');
      const ours = await rawRequest(h.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nConnection: close\r\n\r\n`);
      assert.equal(ours.status, 200);
      await nextOldestClosed;
      assert.deepEqual(h.server.connections.counts.evicted, 2);
      assert.ok(
        busy.every((s) => !s.destroyed),
        'busy connections are never evicted',
      );
      for (const s of [...idle, ...busy, another]) s.destroy();
    },
  );
});

describe('the upload byte budget', () => {
  let h: Local;
  let body: Buffer;
  before(async () => {
    h = await startLocal({ uploadBudgetBytes: 1 * MiB });
    const photo = await sharp({ create: { width: 48, height: 32, channels: 3, background: '#246' } })
      .png()
      .toBuffer();
    // 600 KiB: one fits in the 1 MiB budget, two do not.
    body = multipartBody([
      { name: 'image', filename: 'p.png', contentType: 'image/png', data: Buffer.concat([photo, Buffer.alloc(600 * 1024)]) },
      { name: 'text', data: 'a blue picture' },
    ]);
  });
  after(async () => h?.close());

  const head = (port: number, length: number, extra = '') =>
    `POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: ${multipartType()}\r\nContent-Length: ${length}\r\n${extra}\r\n`;

  it(
    'refuses an upload that does not fit with 503 OVERLOADED + Retry-After, before reading it; counts it',
    { timeout: 30_000 },
    async () => {
      const first = await connect(h.port);
      first.write(head(h.port, body.length, 'Connection: close\r\n'));
      first.write(body.subarray(0, 1000)); // half-way: its bytes stay reserved
      await sleep(200);
      assert.equal(h.server.uploads.counts.reserved, body.length);
      const second = await rawRequest(h.port, Buffer.concat([Buffer.from(head(h.port, body.length, 'Connection: close\r\n')), body]));
      assert.equal(second.status, 503);
      assert.equal(second.headers['retry-after'], '1');
      assert.equal((JSON.parse(second.body) as { error: { code: string } }).error.code, 'OVERLOADED');
      const firstAnswer = readUntilClosed(first);
      first.write(body.subarray(1000));
      assert.equal(parseRawResponse(await firstAnswer).status, 200);
      await sleep(50);
      assert.equal(h.server.uploads.counts.reserved, 0, 'released once answered');
      assert.deepEqual(await statusTotals(h.url), { 200: 1, 503: 1 });
    },
  );

  it(
    'holds the bytes of a chunked upload as they arrive, not the body limit, and refuses it mid-body when they no longer fit',
    { timeout: 30_000 },
    async () => {
      const before = await statusTotals(h.url);
      const chunk = (data: Buffer) => Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
      const chunkedHead = `POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nContent-Type: ${multipartType()}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
      const chunked = await connect(h.port);
      chunked.write(chunkedHead);
      chunked.write(chunk(body.subarray(0, 1000)));
      await sleep(200);
      const held = h.server.uploads.counts.reserved;
      assert.ok(held >= 1000 && held <= 64 * 1024, `a chunked body holds a first read's worth, not its limit (${held} bytes)`);
      // Room for a 600 KiB upload beside it (the whole body limit, reserved up front, left none).
      const beside = await rawRequest(h.port, Buffer.concat([Buffer.from(head(h.port, body.length, 'Connection: close\r\n')), body]));
      assert.equal(beside.status, 200, beside.body);
      // Another 600 KiB upload half-way holds its bytes; the chunked body's next 600 KiB no longer fit.
      const waiting = await connect(h.port);
      waiting.write(head(h.port, body.length, 'Connection: close\r\n'));
      waiting.write(body.subarray(0, 1000));
      await sleep(200);
      const refusedAnswer = readUntilClosed(chunked);
      chunked.write(Buffer.concat([chunk(body.subarray(1000)), Buffer.from('0\r\n\r\n')]));
      const refused = parseRawResponse(await refusedAnswer);
      assert.equal(refused.status, 503, refused.body);
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal((JSON.parse(refused.body) as { error: { code: string } }).error.code, 'OVERLOADED');
      const waitingAnswer = readUntilClosed(waiting);
      waiting.write(body.subarray(1000));
      assert.equal(parseRawResponse(await waitingAnswer).status, 200);
      for (let i = 0; i < 100 && h.server.uploads.counts.reserved !== 0; i++) await sleep(50);
      assert.equal(h.server.uploads.counts.reserved, 0, 'all released once answered');
      assert.deepEqual(await statusTotals(h.url), { ...before, 200: (before['200'] ?? 0) + 2, 503: (before['503'] ?? 0) + 1 });
    },
  );

  it(
    'releases the bytes of a client that hangs up, also of a check answered behind another on a connection that dies',
    { timeout: 30_000 },
    async () => {
      const before = await statusTotals(h.url);
      // Hangs up mid-body.
      const gone = await connect(h.port);
      gone.write(head(h.port, body.length));
      gone.write(body.subarray(0, 5000));
      await sleep(200);
      assert.equal(h.server.uploads.counts.reserved, body.length);
      gone.destroy();
      // A check pipelined behind an event stream: it runs and is answered, but its answer waits
      // behind the stream's for ever; then the connection goes.
      const piped = await connect(h.port);
      piped.write(`GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\n\r\n`);
      piped.write(Buffer.concat([Buffer.from(head(h.port, body.length)), body]));
      for (let i = 0; i < 100 && (await statusTotals(h.url))['200'] === before['200']; i++) await sleep(50);
      piped.destroy();
      for (let i = 0; i < 100 && h.server.uploads.counts.reserved !== 0; i++) await sleep(50);
      assert.equal(h.server.uploads.counts.reserved, 0, 'nothing stays reserved for a connection that is gone');
      // The full budget is there again: a 600 KiB upload goes through.
      const again = await rawRequest(h.port, Buffer.concat([Buffer.from(head(h.port, body.length, 'Connection: close\r\n')), body]));
      assert.equal(again.status, 200, again.body);
      // Each check counted once: the hang-up as 499, the pipelined one and the last as 200.
      const after = await statusTotals(h.url);
      assert.deepEqual(after, { ...before, 200: (before['200'] ?? 0) + 2, 499: (before['499'] ?? 0) + 1 });
    },
  );
});

describe('a check body that stalls', () => {
  let h: Local;
  before(async () => {
    h = await startLocal({ timeouts: { bodyMs: 1000 } });
  });
  after(async () => h?.close());

  it('is answered 408 REQUEST_TIMEOUT and counted 408, with Content-Length or chunked', { timeout: 30_000 }, async () => {
    const head = (framing: string) =>
      `POST /api/v1/check HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nContent-Type: application/json\r\n${framing}\r\n`;
    for (const request of [`${head('Content-Length: 1000\r\n')}{"image":"`, `${head('Transfer-Encoding: chunked\r\n')}5\r\n{"ima\r\n`]) {
      const socket = await connect(h.port);
      socket.write(request);
      const answer = parseRawResponse(await readUntilClosed(socket, 10_000));
      assert.equal(answer.status, 408, answer.body);
      assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'REQUEST_TIMEOUT');
      assert.equal(answer.headers.connection, 'close');
    }
    assert.deepEqual(await statusTotals(h.url), { 408: 2 }, 'counted as the clients saw them: 408, not 499');
  });
});

describe('methods, HEAD, query strictness and server paths', () => {
  let h: Local;
  let broken: Local;
  let brokenDir: string;
  before(async () => {
    h = await startLocal();
    brokenDir = mkdtempSync(path.join(os.tmpdir(), 'ofa-ve-broken-model-'));
    writeFileSync(path.join(brokenDir, 'model.json'), '{ not json');
    broken = await startLocal({}, brokenDir);
  });
  after(async () => {
    await h?.close();
    await broken?.close();
    rmSync(brokenDir, { recursive: true, force: true });
  });

  const routes = ['/healthz', '/readyz', '/metrics', '/api/v1/model', '/api/v1/stats', '/api/v1/requests/slowest', '/api/v1/events'];

  it('answers HEAD on every GET route, with the GET status and no body (the event stream too)', { timeout: 30_000 }, async () => {
    for (const route of routes) {
      const get = await fetch(`${h.url}${route}`, { signal: AbortSignal.timeout(5000) });
      await get.body?.cancel();
      const head = await rawRequest(h.port, `HEAD ${route} HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nConnection: close\r\n\r\n`, {
        timeoutMs: 5000,
      });
      assert.equal(head.status, get.status, route);
      assert.equal(head.body, '', `${route}: no body`);
      assert.equal(head.headers['content-type']?.split(';')[0], get.headers.get('content-type')?.split(';')[0], route);
    }
  });

  it('answers 405 with Allow for every method a route does not serve, and counts none as a check', async () => {
    const wrong: [string, string, string][] = [
      ...routes.map((r): [string, string, string] => [r, 'POST', 'GET, HEAD']),
      ['/metrics', 'DELETE', 'GET, HEAD'],
      ['/', 'POST', 'GET, HEAD'],
      ['/api/v1/check', 'GET', 'POST'],
      ['/api/v1/check', 'HEAD', 'POST'],
      ['/api/v1/check', 'OPTIONS', 'POST'],
    ];
    for (const [route, method, allow] of wrong) {
      const res = await fetch(`${h.url}${route}`, {
        method,
        body: method === 'POST' ? '{}' : undefined,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 405, `${method} ${route}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${route}`);
      if (method !== 'HEAD') assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'METHOD_NOT_ALLOWED');
    }
    assert.deepEqual(await statusTotals(h.url), {}, 'none of these is a check');
  });

  it('takes `window` in plain digits only', async () => {
    for (const bad of ['0', '901', '0x3c', '060', '6e1', '60.0', '+60', '%2060', '60%20', '', '-1', '1_0', '60&window=5']) {
      for (const route of ['/api/v1/stats', '/api/v1/events']) {
        const res = await fetch(`${h.url}${route}?window=${bad}`, { signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 400, `${route}?window=${bad}`);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
      }
    }
    for (const good of ['1', '60', '900']) assert.equal((await fetch(`${h.url}/api/v1/stats?window=${good}`)).status, 200, good);
  });

  it('tells why the model is not ready without the absolute path of its directory', async () => {
    const ready = await fetch(`${broken.url}/readyz`);
    assert.equal(ready.status, 503);
    const readyText = await ready.text();
    const model = await (await fetch(`${broken.url}/api/v1/model`)).text();
    for (const text of [readyText, model]) {
      assert.match(text, /model\.json: not valid JSON/, 'the reason names the file');
      assert.ok(!text.includes(brokenDir), `no server path: ${text}`);
      assert.ok(!text.includes(os.tmpdir()), `no server path: ${text}`);
    }
  });
});
