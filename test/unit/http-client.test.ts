/**
 * The browser client against the real runtime and HTTP server (test/support/service-harness.ts):
 * the sign-in outcomes of a protected instance, and what a check and the stats stream report while
 * the service stops, is unreachable and comes back on the same port. And a polled read cancelled
 * by its AbortSignal, against a plain 127.0.0.1 server that holds its answer: the connection closes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { bodyLimitsFor } from '../../main/server/check-body-parser.ts';
import { OfaVeHttpServer } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import type { ApiError, CheckResult, Outcome, StatsDocument } from '../../preload/wire-types.ts';
import { runBatch } from '../../renderer/api/batch-runner.ts';
import { ClientError, SERVICE_UNAVAILABLE, UNAUTHORIZED } from '../../renderer/api/console-client.ts';
import { HttpConsoleClient, failureOf } from '../../renderer/api/http-client.ts';
import { serviceLink } from '../../renderer/api/service-link.ts';
import { startHarness } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

const PNG_1x1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNgYPgPAAEDAQAIicLsAAAAAElFTkSuQmCC', 'base64');

function input(text = 'a small square') {
  return { name: 'dot.png', image: new Blob([PNG_1x1], { type: 'image/png' }), text };
}

/** The runtime and server as `ofa-ve serve` builds them, on a given port (0: any), so a test can bring it back on the same one. */
async function serveOn(port: number): Promise<{ runtime: ServiceRuntime; server: OfaVeHttpServer; port: number }> {
  const runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger });
  const server = new OfaVeHttpServer(runtime, { logger: silentLogger, bodyLimits: bodyLimitsFor(runtime.limits) });
  const address = await server.listen(port, '127.0.0.1');
  await runtime.start();
  return { runtime, server, port: address.port };
}

/** Collects a subscription's documents and errors; `next` waits for the next one that matches. */
function recorder() {
  const seen: ({ doc: StatsDocument } | { error: ApiError })[] = [];
  const waiters: { match: (e: (typeof seen)[number]) => boolean; resolve: () => void }[] = [];
  const push = (entry: (typeof seen)[number]) => {
    seen.push(entry);
    for (const w of waiters.splice(0)) {
      if (w.match(entry)) w.resolve();
      else waiters.push(w);
    }
  };
  return {
    seen,
    onStats: (doc: StatsDocument) => push({ doc }),
    onError: (error: ApiError) => push({ error }),
    next: (match: (e: (typeof seen)[number]) => boolean) => new Promise<void>((resolve) => waiters.push({ match, resolve })),
  };
}

describe('failureOf: what a failed request reports', () => {
  const before = { modelSeenReady: false, tokenSent: false };
  const seen = { modelSeenReady: true, tokenSent: false };
  const notReady = { error: { code: 'NOT_READY', message: 'the model is not loaded yet' } };

  it('keeps NOT_READY from a service whose model was never loaded (a missing model is not an outage)', () => {
    assert.equal(failureOf(503, 'Service Unavailable', notReady, before).code, 'NOT_READY');
  });

  it('reports NOT_READY after the model was loaded as the service being unavailable (stopping or restarting)', () => {
    const error = failureOf(503, 'Service Unavailable', notReady, seen);
    assert.equal(error.code, SERVICE_UNAVAILABLE);
    assert.match(error.message, /service unavailable: the model is not loaded yet/);
  });

  it('reads a gateway error without the service’s JSON as unreachable, but keeps the service’s own 5xx codes', () => {
    assert.equal(failureOf(502, 'Bad Gateway', undefined, before).code, SERVICE_UNAVAILABLE);
    assert.equal(failureOf(504, 'Gateway Timeout', undefined, before).code, SERVICE_UNAVAILABLE);
    assert.equal(failureOf(504, '', { error: { code: 'TIMEOUT', message: 'x' } }, seen).code, 'TIMEOUT');
    assert.equal(failureOf(503, '', { error: { code: 'OVERLOADED', message: 'x' } }, seen).code, 'OVERLOADED');
    assert.equal(failureOf(500, 'Internal Server Error', undefined, seen).code, 'HTTP_500');
  });

  it('tells a missing token from a refused one', () => {
    assert.match(failureOf(401, '', undefined, { modelSeenReady: false, tokenSent: false }).message, /needs an access token/);
    assert.match(failureOf(401, '', undefined, { modelSeenReady: false, tokenSent: true }).message, /refused/);
  });
});

