/**
 * The desktop client's polled reads (renderer/api/ipc-client.ts) under an AbortSignal: IPC cannot
 * cancel main's work, so an abort makes the renderer stop waiting at once (an AbortError, as fetch
 * gives) and the answer that comes later is dropped. The API is the preload's `slices`, answered
 * when the test likes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OfaVeApi } from '../../../preload/api-contract.ts';
import type { CheckResult, ModelDocument, NamedCheckPair, Outcome, SlicesSnapshot } from '../../../preload/wire-types.ts';
import { CONSOLE_BATCH } from '../../../renderer/api/batch-runner.ts';
import { serviceError } from '../../../renderer/api/console-client.ts';
import { failureOf } from '../../../renderer/api/http-client.ts';
import { IpcConsoleClient } from '../../../renderer/api/ipc-client.ts';

/** A preload `slices` whose answers the test gives: one `pending` entry per call that reached it. */
function slicesApi() {
  const pending: ((outcome: Outcome<SlicesSnapshot>) => void)[] = [];
  const api: Pick<OfaVeApi, 'slices'> = {
    slices: () => new Promise((resolve) => pending.push(resolve)),
  };
  return { client: new IpcConsoleClient(api as OfaVeApi), pending };
}

const SNAPSHOT = { attribute: 'caption_script', slices: [] } as unknown as SlicesSnapshot;

describe('IpcConsoleClient with an AbortSignal', () => {
  it('rejects with an AbortError as soon as the signal aborts, before main answers, and drops the later answer', async () => {
    const { client, pending } = slicesApi();
    const controller = new AbortController();
    const call = client.slices(60, 'caption_script', controller.signal);
    assert.equal(pending.length, 1, 'the call reached main');
    controller.abort();
    await assert.rejects(call, { name: 'AbortError' });
    pending[0]!({ ok: true, value: SNAPSHOT }); // main answers after all: nobody is waiting
  });

  it('sends nothing when the signal has aborted already', async () => {
    const { client, pending } = slicesApi();
    await assert.rejects(client.slices(60, 'caption_script', AbortSignal.abort()), { name: 'AbortError' });
    assert.equal(pending.length, 0);
  });

  it('answers as before while the signal stays quiet, and without one', async () => {
    const { client, pending } = slicesApi();
    const withSignal = client.slices(60, 'caption_script', new AbortController().signal);
    const without = client.slices(60, 'caption_script');
    pending[0]!({ ok: true, value: SNAPSHOT });
    pending[1]!({ ok: false, error: { code: 'BAD_REQUEST', message: 'no such attribute' } });
    assert.equal(await withSignal, SNAPSHOT);
    await assert.rejects(without, { name: 'ClientError', code: 'BAD_REQUEST' });
  });
});

describe('IpcConsoleClient and a service that stops (NOT_READY after the model was loaded)', () => {
  const NOT_READY = { code: 'NOT_READY', message: 'the model is not loaded' };
  const readyDoc = { ready: true } as ModelDocument;
  const pair = (i: number): NamedCheckPair<Blob> => ({ name: `${i}.png`, text: 'a cat', image: new Blob([new Uint8Array([i])]) });

  /** A preload whose model reads `modelReady` and whose `check` answers NOT_READY, counting the calls. */
  function stoppedService(modelReady: boolean) {
    let checks = 0;
    const api: Pick<OfaVeApi, 'modelInfo' | 'check'> = {
      modelInfo: async () => ({ ok: true, value: modelReady ? readyDoc : ({ ready: false } as ModelDocument) }),
      check: async () => {
        checks += 1;
        return { ok: false, error: NOT_READY };
      },
    };
    return { client: new IpcConsoleClient(api as OfaVeApi), checks: () => checks };
  }

  it('before the model was seen loaded, NOT_READY is passed on as it is (no model yet)', async () => {
    const { client } = stoppedService(false);
    await client.modelInfo();
    assert.deepEqual(await client.check(pair(1)), { ok: false, error: NOT_READY });
  });

  it('once it was, NOT_READY is SERVICE_UNAVAILABLE, as the HTTP client reports it (serviceError)', async () => {
    const { client } = stoppedService(true);
    await client.modelInfo();
    const expected = serviceError(NOT_READY, true);
    assert.deepEqual(expected, { code: 'SERVICE_UNAVAILABLE', message: 'service unavailable: the model is not loaded (restarting?)' });
    assert.deepEqual(await client.check(pair(1)), { ok: false, error: expected });
    assert.deepEqual(failureOf(503, 'Service Unavailable', { error: NOT_READY }, { modelSeenReady: true, tokenSent: false }), expected);
  });

  it('so a batch stops sending: the items not started are reported unavailable without a call', async () => {
    const { client, checks } = stoppedService(true);
    await client.modelInfo();
    const outcomes: Outcome<CheckResult>[] = [];
    const items = Array.from({ length: 20 }, (_, i) => pair(i));
    await client.checkBatch(items, { onResult: (_i, o) => outcomes.push(o), onProgress: () => {} }, new AbortController().signal);
    assert.equal(outcomes.length, 20);
    assert.ok(outcomes.every((o) => !o.ok && o.error.code === 'SERVICE_UNAVAILABLE'));
    assert.ok(checks() <= CONSOLE_BATCH.concurrency, `${checks()} checks sent, at most the ones already in flight`);
  });
});
