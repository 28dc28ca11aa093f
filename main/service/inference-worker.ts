import { toCheckError } from '../errors.ts';
import { EntailmentEngine, type PreparedPair } from '../inference/entailment-engine.ts';
import { guardStdio, writeIfOpen } from '../logging/stdio-guard.ts';
import type { FromWorker, ToWorker, WorkerOutcome } from './worker-protocol.ts';
import { lowerOwnPriority } from './worker-priority.ts';

/**
 * The inference worker process: image decoding and resizing (CPU-bound JavaScript) and the
 * onnxruntime run happen here, so the service's event loop stays free for HTTP, /metrics and the
 * UI while the model is saturated. A process rather than a thread: onnxruntime-node aborts the
 * whole process when a thread is terminated during a run, and a native crash here must not take
 * the service with it. One batch at a time; the service does the batching.
 */
if (!process.send) throw new Error('inference-worker must be started with an IPC channel (child_process.fork)');
const send = (message: FromWorker): void => {
  if (process.connected) process.send!(message);
};
// The worker shares the service's stderr: a closed pipe there must not kill it either.
guardStdio();
// The service went away (crash, kill): nothing left to answer to.
process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the whole process group: the parent decides when the worker stops
// (it drains, then close() sends SIGTERM), so the checks in flight are answered, not failed.
process.on('SIGINT', () => {});

async function runBatch(engine: EntailmentEngine, items: Extract<ToWorker, { type: 'batch' }>['items']): Promise<WorkerOutcome[]> {
  const prepared = await Promise.all(
    items.map((item) =>
      engine.prepare({ ...item, image: toBytes(item.image) }).then(
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

/** The advanced IPC serialisation delivers a Uint8Array, or a Buffer; either is fine for sharp. */
function toBytes(image: Uint8Array): Uint8Array {
  return image instanceof Uint8Array ? image : new Uint8Array(image as ArrayLike<number>);
}

let engine: EntailmentEngine | undefined;
process.on('message', (message: ToWorker) => {
  if (message.type === 'init') {
    EntailmentEngine.load(message.init.modelDir, {
      provider: message.init.provider,
      limits: message.init.limits,
      intraOpThreads: message.init.intraOpThreads,
    }).then(
      (loaded) => {
        engine = loaded;
        // After loading, so that start-up runs at full speed; every thread that onnxruntime has
        // started by now is lowered too (worker-priority.ts).
        const notLowered = lowerOwnPriority(message.init.niceness ?? 0);
        if (notLowered) writeIfOpen(process.stderr, `inference worker: priority not lowered: ${notLowered}\n`);
        send({ type: 'ready', info: loaded.info });
      },
      (err: unknown) => send({ type: 'load-failed', error: toCheckError(err).toJSON() }),
    );
    return;
  }
  if (message.type === 'batch' && engine) {
    const loaded = engine;
    void runBatch(loaded, message.items).then((outcomes) => send({ type: 'batch-done', batchId: message.batchId, outcomes }));
  }
});