describe('a protected instance (--token)', () => {
  const harness = startHarness({ token: 'sesame' });
  after(async () => (await harness).close());

  it('asks for a token, says when one is refused, and works once the right one is given', async () => {
    const { url } = await harness;
    const client = new HttpConsoleClient(url);
    assert.equal(client.auth.hasToken(), false);
    const missing = await client.modelInfo().then(
      () => assert.fail('answered without a token'),
      (err: ApiError) => err,
    );
    assert.equal(missing.code, UNAUTHORIZED);
    assert.deepEqual(serviceLink([missing], client.auth.hasToken()), { state: 'signed-out', tokenRefused: false });

    client.auth.signIn('open up');
    const refused = await client.modelInfo().then(
      () => assert.fail('answered with a wrong token'),
      (err: ApiError) => err,
    );
    assert.equal(refused.code, UNAUTHORIZED);
    assert.deepEqual(serviceLink([refused], client.auth.hasToken()), { state: 'signed-out', tokenRefused: true });

    client.auth.signIn('sesame');
    assert.equal((await client.modelInfo()).ready, true);
  });

  it('stops the stats stream on a 401 instead of retrying it', async () => {
    const { url } = await harness;
    const client = new HttpConsoleClient(url);
    const rec = recorder();
    const unsubscribe = client.subscribeStats(60, rec.onStats, rec.onError);
    await rec.next((e) => 'error' in e);
    unsubscribe();
    assert.equal(rec.seen.length, 1);
    assert.equal((rec.seen[0] as { error: ApiError }).error.code, UNAUTHORIZED);
  });
});

describe('the service goes away and comes back', () => {
  let current: Awaited<ReturnType<typeof serveOn>> | undefined;
  after(async () => {
    await current?.server.close();
    await current?.runtime.close(1000);
  });

  it('reports checks and the stats stream as SERVICE_UNAVAILABLE, then reconnects by itself', async () => {
    current = await serveOn(0);
    const { port } = current;
    const client = new HttpConsoleClient(`http://127.0.0.1:${port}`);
    assert.equal((await client.modelInfo()).ready, true);
    const ok = await client.check(input());
    assert.equal(ok.ok, true, JSON.stringify(ok));

    const rec = recorder();
    const firstDoc = rec.next((e) => 'doc' in e);
    const unsubscribe = client.subscribeStats(60, rec.onStats, rec.onError);
    try {
      await firstDoc;

      // The runtime stops first (as on shutdown, with the HTTP server still answering): NOT_READY.
      await current.runtime.close(1000);
      const stopping = await client.check(input());
      assert.equal(stopping.ok, false);
      assert.equal((stopping as Extract<Outcome<CheckResult>, { ok: false }>).error.code, SERVICE_UNAVAILABLE);

      // Then the server: connection refused, for checks and for the stream.
      const gone = rec.next((e) => 'error' in e);
      await current.server.close(100);
      current = undefined;
      await gone;
      const streamError = rec.seen.findLast((e) => 'error' in e) as { error: ApiError };
      assert.equal(streamError.error.code, SERVICE_UNAVAILABLE);
      const refused = await client.check(input());
      assert.equal(refused.ok, false);
      assert.equal((refused as Extract<Outcome<CheckResult>, { ok: false }>).error.code, SERVICE_UNAVAILABLE);
      assert.match((refused as Extract<Outcome<CheckResult>, { ok: false }>).error.message, /cannot reach it/);

      // Back on the same port: the stream delivers documents again without being asked.
      const back = rec.next((e) => 'doc' in e);
      current = await serveOn(port);
      await back;
      assert.equal((await client.check(input())).ok, true);
    } finally {
      unsubscribe();
    }
  });
});

