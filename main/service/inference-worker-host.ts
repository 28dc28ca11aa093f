import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { CheckError } from '../errors.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { FromWorker, WorkerInit, WorkerItem, WorkerOutcome } from './worker-protocol.ts';

/** The worker script: the bundled one in a build, a tsx bootstrap in the source tree. */
function workerUrl(): URL {
  const built = !import.meta.url.endsWith('.ts');
  return new URL(built ? './inference-worker.js' : './inference-worker-bootstrap.mjs', import.meta.url);
}

interface PendingBatch {
  readonly resolve: (outcomes: readonly WorkerOutcome[]) => void;
  readonly reject: (error: CheckError) => void;
}

/**
 * Owns the inference worker thread: starts it, sends batches, and when it dies (a crash, an
 * out-of-memory abort, a kill in a test) fails that batch's requests with INTERNAL and starts a
 * new worker, so the service recovers without a restart. Emits 'restarted' and 'restart-failed'.
 */
export class InferenceWorkerHost extends EventEmitter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, PendingBatch>();
  private nextBatchId = 1;
  private closing = false;
  private ready = false;
  info: ModelInfo | undefined;
  restarts = 0;

  constructor(private readonly init: WorkerInit) {
    super();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Starts the worker and loads the model; rejects with the load error (MODEL_INVALID, ...). */
  start(): Promise<ModelInfo> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerUrl(), { workerData: this.init, stdout: false, stderr: false });
      this.worker = worker;
      let settled = false;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          settled = true;
          this.ready = true;
          this.info = message.info;
          resolve(message.info);
        } else if (message.type === 'load-failed') {
          settled = true;
          reject(new CheckError(message.error.code, message.error.message));
          void worker.terminate();
        } else if (message.type === 'batch-done') {
          const batch = this.pending.get(message.batchId);
          this.pending.delete(message.batchId);
          batch?.resolve(message.outcomes);
        }
      });
      worker.on('error', (err) => {
        if (!settled) {
          settled = true;
          reject(new CheckError('INTERNAL', `the inference worker failed to start: ${err.message}`));
        }
      });
      worker.on('exit', (code) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        const wasReady = this.ready;
        this.ready = false;
        this.failPending(new CheckError('INTERNAL', 'the inference worker stopped while processing this request'));
        if (!settled) {
          settled = true;
          reject(new CheckError('INTERNAL', `the inference worker exited during start-up (code ${code})`));
        }
        if (wasReady && !this.closing) this.restart();
      });
    });
  }

  private restart(): void {
    this.restarts += 1;
    this.start().then(
      () => this.emit('restarted', this.restarts),
      (err: unknown) => this.emit('restart-failed', err),
    );
  }

  private failPending(error: CheckError): void {
    for (const batch of this.pending.values()) batch.reject(error);
    this.pending.clear();
  }

  runBatch(items: readonly WorkerItem[]): Promise<readonly WorkerOutcome[]> {
    const worker = this.worker;
    if (!worker || !this.ready) {
      return Promise.reject(new CheckError('NOT_READY', 'the model is not loaded'));
    }
    const batchId = this.nextBatchId++;
    // Each image travels as its own transferable buffer (no copy on the worker side).
    const transfer: ArrayBuffer[] = [];
    const owned = items.map((item) => {
      const image = new Uint8Array(item.image);
      transfer.push(image.buffer);
      return { ...item, image };
    });
    return new Promise((resolve, reject) => {
      this.pending.set(batchId, { resolve, reject });
      worker.postMessage({ type: 'batch', batchId, items: owned }, transfer);
    });
  }

  /** For fault-injection tests: kills the worker as a crash would. */
  async killWorkerForTest(): Promise<void> {
    await this.worker?.terminate();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.failPending(new CheckError('NOT_READY', 'the service is shutting down'));
    await this.worker?.terminate();
    this.worker = undefined;
    this.ready = false;
  }
}
