/**
 * ofa_ve_request_total counts checks, and only checks: what POST /api/v1/check took or refused.
 * - A CORS preflight, a GET (cross-site or not) or any other method on the check route is answered
 *   (400, or 401 with a token) and never counted; cross-site and foreign-Host requests for other
 *   routes are refused and not counted either. A cross-site or foreign-Host POST is a refused check
 *   (403, counted).
 * - A client that hangs up while its check waits in the queue: the check is dropped before it runs
 *   (no model run, no 200) and counted once under 499 CLIENT_CLOSED_REQUEST (nginx's "client closed
 *   request"), a 4xx: the client's doing, never a server error.
 * Throughout, the sum of ofa_ve_request_total equals the check requests sent, and the live stats agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { SlowRequest, StatsDocument } from '../../preload/wire-types.ts';
import { rawRequest } from '../support/raw-http.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';

const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 200, b: 90 } } })
  .png()
  .toBuffer();

function form(text: string): FormData {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'photo.png');
  body.append('text', text);
  return body;
}

async function byStatus(h: Harness, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const { series } = requestTotals(await (await fetch(`${h.url}/metrics`, { headers })).text());
  const out: Record<string, number> = {};
  for (const [labels, value] of series) {
    const status = /status_code="(\d+)"/.exec(labels)?.[1] as string;
    if (value > 0) out[status] = (out[status] ?? 0) + value;
  }
  return out;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(await condition(), what);
}

const PREFLIGHT = {
  origin: 'http://evil.example',
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'content-type',
};
const CROSS_SITE = { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' };

describe('what ofa_ve_request_total counts (no token)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ batching: { maxBatchSize: 1 } });
  });
  after(async () => h.close());

  it('never counts preflights, other methods, cross-site or foreign-Host requests for other routes; counts refused POSTs', async () => {
    assert.equal((await fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form('a green picture') })).status, 200);
    const preflight = await fetch(`${h.url}/api/v1/check`, { method: 'OPTIONS', headers: PREFLIGHT });
    assert.equal(preflight.status, 405);
    assert.equal(preflight.headers.get('allow'), 'POST');
    assert.equal(preflight.headers.get('access-control-allow-origin'), null, 'no CORS grant: the browser blocks the cross-site post');
    assert.equal((await fetch(`${h.url}/api/v1/check`)).status, 405);
    assert.equal((await fetch(`${h.url}/api/v1/check`, { headers: CROSS_SITE })).status, 405);
    assert.equal((await fetch(`${h.url}/api/v1/check`, { method: 'PUT', body: form('x') })).status, 405);
    const stats = await fetch(`${h.url}/api/v1/stats`, { headers: CROSS_SITE });
    assert.equal(stats.status, 200, 'answered, but a browser lets no other site read it: no CORS grant');
    assert.equal(stats.headers.get('access-control-allow-origin'), null);
    const port = Number(new URL(h.url).port);
    const foreign = await rawRequest(port, `GET /metrics HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`);
    assert.equal(foreign.status, 403, 'DNS rebinding refused');
    assert.deepEqual(await byStatus(h), { 200: 1 }, 'none of these was a check');

    const crossSite = await fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form('x'), headers: CROSS_SITE });
    assert.equal(crossSite.status, 403);
    const body = 'x'.repeat(10);
    const rebound = await rawRequest(
      port,
      `POST /api/v1/check HTTP/1.1\r\nHost: evil.example:${port}\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.equal(rebound.status, 403);
    assert.deepEqual(await byStatus(h), { 200: 1, 403: 2 }, 'refused checks are checks');
  });

  it('drops a check whose client hung up while it was queued: never run, counted once under 499', { timeout: 60_000 }, async () => {
    const before = await byStatus(h);
    const batchesBefore = Number(/^ofa_ve_batch_size_count (\S+)$/m.exec(await (await fetch(`${h.url}/metrics`)).text())?.[1]);
    const worker = h.runtime.workerHost.pid!;
    // A stopped worker holds the first check in its batch; the second waits in the queue behind it.
    process.kill(worker, 'SIGSTOP');
    let running: Promise<Response> | undefined;
    try {
      running = fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form('held in the stopped worker') });
      const inflight = async () => /^ofa_ve_inflight_requests 1$/m.test(await (await fetch(`${h.url}/metrics`)).text());
      await waitFor(inflight, 'the first check runs');
      const hangUp = new AbortController();
      const queued = fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form('abandoned in the queue'), signal: hangUp.signal });
      await waitFor(() => h.runtime.service.queueDepth === 1, 'the second check is queued');
      hangUp.abort();
      await assert.rejects(queued);
      await waitFor(() => h.runtime.service.queueDepth === 0, 'the abandoned check left the queue');
    } finally {
      process.kill(worker, 'SIGCONT');
    }
    assert.equal((await running).status, 200);

    const now = await byStatus(h);
    assert.deepEqual(now, { ...before, 200: (before[200] ?? 0) + 1, 499: 1 });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    assert.equal(Number(/^ofa_ve_batch_size_count (\S+)$/m.exec(metrics)?.[1]), batchesBefore + 1, 'only the first check ran');
    assert.match(metrics, /^ofa_ve_inflight_requests 0$/m);

    const stats = (await (await fetch(`${h.url}/api/v1/stats?window=900`)).json()) as StatsDocument;
    const sent = Object.values(now).reduce((a, b) => a + b, 0);
    assert.equal(stats.totals.requests, sent, 'the live stats count the same checks');
    assert.equal(stats.totals.server_errors, 0, 'a hang-up is not a server error');
    const slowest = ((await (await fetch(`${h.url}/api/v1/requests/slowest`)).json()) as { requests: SlowRequest[] }).requests;
    const dropped = slowest.find((r) => r.status_code === 499);
    assert.equal(dropped?.error_code, 'CLIENT_CLOSED_REQUEST');
  });
});

describe('what ofa_ve_request_total counts (with a token)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ token: 'tok-123' });
  });
  after(async () => h.close());

  it('does not count an unauthenticated preflight, counts an unauthenticated POST as a 401 check', async () => {
    assert.equal((await fetch(`${h.url}/api/v1/check`, { method: 'OPTIONS', headers: PREFLIGHT })).status, 401);
    assert.equal((await fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form('x') })).status, 401);
    assert.deepEqual(await byStatus(h, { authorization: 'Bearer tok-123' }), { 401: 1 });
  });
});
