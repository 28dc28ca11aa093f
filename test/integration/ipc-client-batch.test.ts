/**
 * The desktop client's batch (IpcConsoleClient.checkBatch): the loop runs in the renderer, one
 * `check` per item over the preload's API, as the browser client's does over HTTP. The API here is
 * what the preload and main do with `check:run` (structured clone, `ServiceRuntime.checkStructured`,
 * a failure as `{ ok: false, error }`) in front of the real service; the Electron wrapper around
 * it is tested where an Electron binary runs (test/e2e/electron-shell.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { toCheckError } from '../../main/errors.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import type { OfaVeApi } from '../../preload/api-contract.ts';
import type { CheckResult, NamedCheckPair, Outcome } from '../../preload/wire-types.ts';
import type { BatchProgress } from '../../renderer/api/console-client.ts';
import { IpcConsoleClient } from '../../renderer/api/ipc-client.ts';
import { IpcChecks } from '../../main/electron/ipc-checks.ts';
import { CANCELLED_BATCH_SIZE, runCancelledBatch } from '../support/cancelled-batch.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

/**
 * The preload's `check` and `cancelCheck` and main's `check:run` and `check:cancel` handlers in one
 * (IpcChecks over ServiceRuntime.checkStructured, for one window): what a window's calls reach.
 */
function ipcApi(runtime: ServiceRuntime, seen: string[] = []): Pick<OfaVeApi, 'check' | 'cancelCheck'> & { checks: IpcChecks } {
  const window = {};
  const checks = new IpcChecks(async (request, signal) => {
    try {
      const value = await runtime.checkStructured(request, signal);
      seen.push('ok');
      return value;
    } catch (err) {
      seen.push(toCheckError(err).code);
      throw err;
    }
  });
  const outcome = async <T>(work: () => Promise<T>): Promise<Outcome<T>> => {
    try {
      return { ok: true, value: await work() };
    } catch (err) {
      return { ok: false, error: toCheckError(err).toJSON() };
    }
  };
  return {
    checks,
    check: (request) => outcome(() => checks.check(window, structuredClone(request))),
    cancelCheck: (checkId) => outcome(async () => ({ cancelled: checks.cancel(window, checkId) })),
  };
}

/** Only `check` and `cancelCheck` are reached by a batch; the rest of the API belongs to the window. */
const clientOver = (api: Pick<OfaVeApi, 'check' | 'cancelCheck'>) => new IpcConsoleClient(api as OfaVeApi);

async function png(seed: number): Promise<Blob> {
  const background = { r: (seed * 70) % 255, g: 120, b: 90 };
  const bytes = await sharp({ create: { width: 120 + seed * 10, height: 90, channels: 3, background } })
    .png()
    .toBuffer();
  return new Blob([new Uint8Array(bytes)], { type: 'image/png' });
}

/** A dropped file that can no longer be read (deleted or moved after the drop). */
class UnreadableFile extends Blob {
  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.reject(new Error('NotReadableError: the file was removed'));
  }
}

async function runBatch(client: IpcConsoleClient, items: NamedCheckPair<Blob>[], signal = new AbortController().signal) {
  const outcomes = new Map<number, Outcome<CheckResult>>();
  const progress: BatchProgress[] = [];
  await client.checkBatch(items, { onResult: (i, o) => outcomes.set(i, o), onProgress: (p) => progress.push(p) }, signal);
  return { outcomes, progress };
}

/** ofa_ve_request_total by status code, as Prometheus would scrape it (the zeros left out). */
async function byStatus(runtime: ServiceRuntime): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of (await runtime.metrics.registry.getSingleMetric('ofa_ve_request_total')!.get()).values) {
    if (value > 0) out[String(labels.status_code)] = (out[String(labels.status_code)] ?? 0) + value;
  }
  return out;
}

/** A service on the demo model for the tests of one describe block, with these batching settings. */
function demoService(batching: ConstructorParameters<typeof ServiceRuntime>[0]['batching']): () => ServiceRuntime {
  let runtime: ServiceRuntime | undefined;
  before(async () => {
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger, batching });
    assert.ok(await runtime.start(), 'the demo model loads');
  });
  after(async () => {
    await runtime?.close(2000);
  });
  return () => {
    assert.ok(runtime, 'the service started');
    return runtime;
  };
}

const code = (o: Outcome<CheckResult> | undefined) => (o && !o.ok ? o.error.code : undefined);

