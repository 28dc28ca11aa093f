/**
 * A batch stopped part way, as the checker's Stop does it: the same steps for every ConsoleClient
 * (over HTTP and over IPC), so their tests check the same thing.
 */
import type { ConsoleClient } from '../../renderer/api/console-client.ts';

/** The items of the batch. */
export const CANCELLED_BATCH_SIZE = 40;

/**
 * Checks CANCELLED_BATCH_SIZE captions of `image` and aborts the batch once `stopAfter` results are
 * in; returns how many results came in all.
 */
export async function runCancelledBatch(client: Pick<ConsoleClient, 'checkBatch'>, image: Blob, stopAfter = 2): Promise<number> {
  const items = Array.from({ length: CANCELLED_BATCH_SIZE }, (_, i) => ({ name: `x${i}.png`, image, text: `caption ${i}` }));
  const controller = new AbortController();
  let results = 0;
  const handlers = {
    onResult: () => {
      results += 1;
      if (results === stopAfter) controller.abort();
    },
    onProgress: () => undefined,
  };
  await client.checkBatch(items, handlers, controller.signal);
  return results;
}
