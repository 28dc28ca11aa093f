/**
 * Overload and faults under load.
 *
 * 1. A storm against `ofa-ve serve --max-queue-size 16`: 2000 checks from 200 concurrent clients.
 *    Every request is answered, with 200 or with 503 OVERLOADED and a Retry-After header; the
 *    server's resident memory stays bounded (its peak during the storm against its size before);
 *    ofa_ve_request_total agrees with what the clients saw, per status; the queue drains; and a few
 *    single requests afterwards are as fast as before the storm (median within 2x, plus 10 ms slack
 *    for timer noise on small numbers).
 * 2. The inference worker is killed (SIGKILL, as a crash or the OOM killer would) while batches are
 *    running under load: the batch in flight fails with 500 INTERNAL, requests arriving while the
 *    new worker starts wait in the queue for it (no 503), a new worker process serves again without
 *    restarting the service, and every request is counted exactly once under the status it got.
 * 3. The worker hangs (SIGSTOP: a native call that never returns): requests in its batch get 504
 *    TIMEOUT at the request timeout, queued ones 503 OVERLOADED, the watchdog replaces the worker,
 *    the service answers again, and the counts agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { childPids, HAS_PROC, mib, peakRssBytes, rssBytes } from '../../bench/support/proc-stats.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';

const STORM_REQUESTS = 2000;
const STORM_CONCURRENCY = 200;
const QUEUE_SIZE = 16;
const REQUEST_TIMEOUT_MS = 60_000;
/** Growth of the serving process's peak RSS during the storm that still counts as bounded. */
const STORM_RSS_BUDGET_BYTES = 192 * 1024 * 1024;

interface Outcome {
  status: number;
  code?: string;
  retryAfter: string | null;
  ms: number;
}

let photo: Buffer;

function form(text: string): FormData {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'photo.png');
  body.append('text', text);
  return body;
}

