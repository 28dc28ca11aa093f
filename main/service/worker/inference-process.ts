import { toCheckError } from '../../errors.ts';
import { EntailmentEngine, PairPreparer } from '../../inference/entailment-engine.ts';
import { resizeBackend } from '../../inference/pil-bicubic-resize.ts';
import { guardStdio, writeIfOpen } from '../../logging/stdio-guard.ts';
import { modelPlacement, preprocessThreads, preprocessThreadsBeforeSession } from '../preprocess/preprocess-plan.ts';
import { preparedInline, PreprocessPool } from '../preprocess/preprocess-pool.ts';
import type { FromWorker, ToWorker, WorkerInit } from '../worker-protocol.ts';
import { lowerOwnPriority } from '../worker-priority.ts';
import { BatchPipeline } from './batch-pipeline.ts';
import { SimulatedAccelerator } from './simulated-accelerator.ts';

/**
 * The inference worker process: preprocessing (in its pool of threads, or itself in the serial
 * design) and the onnxruntime run happen here, so the service's event loop stays free for HTTP,
 * /metrics and the UI while the model is saturated. A process rather than a thread: onnxruntime-node
 * aborts the whole process when a thread is terminated during a run, and a native crash here must
 * not take the service with it. The service does the batching; batches run here one at a time.
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

/** Where a preprocessing thread that died could not be replaced: without its pool the worker cannot keep up. */
function poolLost(err: Error): never {
  writeIfOpen(process.stderr, `inference worker: a preprocessing thread could not be replaced: ${err.message}\n`);
  // The service sees the exit and starts a new worker.
  process.exit(70);
}

async function load(init: WorkerInit): Promise<{ pipeline: BatchPipeline; preprocessThreads: number }> {
  const simulated = init.simulateAccelerator;
  // The service's close (SIGTERM) ends the process through its 'exit' handlers, which remove the
  // profiler's temporary files (inference/sampled-profiling.ts); without profiling the default stays.
  if ((init.profileSampleRate ?? 0) > 0) process.once('SIGTERM', () => process.exit(0));
  const preparer = await PairPreparer.load(init.modelDir, init.limits);
  const placement = modelPlacement(init.provider, !!simulated);
  // The threads run this process's own script (the entry picks their role), so a build needs no second file.
  const startPool = (threads: number) =>
    threads > 0
      ? PreprocessPool.start(threads, preparer.source, { script: process.argv[1] as string, takeImages: true, onFatal: poolLost })
      : Promise.resolve(undefined);
  // Where the size is known already, the threads start while the session opens (both take a while).
  const early = preprocessThreadsBeforeSession(init.preprocessWorkers, placement);
  const pool = early === undefined ? undefined : startPool(early);
  const engine = EntailmentEngine.load(init.modelDir, {
    provider: init.provider,
    limits: init.limits,
    intraOpThreads: init.intraOpThreads,
    profileSampleRate: init.profileSampleRate,
    preparer,
    runner: simulated ? (answers) => new SimulatedAccelerator(simulated, answers) : undefined,
  });
  const [loadedPool, loadedEngine] = await Promise.allSettled([pool, engine]);
  if (loadedEngine.status === 'rejected') {
    if (loadedPool.status === 'fulfilled') await loadedPool.value?.close();
    throw loadedEngine.reason;
  }
  if (loadedPool.status === 'rejected') throw loadedPool.reason;
  // 'auto' with a session that may or may not have got a GPU: sized now that it is known.
  const threads = early ?? preprocessThreads(init.preprocessWorkers, loadedEngine.value.info.provider === 'cpu', placement.cores);
  const rows = loadedPool.value ?? (early === undefined ? await startPool(threads) : undefined);
  // Without a pool the service sends one batch at a time: it needs no word that a batch has started.
  const pipeline = new BatchPipeline(loadedEngine.value, rows ?? preparedInline(preparer), send, { announceStarts: rows !== undefined });
  return { pipeline, preprocessThreads: threads };
}

let pipeline: BatchPipeline | undefined;
process.on('message', (message: ToWorker) => {
  if (message.type === 'init') {
    load(message.init).then(
      (loaded) => {
        pipeline = loaded.pipeline;
        // After loading, so that start-up runs at full speed; every thread that onnxruntime and the
        // preprocessing pool have started by now is lowered too (worker-priority.ts).
        const notLowered = lowerOwnPriority(message.init.niceness ?? 0);
        if (notLowered) writeIfOpen(process.stderr, `inference worker: priority not lowered: ${notLowered}\n`);
        send({ type: 'ready', info: pipeline.info, preprocessThreads: loaded.preprocessThreads, resize: resizeBackend() });
      },
      (err: unknown) => send({ type: 'load-failed', error: toCheckError(err).toJSON() }),
    );
    return;
  }
  if (message.type === 'batch') {
    if (pipeline) {
      pipeline.accept(message.batchId, message.items);
      return;
    }
    // The host sends batches only once 'ready' has come; answer anyway rather than drop them.
    const error = { code: 'NOT_READY', message: 'the model is not loaded yet' } as const;
    send({ type: 'batch-done', batchId: message.batchId, outcomes: message.items.map(() => ({ ok: false, error })) });
  }
});
