/**
 * Graceful shutdown of the real `ofa-ve serve` on SIGTERM, with checks in flight: the worker is
 * held (SIGSTOP) so that three checks are still running when the signal comes. Proven:
 * - an idle kept-alive connection is closed at once, long before the checks finish;
 * - the listener stops: a new connection is refused;
 * - a request whose head completes during the drain, on a connection opened before, is answered
 *   with `Connection: close`;
 * - the checks in flight finish (200, with `Connection: close`), a stream of server-sent events
 *   ends cleanly, then the process logs "stopped" and exits 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { multipartBody, multipartType } from '../support/multipart-body.ts';
import { childPids, HAS_PROC } from '../../bench/support/proc-stats.ts';
import { parseRawResponse } from '../support/raw-http.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

/** One request on `agent`; resolves with the status, the Connection header and the body. */
function request(
  url: URL,
  agent: http.Agent,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const length = body ? { 'content-length': String(body.length) } : {};
    const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers: { ...headers, ...length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The socket an agent keeps for its next request (after one request, with maxSockets 1). */
function idleSocket(agent: http.Agent): net.Socket {
  const sockets = Object.values(agent.freeSockets).flat();
  assert.equal(sockets.length, 1, 'one kept-alive socket');
  return sockets[0] as net.Socket;
}

describe(
  'ofa-ve serve: graceful shutdown on SIGTERM with checks in flight',
  { skip: !HAS_PROC && 'needs /proc to find the worker' },
  () => {
    let server: ServeProcess;
    let workerPid: number | undefined;
    before(async () => {
      server = await startServe([]);
    });
    after(async () => {
      if (workerPid) {
        try {
          process.kill(workerPid, 'SIGCONT');
        } catch {
          // gone with the service
        }
      }
      await server?.stop();
    });

    it(
      'closes idle connections at once, answers the drain with Connection: close, finishes the checks, exits 0',
      { timeout: 60_000 },
      async () => {
        const url = new URL(server.url);
        const png = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#3a6' } })
          .png()
          .toBuffer();
        const body = multipartBody([
          { name: 'image', filename: 'p.png', contentType: 'image/png', data: png },
          { name: 'text', data: 'a green picture' },
        ]);
        const form = { 'content-type': multipartType() };

        // An idle kept-alive connection; and one that has sent half a request head (so it is not idle).
        const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        assert.equal((await request(url, idleAgent, 'GET', '/healthz')).status, 200);
        const idle = idleSocket(idleAgent);
        const idleClosed = once(idle, 'close').then(() => performance.now());
        const late = net.connect(Number(url.port), url.hostname);
        await once(late, 'connect');
        const lateAnswer: Buffer[] = [];
        late.on('data', (c: Buffer) => lateAnswer.push(c));
        const lateClosed = once(late, 'close');
        late.write(`GET /healthz HTTP/1.1\r\nHost: ${url.host}\r\n`);
        // An event stream: it must end cleanly, not be cut.
        const events = await fetch(`${server.url}/api/v1/events`);
        const eventsEnded = events.text();

        // Checks held in flight by a stopped worker.
        workerPid = childPids(server.child.pid!)[0];
        assert.ok(workerPid, 'the inference worker runs as a child process');
        assert.equal((await request(url, new http.Agent(), 'POST', '/api/v1/check', body, form)).status, 200, 'a warm-up check');
        process.kill(workerPid, 'SIGSTOP');
        const checks = Array.from({ length: 3 }, () =>
          request(url, new http.Agent({ keepAlive: true }), 'POST', '/api/v1/check', body, form),
        );
        const inflight = async () => /^ofa_ve_inflight_requests 3$/m.test(await (await fetch(`${server.url}/metrics`)).text());
        for (let i = 0; i < 100 && !(await inflight()); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(await inflight(), 'three checks are in flight');

        const exited = once(server.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
        const signalled = performance.now();
        server.child.kill('SIGTERM');
        const idleClosedAt = await idleClosed;
        assert.ok(idleClosedAt - signalled < 5000, `the idle connection was closed at once (${(idleClosedAt - signalled).toFixed(0)} ms)`);

        // The listener is closed once serve has taken the signal (it logs "shutting down" just after):
        // an idle connection can also close for other reasons, so that alone does not prove it.
        for (let i = 0; i < 200 && !server.logs.some((l) => l.includes('shutting down')); i++) await new Promise((r) => setTimeout(r, 25));
        assert.ok(
          server.logs.some((l) => l.includes('shutting down')),
          'serve took SIGTERM',
        );
        // A new connection is refused.
        await assert.rejects(
          new Promise((resolve, reject) => net.connect(Number(url.port), url.hostname).once('connect', resolve).once('error', reject)),
          /ECONNREFUSED/,
        );
        // The half-sent request completes during the drain: answered, and its connection closed after.
        late.write('\r\n');
        await lateClosed;
        const lateResponse = parseRawResponse(Buffer.concat(lateAnswer));
        assert.equal(lateResponse.status, 200);
        assert.equal(lateResponse.headers.connection, 'close');

        process.kill(workerPid, 'SIGCONT');
        const answers = await Promise.all(checks);
        for (const a of answers) {
          assert.equal(a.status, 200, a.body.slice(0, 200));
          assert.equal(a.connection, 'close', 'a response during the drain closes its connection');
        }
        assert.match(await eventsEnded, /^event: stats\n/, 'the event stream ended cleanly');
        const [code] = await exited;
        assert.equal(code, 0, 'exit code 0');
        assert.ok(
          server.logs.some((l) => /"msg":"stopped"/.test(l)),
          server.logs.slice(-5).join('\n'),
        );
        idleAgent.destroy();
      },
    );
  },
);
