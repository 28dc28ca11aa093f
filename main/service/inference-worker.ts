import { parentPort, workerData } from 'node:worker_threads';
import { toCheckError } from '../errors.ts';
import { EntailmentEngine, type PreparedPair } from '../inference/entailment-engine.ts';
import type { FromWorker, ToWorker, WorkerInit, WorkerOutcome } from './worker-protocol.ts';

/**
 * The inference worker thread: image decoding and resizing (CPU-bound JavaScript) and the
 * onnxruntime run happen here, so the main thread's event loop stays free for HTTP, /metrics and
 * the UI while the model is saturated. One batch at a time; the service does the batching.
 */
const port = parentPort;
if (!port) throw new Error('inference-worker must run in a worker thread');
const send = (message: FromWorker): void => port.postMessage(message);

async function runBatch(engine: EntailmentEngine, items: ToWorker['items']): Promise<WorkerOutcome[]> {
  const prepared = await Promise.all(
    items.map((item) =>
      engine.prepare(item).then(
        (pair): { pair: PreparedPair } => ({ pair }),
        (err: unknown): { error: WorkerOutcome } => ({ error: { ok: false, error: toCheckError(err).toJSON() } }),
      ),
    ),
  );
  const runnable = prepared.flatMap((p) => ('pair' in p ? [p.pair] : []));
  let results: WorkerOutcome[];
  try {
    results = (await engine.run(runnable)).map((result) => ({ ok: true, result }));
  } catch (err) {
    const error = toCheckError(err).toJSON();
    results = runnable.map(() => ({ ok: false, error }));
  }
  let next = 0;
  return prepared.map((p) => ('pair' in p ? (results[next++] as WorkerOutcome) : p.error));
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  let engine: EntailmentEngine;
  try {
    engine = await EntailmentEngine.load(init.modelDir, {
      provider: init.provider,
      limits: init.limits,
      intraOpThreads: init.intraOpThreads,
    });
  } catch (err) {
    send({ type: 'load-failed', error: toCheckError(err).toJSON() });
    return;
  }
  port!.on('message', (message: ToWorker) => {
    if (message.type !== 'batch') return;
    void runBatch(engine, message.items).then((outcomes) =>
      send({ type: 'batch-done', batchId: message.batchId, outcomes }),
    );
  });
  send({ type: 'ready', info: engine.info });
}

void main();