describe('desktop client batch (IpcConsoleClient) over the IPC check against the real service', () => {
  const service = demoService({ maxBatchSize: 4 });

  it('answers every item, a file that cannot be read as a bad image of its own, with progress to the end', async () => {
    const runtime = service();
    const items: NamedCheckPair<Blob>[] = [
      { name: 'a.png', image: await png(1), text: 'a green field' },
      { name: 'gone.png', image: new UnreadableFile([]), text: 'anything' },
      { name: 'broken.png', image: new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])]), text: 'anything' },
      { name: 'b.png', image: await png(2), text: 'two dogs', premise: 'a park' },
      { name: 'c.png', image: await png(3), text: '' },
    ];
    const { outcomes, progress } = await runBatch(clientOver(ipcApi(runtime)), items);
    assert.equal(outcomes.size, 5);
    assert.ok(outcomes.get(0)?.ok);
    const unreadable = outcomes.get(1);
    assert.equal(code(unreadable), 'INVALID_IMAGE');
    assert.match(unreadable && !unreadable.ok ? unreadable.error.message : '', /^gone\.png: the file could not be read/);
    assert.equal(code(outcomes.get(2)), 'INVALID_IMAGE');
    assert.ok(outcomes.get(3)?.ok);
    assert.equal(code(outcomes.get(4)), 'EMPTY_TEXT');
    const last = progress.at(-1)!;
    assert.deepEqual({ done: last.done, total: last.total, failed: last.failed }, { done: 5, total: 5, failed: 3 });
  });

  it('stops at cancel: items not started are not sent', async () => {
    const runtime = service();
    const seen: string[] = [];
    const results = await runCancelledBatch(clientOver(ipcApi(runtime, seen)), await png(4));
    assert.ok(results >= 2 && results < CANCELLED_BATCH_SIZE, `stopped after ${results}`);
    assert.ok(seen.length < CANCELLED_BATCH_SIZE, `${seen.length} sent`);
  });
});

describe('desktop client batch against a service with a queue of one', () => {
  const service = demoService({ maxBatchSize: 1, maxQueueSize: 1 });

  it("sends an OVERLOADED item again after the service's retry delay, until it is answered", async () => {
    const runtime = service();
    const image = await png(5);
    const items = Array.from({ length: 8 }, (_, i) => ({ name: `q${i}.png`, image, text: `caption ${i}` }));
    const seen: string[] = [];
    const { outcomes } = await runBatch(clientOver(ipcApi(runtime, seen)), items);
    assert.ok(seen.includes('OVERLOADED'), `the service refused some (it answered ${seen.join(' ')})`);
    assert.deepEqual(
      [...outcomes.values()].map((o) => o.ok),
      items.map(() => true),
    );
  });
});

describe('desktop client batch cancelled while checks wait in main', () => {
  const service = demoService({ maxBatchSize: 1 });

  it('drops a queued check from the service when the page cancels it, counted 499 as an aborted fetch is', async () => {
    const runtime = service();
    const seen: string[] = [];
    const api = ipcApi(runtime, seen);
    const image = await png(6);
    const items = [
      { name: 'held.png', image, text: 'held in the stopped worker' },
      { name: 'queued.png', image, text: 'abandoned in the queue' },
    ];
    const before = await byStatus(runtime);
    const controller = new AbortController();
    const worker = runtime.workerHost.pid!;
    // A stopped worker holds the first check in its batch (of one); the second waits in the queue.
    process.kill(worker, 'SIGSTOP');
    let batch: ReturnType<typeof runBatch> | undefined;
    try {
      batch = runBatch(clientOver(api), items, controller.signal);
      const deadline = Date.now() + 10_000;
      while (runtime.service.queueDepth !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(runtime.service.queueDepth, 1, 'the second check is queued');
      controller.abort();
      const { outcomes } = await batch;
      assert.deepEqual([code(outcomes.get(0)), code(outcomes.get(1))], ['CANCELLED', 'CANCELLED'], 'the page stops waiting at once');
      assert.equal(runtime.service.queueDepth, 0, 'the cancelled check left the queue');
      assert.deepEqual(seen, ['CLIENT_CLOSED_REQUEST'], 'main dropped it before it ran');
    } finally {
      process.kill(worker, 'SIGCONT');
    }
    const deadline = Date.now() + 10_000;
    while (api.checks.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(api.checks.size, 0, 'nothing is left in flight in main');
    // The check already in the model ran to its end (the work was done) and was counted as what it answered.
    assert.deepEqual(seen, ['CLIENT_CLOSED_REQUEST', 'ok']);
    assert.deepEqual(
      await byStatus(runtime),
      { ...before, 200: (before[200] ?? 0) + 1, 499: (before[499] ?? 0) + 1 },
      'both checks are counted, once each',
    );
  });

  it("cancels every check of a window that goes (reload, close), and only that window's", async () => {
    const runtime = service();
    const api = ipcApi(runtime);
    const bytes = new Uint8Array(await (await png(7)).arrayBuffer());
    const [gone, other] = [{}, {}];
    const send = (window: object, i: number) =>
      api.checks.check(window, { image: bytes, name: `w${i}.png`, text: `caption ${i}`, checkId: `c${i}` }).then(
        () => 'ok',
        (err: unknown) => toCheckError(err).code,
      );
    const worker = runtime.workerHost.pid!;
    process.kill(worker, 'SIGSTOP');
    let answers: Promise<string>[] = [];
    try {
      answers = [send(gone, 0), send(gone, 1), send(gone, 2), send(other, 0)];
      const deadline = Date.now() + 10_000;
      while (runtime.service.queueDepth !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(runtime.service.queueDepth, 3, 'one check in the stopped worker, three queued');
      assert.equal(api.checks.cancel(other, 'c1'), false, 'a window cannot cancel what it did not send');
      api.checks.cancelAll(gone);
      assert.equal(runtime.service.queueDepth, 1, "only the other window's check is left in the queue");
    } finally {
      process.kill(worker, 'SIGCONT');
    }
    assert.deepEqual(await Promise.all(answers), ['ok', 'CLIENT_CLOSED_REQUEST', 'CLIENT_CLOSED_REQUEST', 'ok']);
    assert.equal(api.checks.size, 0);
  });
});
