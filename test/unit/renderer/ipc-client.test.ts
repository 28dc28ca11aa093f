/**
 * The desktop client's polled reads (renderer/api/ipc-client.ts) under an AbortSignal: IPC cannot
 * cancel main's work, so an abort makes the renderer stop waiting at once (an AbortError, as fetch
 * gives) and the answer that comes later is dropped. The API is the preload's `slices`, answered
 * when the test likes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OfaVeApi } from '../../../preload/api-contract.ts';
import type { Outcome, SlicesSnapshot } from '../../../preload/wire-types.ts';
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
