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
import { CANCELLED_BATCH_SIZE, runCancelledBatch } from '../support/cancelled-batch.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

/** The preload's `check` and main's `check:run` handler in one: what a window's call reaches. */
function ipcCheck(runtime: ServiceRuntime, seen: string[] = []): Pick<OfaVeApi, 'check'> {
  return {
    async check(request) {
      try {
        const value = await runtime.checkStructured(structuredClone(request));
        seen.push('ok');
        return { ok: true, value };
      } catch (err) {
        const error = toCheckError(err).toJSON();
        seen.push(error.code);
        return { ok: false, error };
      }
    },
  };
}

/** Only `check` is reached by a batch; the rest of the API belongs to the window. */
const clientOver = (api: Pick<OfaVeApi, 'check'>) => new IpcConsoleClient(api as OfaVeApi);

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

const code = (o: Outcome<CheckResult> | undefined) => (o && !o.ok ? o.error.code : undefined);

describe('desktop client batch (IpcConsoleClient) over the IPC check against the real service', () => {
  let runtime: ServiceRuntime;

  before(async () => {
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger, batching: { maxBatchSize: 4 } });
    assert.ok(await runtime.start(), 'the demo model loads');
  });
  after(async () => {
    await runtime.close(2000);
  });

  it('answers every item, a file that cannot be read as a bad image of its own, with progress to the end', async () => {
    const items: NamedCheckPair<Blob>[] = [
      { name: 'a.png', image: await png(1), text: 'a green field' },
      { name: 'gone.png', image: new UnreadableFile([]), text: 'anything' },
      { name: 'broken.png', image: new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])]), text: 'anything' },
      { name: 'b.png', image: await png(2), text: 'two dogs', premise: 'a park' },
      { name: 'c.png', image: await png(3), text: '' },
    ];
    const { outcomes, progress } = await runBatch(clientOver(ipcCheck(runtime)), items);
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
    const seen: string[] = [];
    const results = await runCancelledBatch(clientOver(ipcCheck(runtime, seen)), await png(4));
    assert.ok(results >= 2 && results < CANCELLED_BATCH_SIZE, `stopped after ${results}`);
    assert.ok(seen.length < CANCELLED_BATCH_SIZE, `${seen.length} sent`);
  });
});

describe('desktop client batch against a service with a queue of one', () => {
  let runtime: ServiceRuntime;

  before(async () => {
    runtime = new ServiceRuntime({
      modelDir: DEMO_MODEL_DIR,
      provider: 'cpu',
      logger: silentLogger,
      batching: { maxBatchSize: 1, maxQueueSize: 1 },
    });
    assert.ok(await runtime.start(), 'the demo model loads');
  });
  after(async () => {
    await runtime.close(2000);
  });

  it("sends an OVERLOADED item again after the service's retry delay, until it is answered", async () => {
    const image = await png(5);
    const items = Array.from({ length: 8 }, (_, i) => ({ name: `q${i}.png`, image, text: `caption ${i}` }));
    const seen: string[] = [];
    const { outcomes } = await runBatch(clientOver(ipcCheck(runtime, seen)), items);
    assert.ok(seen.includes('OVERLOADED'), `the service refused some (it answered ${seen.join(' ')})`);
    assert.deepEqual(
      [...outcomes.values()].map((o) => o.ok),
      items.map(() => true),
    );
  });
});
