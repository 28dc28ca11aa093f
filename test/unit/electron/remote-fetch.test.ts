/**
 * main/electron/remote-fetch.ts against real sockets on loopback: any HTTP answer comes back as is,
 * and each way of getting none (nothing listening, no answer in time) is SERVICE_UNAVAILABLE naming
 * the host and why.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectionError, fetchRemote, MAX_REMOTE_JSON_BYTES, readRemoteJson } from '../../../main/electron/remote-fetch.ts';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));

function unavailable(message: RegExp) {
  return (err: unknown) => err instanceof ConnectionError && err.code === 'SERVICE_UNAVAILABLE' && message.test(err.message);
}

describe('fetchRemote', () => {
  const seen: { method?: string; url?: string; authorization?: string }[] = [];
  // Answers 503 with what it was asked, except /hang, which it never answers.
  const answering = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
    if (req.url === '/hang') return;
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  let origin: string;
  let closedOrigin: string;

  before(async () => {
    origin = await listen(answering);
    const closed = http.createServer();
    closedOrigin = await listen(closed);
    await close(closed);
  });
  after(async () => {
    answering.closeAllConnections();
    await close(answering);
  });

  it('returns any HTTP answer as is, with the path, query and request options given', async () => {
    const res = await fetchRemote(origin, '/api/v1/stats?window=1', 5000, { method: 'POST', headers: { authorization: 'Bearer t' } });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { path: '/api/v1/stats?window=1' });
    assert.deepEqual(seen.at(-1), { method: 'POST', url: '/api/v1/stats?window=1', authorization: 'Bearer t' });
  });

  it('nothing listening: SERVICE_UNAVAILABLE with the host and the cause, not "fetch failed"', async () => {
    const host = closedOrigin.slice('http://'.length).replace(/\./g, '\\.');
    await assert.rejects(fetchRemote(closedOrigin, '/healthz', 5000), unavailable(new RegExp(`^cannot reach ${host}: ECONNREFUSED$`)));
  });

  it('no answer within the limit: SERVICE_UNAVAILABLE saying how long it waited', async () => {
    await assert.rejects(fetchRemote(origin, '/hang', 200), unavailable(/^cannot reach 127\.0\.0\.1:\d+: no answer within 0\.2 s$/));
    assert.equal(seen.at(-1)?.url, '/hang', 'the request did reach the service');
  });
});

/** Two services on loopback: A answers every request with a 307 to the same path on B. */
async function redirectingPair() {
  const seenByB: { url?: string; authorization?: string }[] = [];
  const b = http.createServer((req, res) => {
    seenByB.push({ url: req.url, authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"elsewhere"}');
  });
  const originB = await listen(b);
  const a = http.createServer((req, res) =>
    res.writeHead(307, { location: `${originB.replace('127.0.0.1', 'localhost')}${req.url}` }).end(),
  );
  const originA = await listen(a);
  return { originA, originB, seenByB, close: async () => Promise.all([close(a), close(b)]) };
}

describe('fetchRemote and redirects', () => {
  it('does not follow a redirect: NOT_OFA_VE naming where it points, and the other service gets nothing (no token)', async () => {
    const pair = await redirectingPair();
    try {
      const target = pair.originB.replace('127.0.0.1', 'localhost').replace(/\./g, '\\.');
      await assert.rejects(fetchRemote(pair.originA, '/healthz', 5000, { headers: { authorization: 'Bearer secret' } }), (err: unknown) => {
        assert.ok(err instanceof ConnectionError);
        assert.equal(err.code, 'NOT_OFA_VE');
        assert.match(err.message, new RegExp(`^127\\.0\\.0\\.1:\\d+ redirects to ${target}: connect to that address$`));
        return true;
      });
      assert.deepEqual(pair.seenByB, []);
    } finally {
      await pair.close();
    }
  });

  it('a redirect without a Location: NOT_OFA_VE all the same', async () => {
    const server = http.createServer((_req, res) => res.writeHead(302).end());
    const origin = await listen(server);
    try {
      await assert.rejects(fetchRemote(origin, '/healthz', 5000), {
        name: 'ConnectionError',
        code: 'NOT_OFA_VE',
        message: /a redirect \(302\)/,
      });
    } finally {
      await close(server);
    }
  });
});

describe('readRemoteJson', () => {
  const big = JSON.stringify({ pad: 'x'.repeat(MAX_REMOTE_JSON_BYTES) });
  // /announced sends a Content-Length, /chunked does not; /small is a document of the usual size.
  const server = http.createServer((req, res) => {
    if (req.url === '/announced') return res.writeHead(200, { 'content-length': Buffer.byteLength(big) }).end(big);
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < big.length; i += 65536) res.write(big.slice(i, i + 65536));
      return res.end();
    }
    if (req.url === '/not-json') return res.end('<h1>router admin</h1>');
    res.end(JSON.stringify({ version: '1.0.0' }));
  });
  let origin: string;
  before(async () => {
    origin = await listen(server);
  });
  after(async () => {
    server.closeAllConnections();
    await close(server);
  });

  const read = async (path: string) => readRemoteJson(await fetchRemote(origin, path, 5000), 'svc:1');

  it('reads a document of the usual size, and undefined for one that is not JSON', async () => {
    assert.deepEqual(await read('/small'), { version: '1.0.0' });
    assert.equal(await read('/not-json'), undefined);
  });

  it('refuses an answer over the cap, announced or not, with RESPONSE_TOO_LARGE', async () => {
    for (const path of ['/announced', '/chunked']) {
      await assert.rejects(
        read(path),
        { name: 'ConnectionError', code: 'RESPONSE_TOO_LARGE', message: /^svc:1 answered with more than 4 MiB/ },
        path,
      );
    }
  });
});
