import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CheckError } from '../errors.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { FromWorker, WorkerInit, WorkerItem, WorkerOutcome } from './worker-protocol.ts';

/** The worker script: the bundled one in a build, a tsx bootstrap in the source tree. */
function workerScript(): string {
  const built = !import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(built ? './inference-worker.js' : './inference-worker-bootstrap.mjs', import.meta.url));
}

interface PendingBatch {
  readonly resolve: (outcomes: readonly WorkerOutcome[]) => void;
  readonly reject: (error: CheckError) => void;
}

/**
 * Owns the inference worker process: starts it, sends batches, and when it dies (a crash, an
 * out-of-memory abort, a kill) fails that batch's requests with INTERNAL and starts a new worker,
 * so the service recovers without a restart. Emits 'restarting' (a replacement is starting),
 * 'restarted', 'restart-failed' and 'recycling'.
 * (In Electron, fork runs the script with Electron's own Node: ELECTRON_RUN_AS_NODE is set for it.)
 */
export class InferenceWorkerHost extends EventEmitter {
  private worker: ChildProcess | undefined;
  private readonly pending = new Map<number, PendingBatch>();
  private nextBatchId = 1;
  private closing = false;
  private ready = false;
  private restartingNow = false;
  info: ModelInfo | undefined;
  restarts = 0;

  constructor(private readonly init: WorkerInit) {
    super();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** True between a worker's death and its replacement's ready (or failed) start. */
  get restarting(): boolean {
    return this.restartingNow;
  }

  /** Starts the worker and loads the model; rejects with the load error (MODEL_INVALID, ...). */
  start(): Promise<ModelInfo> {
    return new Promise((resolve, reject) => {
      // stdout ignored: JSON log lines on the service's stdout must stay clean; native warnings go to stderr.
      const worker = fork(workerScript(), [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
      this.worker = worker;
      let settled = false;
      worker.send({ type: 'init', init: this.init });
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          settled = true;
          this.ready = true;
          this.info = message.info;
          resolve(message.info);
        } else if (message.type === 'load-failed') {
          settled = true;
          reject(new CheckError(message.error.code, message.error.message));
          worker.kill();
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
      worker.on('exit', (code, signal) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        const wasReady = this.ready;
        this.ready = false;
        this.failPending(new CheckError('INTERNAL', 'the inference worker stopped while processing this request'));
        if (!settled) {
          settled = true;
          reject(new CheckError('INTERNAL', `the inference worker exited during start-up (${signal ?? `code ${code}`})`));
        }
        if (wasReady && !this.closing) this.restart();
      });
    });
  }

  private restart(): void {
    this.restarts += 1;
    this.restartingNow = true;
    this.emit('restarting', this.restarts);
    this.start().then(
      () => {
        this.restartingNow = false;
        this.emit('restarted', this.restarts);
      },
      (err: unknown) => {
        this.restartingNow = false;
        this.emit('restart-failed', err);
      },
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
    return new Promise((resolve, reject) => {
      this.pending.set(batchId, { resolve, reject });
      worker.send({ type: 'batch', batchId, items }, (err) => {
        if (!err) return;
        this.pending.delete(batchId);
        reject(new CheckError('INTERNAL', `could not send the batch to the inference worker: ${err.message}`));
      });
    });
  }

  /** The worker's process id (fault-injection tests kill it from outside). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /**
   * Replaces a worker that stopped answering (a hung native call, a runaway batch): kills it, which
   * fails its batch and starts a new one, as after a crash. Emits 'recycling' with the reason.
   */
  async recycle(reason: string): Promise<void> {
    if (!this.worker) return;
    this.emit('recycling', reason);
    await stop(this.worker, 'SIGKILL');
  }

  async close(): Promise<void> {
    this.closing = true;
    this.failPending(new CheckError('NOT_READY', 'the service is shutting down'));
    const worker = this.worker;
    this.worker = undefined;
    this.ready = false;
    await stop(worker, 'SIGTERM');
  }
}

/** Signals the process and waits for it to exit (SIGKILL after 2 s if a SIGTERM is ignored). */
async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}