async function check(url: string, text: string): Promise<Outcome> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1/check`, { method: 'POST', body: form(text), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after'), ms: performance.now() - t0 };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function sequentialLatencies(url: string, n: number, label: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const out = await check(url, `${label} ${i % 3}`);
    assert.equal(out.status, 200, `${label} request ${i}: ${out.status} ${out.code}`);
    times.push(out.ms);
  }
  return times;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
}

function totalsByStatus(exposition: string): Map<number, number> {
  const byStatus = new Map<number, number>();
  for (const [labels, value] of requestTotals(exposition).series) {
    const status = Number(/status_code="(\d+)"/.exec(labels)?.[1]);
    if (value > 0) byStatus.set(status, (byStatus.get(status) ?? 0) + value);
  }
  return byStatus;
}

function tally(outcomes: Outcome[]): Map<number, number> {
  const byStatus = new Map<number, number>();
  for (const o of outcomes) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
  return byStatus;
}

const show = (m: Map<number, number>): string => JSON.stringify(Object.fromEntries([...m].sort(([a], [b]) => a - b)));

before(async () => {
  photo = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 80, b: 20 } } })
    .png()
    .toBuffer();
});

describe(`a storm of ${STORM_REQUESTS} checks at concurrency ${STORM_CONCURRENCY} against ofa-ve serve --max-queue-size ${QUEUE_SIZE}`, () => {
  let server: ServeProcess;
  before(async () => {
    server = await startServe(['--max-queue-size', String(QUEUE_SIZE)]);
  });
  after(async () => server?.stop());

  it(
    'answers every request with 200 or 503 OVERLOADED + Retry-After, stays bounded in memory, counts exactly, then recovers its latency',
    { timeout: 180_000 },
    async (t) => {
      const url = server.url;
      const pid = server.child.pid!;
      let sentOutsideStorm = 0;

      await sequentialLatencies(url, 5, 'warm-up');
      const pre = await sequentialLatencies(url, 15, 'before the storm');
      sentOutsideStorm += 20;
      const rssBefore = rssBytes(pid);
      const workerPid = HAS_PROC ? childPids(pid)[0] : undefined;
      const workerRssBefore = workerPid === undefined ? undefined : rssBytes(workerPid);

      // The storm: 200 clients, each sending its next request as soon as the previous one is answered.
      const outcomes: Outcome[] = [];
      const failures: string[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: STORM_CONCURRENCY }, async () => {
          while (next < STORM_REQUESTS) {
            const i = next++;
            try {
              outcomes.push(await check(url, `storm ${i % 7}`));
            } catch (err) {
              failures.push(`request ${i}: ${String(err)}`);
            }
          }
        }),
      );
      const stormSeconds = (performance.now() - started) / 1000;
      const peakAfter = peakRssBytes(pid);
      const workerPeak = workerPid === undefined ? undefined : peakRssBytes(workerPid);

      const byStatus = tally(outcomes);
      t.diagnostic(`storm: ${STORM_REQUESTS} requests in ${stormSeconds.toFixed(1)} s, by status ${show(byStatus)}`);
      t.diagnostic(
        `serve RSS before ${mib(rssBefore)}, peak after ${mib(peakAfter)}; worker RSS before ${mib(workerRssBefore)}, peak ${mib(workerPeak)}`,
      );

      assert.deepEqual(failures, [], 'every request was answered (no reset, no timeout)');
      assert.equal(outcomes.length, STORM_REQUESTS);
      for (const o of outcomes) {
        if (o.status === 200) continue;
        assert.equal(o.status, 503, `only 200 and 503 under overload, got ${o.status} ${o.code}`);
        assert.equal(o.code, 'OVERLOADED');
        assert.match(o.retryAfter ?? '', /^[1-9]\d*$/, 'Retry-After in whole seconds');
      }
      assert.ok((byStatus.get(200) ?? 0) > 0, 'some requests were served');
      assert.ok((byStatus.get(503) ?? 0) > 0, 'the queue of 16 overflowed and was refused, not grown');
      assert.equal(server.child.exitCode, null, 'the server is still running');

      if (HAS_PROC && rssBefore !== undefined && peakAfter !== undefined) {
        assert.ok(
          peakAfter - rssBefore < STORM_RSS_BUDGET_BYTES,
          `peak RSS grew by ${mib(peakAfter - rssBefore)} during the storm (budget ${mib(STORM_RSS_BUDGET_BYTES)})`,
        );
      }

      const metrics = await metricsText(url);
      assert.match(metrics, /^ofa_ve_queue_depth 0$/m, 'the queue drained');
      assert.match(metrics, /^ofa_ve_inflight_requests 0$/m, 'nothing left in flight');

      // Normal latency returns.
      const post = await sequentialLatencies(url, 15, 'after the storm');
      sentOutsideStorm += 15;
      const [preMedian, postMedian] = [median(pre), median(post)];
      t.diagnostic(`single-request latency: median before ${preMedian.toFixed(1)} ms, after ${postMedian.toFixed(1)} ms`);
      assert.ok(
        postMedian <= 2 * preMedian + 10,
        `median after the storm ${postMedian.toFixed(1)} ms vs ${preMedian.toFixed(1)} ms before`,
      );

      // Every request counted once, under the status its client saw.
      const expected = new Map(byStatus);
      expected.set(200, (expected.get(200) ?? 0) + sentOutsideStorm);
      const counted = await metricsText(url);
      assert.equal(requestTotals(counted).total, STORM_REQUESTS + sentOutsideStorm);
      assert.equal(show(totalsByStatus(counted)), show(expected));
    },
  );
});

describe('the inference worker killed mid-batch under load', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ batching: { maxBatchSize: 8 } });
  });
  after(async () => h?.close());

  it(
    'fails the batch in flight with 500 INTERNAL, restarts the worker, recovers without a restart, counts exactly',
    { timeout: 120_000 },
    async (t) => {
      const host = h.runtime.workerHost;
      const oldPid = host.pid;
      assert.ok(oldPid, 'the worker runs as its own process');
      const outcomes: { at: number; outcome: Outcome }[] = [];
      const failures: string[] = [];
      let stop = false;
      let killedAt = Number.POSITIVE_INFINITY;

      const clients = Array.from({ length: 24 }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          try {
            outcomes.push({ at: performance.now(), outcome: await check(h.url, `client ${c} request ${i % 5}`) });
          } catch (err) {
            failures.push(`client ${c} request ${i}: ${String(err)}`);
          }
        }
      });

      // Kill once the load is steady and a batch is surely running: requests are waiting behind it.
      const deadline = performance.now() + 30_000;
      while ((outcomes.length < 40 || h.runtime.service.queueDepth === 0) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      assert.ok(h.runtime.service.queueDepth > 0, 'the load keeps the worker busy');
      killedAt = performance.now();
      process.kill(oldPid, 'SIGKILL');

      // Keep the load on until the new worker has answered a good number of checks.
      while (performance.now() < deadline + 30_000) {
        const servedAfter = outcomes.filter((o) => o.at > killedAt && o.outcome.status === 200).length;
        if (host.isReady && host.pid !== oldPid && servedAfter >= 40) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      stop = true;
      await Promise.all(clients);

      const byStatus = tally(outcomes.map((o) => o.outcome));
      const byCode = new Map<string, number>();
      for (const { outcome } of outcomes)
        byCode.set(`${outcome.status} ${outcome.code ?? 'ok'}`, (byCode.get(`${outcome.status} ${outcome.code ?? 'ok'}`) ?? 0) + 1);
      t.diagnostic(
        `${outcomes.length} requests: ${JSON.stringify(Object.fromEntries(byCode))}; worker pid ${oldPid} → ${host.pid}, restarts ${host.restarts}`,
      );

      assert.deepEqual(failures, [], 'every request was answered');
      assert.ok(host.isReady, 'a new worker is ready');
      assert.notEqual(host.pid, oldPid, 'it is a new process');
      assert.equal(host.restarts, 1, 'one restart');
      // Requests that arrive while the new worker starts wait in the queue for it: the only
      // failures are the batch that was inside the killed worker.
      for (const { outcome } of outcomes) {
        if (outcome.status === 200) continue;
        assert.equal(outcome.status, 500, `only 200 and 500: got ${outcome.status} ${outcome.code}`);
        assert.equal(outcome.code, 'INTERNAL');
      }
      const internal = byStatus.get(500) ?? 0;
      assert.ok(internal >= 1, 'the batch in flight failed with 500');
      assert.ok(internal <= 2 * h.runtime.service.batching.maxBatchSize, `only what was in the dying worker failed (${internal})`);
      assert.ok(outcomes.filter((o) => o.at > killedAt && o.outcome.status === 200).length >= 40, 'served again after the restart');

      const metrics = await metricsText(h.url);
      assert.equal(requestTotals(metrics).total, outcomes.length, 'sum of ofa_ve_request_total = requests sent');
      assert.equal(show(totalsByStatus(metrics)), show(byStatus), 'per status, the counter agrees with the clients');
      assert.match(metrics, /^ofa_ve_inflight_requests 0$/m);
      const stats = (await (await fetch(`${h.url}/api/v1/stats?window=900`)).json()) as { totals: { requests: number } };
      assert.equal(stats.totals.requests, outcomes.length, 'the live stats count the same requests');
    },
  );
});

describe('a hung inference worker (SIGSTOP)', () => {
  const TIMEOUT_MS = 1500;
  let h: Harness;
  before(async () => {
    h = await startHarness({ batching: { maxBatchSize: 4, requestTimeoutMs: TIMEOUT_MS } });
  });
  after(async () => h?.close());

  it(
    'answers 504 TIMEOUT for the stuck batch and 503 for the queue, replaces the worker, counts exactly',
    { timeout: 60_000 },
    async (t) => {
      const host = h.runtime.workerHost;
      let sent = 0;
      for (let i = 0; i < 3; i++, sent++) assert.equal((await check(h.url, `warm-up ${i}`)).status, 200);
      const oldPid = host.pid!;
      process.kill(oldPid, 'SIGSTOP');
      try {
        const t0 = performance.now();
        const stuck = await Promise.all(Array.from({ length: 6 }, (_, i) => check(h.url, `stuck ${i}`)));
        sent += stuck.length;
        const took = performance.now() - t0;
        t.diagnostic(`while hung: ${stuck.map((o) => `${o.status} ${o.code}`).join(', ')} in ${took.toFixed(0)} ms`);
        // Queued requests expire 503 OVERLOADED, or NOT_READY once the watchdog (armed when the stuck
        // batch was sent, a few ms before the others arrived) has begun replacing the worker: both
        // say retry in a second (check-service.ts expire()).
        for (const o of stuck) {
          assert.ok(
            (o.status === 504 && o.code === 'TIMEOUT') ||
              (o.status === 503 && (o.code === 'OVERLOADED' || o.code === 'NOT_READY') && o.retryAfter === '1'),
            `${o.status} ${o.code}`,
          );
        }
        assert.ok(
          stuck.some((o) => o.status === 504),
          'the request in the stuck batch timed out',
        );
        assert.ok(took < TIMEOUT_MS + 3000, `answered at the timeout, not later (${took.toFixed(0)} ms)`);
      } finally {
        // Whatever happened above, never leave a stopped process behind.
        try {
          process.kill(oldPid, 'SIGCONT');
        } catch {
          // already replaced (killed)
        }
      }
      for (let i = 0; i < 50 && !(host.isReady && host.pid !== oldPid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.notEqual(host.pid, oldPid, 'the hung worker was replaced');
      const after = await check(h.url, 'after the hang');
      sent += 1;
      assert.equal(after.status, 200, `${after.status} ${after.code}`);
      const metrics = await metricsText(h.url);
      assert.equal(requestTotals(metrics).total, sent, 'sum of ofa_ve_request_total = requests sent');
      assert.match(metrics, /^ofa_ve_request_total\{status_code="504",result_type="ERROR"\} [1-9]/m);
      assert.match(metrics, /^ofa_ve_inflight_requests 0$/m);
    },
  );
});