describe('a batch when the service goes away', () => {
  it('sends nothing more after the first SERVICE_UNAVAILABLE and reports every remaining item unavailable', async () => {
    let sent = 0;
    const outcomes: (Outcome<CheckResult> | undefined)[] = Array.from({ length: 5 });
    await runBatch(
      [0, 1, 2, 3, 4],
      async (item) => {
        sent += 1;
        if (item === 0) return { ok: true, value: {} as never };
        return { ok: false, error: { code: SERVICE_UNAVAILABLE, message: 'service unavailable: cannot reach it' } };
      },
      { onResult: (index, outcome) => (outcomes[index] = outcome), onProgress: () => {} },
      new AbortController().signal,
      { concurrency: 1, overloadRetries: 0 },
    );
    assert.equal(sent, 2, 'item 0 answered, item 1 found the service gone, 2-4 never sent');
    assert.equal(outcomes[0]?.ok, true);
    for (const outcome of outcomes.slice(1)) {
      assert.equal(outcome?.ok, false);
      assert.equal((outcome as Extract<Outcome<CheckResult>, { ok: false }>).error.code, SERVICE_UNAVAILABLE);
    }
  });
});

describe('a polled read cancelled by its AbortSignal', () => {
  /** Requests that reached the server, each with a promise of its connection's close. */
  const arrived: { url: string; closed: Promise<unknown> }[] = [];
  const waiters: (() => void)[] = [];
  let server: http.Server;
  let url: string;
  before(async () => {
    // Holds every answer: /api/v1/slices sends nothing, /api/v1/fleet its headers and half a body.
    server = http.createServer((req, res) => {
      arrived.push({ url: req.url ?? '', closed: once(res, 'close') });
      if (req.url?.startsWith('/api/v1/fleet')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"source":"prometheus",');
      }
      for (const wake of waiters.splice(0)) wake();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** Waits until the server has seen `n` requests. */
  const arrivedCount = async (n: number) => {
    while (arrived.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };

  /** What the call rejected with (it must reject). */
  const rejection = (call: Promise<unknown>) =>
    call.then(
      () => assert.fail('answered although aborted'),
      (err: unknown) => err,
    );

  it('aborting before the service answers ends the fetch: the server sees the connection close, the call an AbortError', async () => {
    const client = new HttpConsoleClient(url);
    const controller = new AbortController();
    const call = rejection(client.slices(60, 'caption_script', controller.signal));
    await arrivedCount(1);
    assert.match(arrived[0]!.url, /^\/api\/v1\/slices\?/);
    controller.abort();
    const err = await call;
    assert.equal((err as Error).name, 'AbortError', String(err));
    assert.ok(!(err instanceof ClientError), 'not reported as the service being unavailable');
    await arrived[0]!.closed;
  });

  it('aborting while the answer is being read does the same', async () => {
    const client = new HttpConsoleClient(url);
    const controller = new AbortController();
    const call = rejection(client.fleet('5m', controller.signal));
    await arrivedCount(2);
    assert.match(arrived[1]!.url, /^\/api\/v1\/fleet\?/);
    controller.abort();
    const err = await call;
    assert.equal((err as Error).name, 'AbortError', String(err));
    await arrived[1]!.closed;
  });

  it('a signal aborted already sends nothing', async () => {
    const client = new HttpConsoleClient(url);
    const err = await rejection(client.slowest(AbortSignal.abort()));
    assert.equal((err as Error).name, 'AbortError', String(err));
    assert.equal(arrived.length, 2);
  });
});
