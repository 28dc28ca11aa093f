/**
 * main/electron/remote-fetch.ts against real sockets on loopback: any HTTP answer comes back as is,
 * and each way of getting none (nothing listening, no answer in time) is SERVICE_UNAVAILABLE naming
 * the host and why.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectionError, fetchRemote } from '../../../main/electron/remote-fetch.ts';

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
