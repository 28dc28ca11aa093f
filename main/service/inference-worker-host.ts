import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { CheckError } from '../errors.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { ResizeBackend } from '../inference/pil-bicubic-resize.ts';
import type { BatchHooks, InferenceBackend } from './inference-backend.ts';
import { modelPlacement, mostPreprocessThreads } from './preprocess/preprocess-plan.ts';
import type { FromWorker, WorkerInit, WorkerItem, WorkerOutcome } from './worker-protocol.ts';

/** The worker script: the bundled one in a build, a tsx bootstrap in the source tree. */
function workerScript(): string {
  const built = !import.meta.url.endsWith('.ts');
  return fileURLToPath(new URL(built ? './inference-worker.js' : './inference-worker-bootstrap.mjs', import.meta.url));
}

/** How a worker that died is replaced, and how long a model load may take. */
export interface RestartPolicy {
  /** Wait before the second attempt after a failed start; it doubles with each failure, jittered ±25%. */
  readonly initialDelayMs: number;
  /** The longest wait between attempts. */
  readonly maxDelayMs: number;
  /**
   * Failed attempts in a row after which the host declares that it cannot recover by itself
   * (liveness fails, queued checks are refused); it still retries every maxDelayMs.
   */
  readonly failuresBeforeGivingUp: number;
  /** A worker that has not loaded the model by then is killed and the attempt fails. */
  readonly loadTimeoutMs: number;
}

/**
 * V8 flags of the inference worker process. Single-threaded GC: V8's parallel GC helpers are shared
 * by the process's isolates, so each preprocessing thread's collections took cores from the other
 * threads; with two threads on two pinned cores this flag gave a median x1.26 more pairs/s
 * (bench/pool-scaling-child.ts, five alternating runs) and no change with one thread.
 */
export const WORKER_EXEC_ARGV: readonly string[] = ['--single-threaded-gc'];

/**
 * The inference worker process's environment. Its preprocessing threads decode in libuv's pool,
 * which is one per process (4 threads unless UV_THREADPOOL_SIZE says otherwise): one libuv thread
 * per preprocessing thread lets N threads decode N images at once on a many-core GPU box (4 would
 * cap decoding at 4 cores), and on 2 cores fewer runnable threads than 4 + 2 gave a median x1.13
 * more pairs/s (bench/pool-scaling-child.ts, alternating runs). The serial design chosen up front (0
 * threads; auto with --provider cpu, or auto without onnxruntime's CUDA provider) keeps libuv's
 * default, as does a UV_THREADPOOL_SIZE the user set. The size is fixed when the process starts, so
 * auto with CUDA installed, which learns only from the open session whether it got the GPU, is
 * sized for the pool it may get (one per core).
 */
export function workerEnv(preprocessThreads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (preprocessThreads < 1 || env.UV_THREADPOOL_SIZE !== undefined) return env;
  return { ...env, UV_THREADPOOL_SIZE: String(Math.min(preprocessThreads, 1024)) };
}

/**
 * 0.1 s doubling to 5 s: a crash or a fork that failed for want of file descriptors is retried at
 * once, a crash loop settles at one attempt every 5 s. Ten failures in a row (about 20 s of
 * waiting) means the service will not come back by itself. 120 s to load: a real OFA-Large on CPU
 * verifies a 1.8 GB checksum and builds its session in well under a minute on a slow disk.
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 5000,
  failuresBeforeGivingUp: 10,
  loadTimeoutMs: 120_000,
};

/** The wait before the next attempt after `failures` failed ones in a row. */
export function restartDelayMs(failures: number, policy: RestartPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(Math.min(policy.maxDelayMs, base * (0.75 + 0.5 * random())));
}

/** A replacement worker's start that failed, as the 'restart-attempt-failed' event reports it. */
export interface FailedRestart {
  readonly error: CheckError;
  /** Failed attempts in a row, this one included. */
  readonly failures: number;
  /** When the next attempt starts; undefined when there is none (the model directory is invalid). */
  readonly retryInMs: number | undefined;
}

interface PendingBatch {
  readonly resolve: (outcomes: readonly WorkerOutcome[]) => void;
  readonly reject: (error: CheckError) => void;
  readonly hooks?: BatchHooks;
}

type Phase = 'idle' | 'starting' | 'ready' | 'restarting' | 'failing' | 'stopped';

/**
 * Owns the inference worker process: starts it, sends batches (two at a time when it has a
 * preprocessing pool: one runs while the next is prepared), and when it dies (a crash, an
 * out-of-memory abort, a kill) fails the requests of the batches in it with INTERNAL and starts a
 * new worker, so the service recovers without a restart. A replacement that cannot start (fork fails, it dies
 * or hangs while loading) is retried with backoff; after failuresBeforeGivingUp failures in a row
 * the host is 'failing' (it cannot recover by itself) and keeps retrying at the longest delay. A
 * model directory that has become invalid is not retried: loading it again cannot succeed.
 *
 * Events: 'restarting' (restarts so far; one per replacement attempt, once its process exists),
 * 'restarted', 'restart-attempt-failed' (FailedRestart), 'restart-failed' (the error: no worker will
 * answer soon: invalid model, or failing), 'recycling' (reason).
 * (In Electron, fork runs the script with Electron's own Node: ELECTRON_RUN_AS_NODE is set for it.)
 */
export class InferenceWorkerHost extends EventEmitter implements InferenceBackend {
  private worker: ChildProcess | undefined;
  private readonly pending = new Map<number, PendingBatch>();
  /**
   * Answered batches whose profile follows ('batch-done' with profileFollows): their hooks until
   * the 'batch-profile' comes, or their worker exits. The worker sends one for each such batch right
   * after reading it, so only the one or two latest batches are ever here.
   */
  private readonly awaitingProfile = new Map<number, { readonly worker: ChildProcess; readonly hooks?: BatchHooks }>();
  private nextBatchId = 1;
  private closing = false;
  private phase: Phase = 'idle';
  private failuresInARow = 0;
  private lastFailure: CheckError | undefined;
  private backoff: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  private readonly policy: RestartPolicy;
  info: ModelInfo | undefined;
  private threads: number | undefined;
  /** The loaded worker's resize (OFA_VE_RESIZE); undefined until one has loaded. */
  resize: ResizeBackend | undefined;
  /** Replacement workers started (attempts, whether or not they came up). */
  restarts = 0;

  /**
   * `env`: variables added to each worker's environment, replacements included (the pipeline
   * bench runs one service with OFA_VE_RESIZE=js beside others without it).
   */
  constructor(
    private readonly init: WorkerInit,
    policy: Partial<RestartPolicy> = {},
    private readonly env: Readonly<Record<string, string>> = {},
  ) {
    super();
    this.policy = { ...DEFAULT_RESTART_POLICY, ...policy };
  }

  /** With a preprocessing pool the worker prepares the next batch while one runs; without, one at a time. */
  get pipelineDepth(): number {
    return (this.threads ?? 0) > 0 ? 2 : 1;
  }

  /** The loaded worker's preprocessing threads (0: the serial design); undefined until one has loaded. */
  get preprocessThreads(): number | undefined {
    return this.threads;
  }

  /** A worker is loaded and answering. */
  get isReady(): boolean {
    return this.phase === 'ready';
  }

  /** A replacement is on its way (starting, or waiting to retry): checks may wait for it. */
  get restarting(): boolean {
    return this.phase === 'restarting';
  }

  /**
   * Set while replacement starts keep failing (failuresBeforeGivingUp in a row): the service cannot
   * recover by itself, so an orchestrator should restart it. Cleared when a replacement is ready.
   */
  get failing(): { readonly failures: number; readonly error: CheckError; readonly retryEveryMs: number } | undefined {
    if (this.phase !== 'failing' || !this.lastFailure) return undefined;
    return { failures: this.failuresInARow, error: this.lastFailure, retryEveryMs: this.policy.maxDelayMs };
  }

  /** The first start: loads the model once; rejects with the load error (MODEL_INVALID, ...). */
  async start(): Promise<ModelInfo> {
    this.phase = 'starting';
    try {
      const info = await this.launch(false);
      this.phase = 'ready';
      return info;
    } catch (err) {
      if (this.phase === 'starting') this.phase = 'stopped';
      throw err;
    }
  }

  /**
   * Forks a worker and resolves once it has loaded the model. Every failure rejects with a
   * CheckError and leaves no process behind: fork throwing, fork's asynchronous 'error' (EMFILE,
   * EAGAIN: no process and no IPC channel), an exit while loading, a load that fails or runs past
   * loadTimeoutMs. The listeners are attached before anything is sent.
   */
  private launch(isRestart: boolean): Promise<ModelInfo> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let worker: ChildProcess | undefined;
      const fail = (error: CheckError) => {
        if (settled) return;
        settled = true;
        clearTimeout(loadTimer);
        if (worker && this.worker === worker) this.worker = undefined;
        if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
        reject(error);
      };
      const loadTimer = setTimeout(() => {
        const ms = this.policy.loadTimeoutMs;
        const limit = ms < 10_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
        fail(new CheckError('TIMEOUT', `the inference worker did not load the model within ${limit} (--model-load-timeout-ms)`));
      }, this.policy.loadTimeoutMs);
      loadTimer.unref();
      if (isRestart) this.restarts += 1;
      try {
        // stdout ignored: JSON log lines on the service's stdout must stay clean; native warnings go to stderr.
        worker = fork(workerScript(), [], {
          serialization: 'advanced',
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
          execArgv: [...WORKER_EXEC_ARGV],
          env: workerEnv(
            mostPreprocessThreads(
              this.init.preprocessWorkers,
              modelPlacement(this.init.provider, this.init.simulateAccelerator !== undefined),
            ),
            { ...process.env, ...this.env },
          ),
        });
      } catch (err) {
        fail(new CheckError('INTERNAL', `the inference worker could not be started: ${(err as Error).message}`));
        if (isRestart) this.emit('restarting', this.restarts);
        return;
      }
      const child = worker;
      this.worker = child;
      // After a start, an 'error' means a signal or a message could not be delivered: the exit
      // handler deals with a worker that is gone, and a send reports through its own callback.
      child.on('error', (err) => fail(new CheckError('INTERNAL', `the inference worker could not be started: ${err.message}`)));
      child.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          if (settled) return;
          settled = true;
          clearTimeout(loadTimer);
          this.info = message.info;
          this.threads = message.preprocessThreads;
          this.resize = message.resize;
          resolve(message.info);
        } else if (message.type === 'load-failed') {
          fail(new CheckError(message.error.code, message.error.message));
        } else if (message.type === 'batch-started') {
          this.pending.get(message.batchId)?.hooks?.onStarted?.();
        } else if (message.type === 'pair-refused') {
          this.pending.get(message.batchId)?.hooks?.onRefused?.(message.index, message.error);
        } else if (message.type === 'batch-done') {
          const batch = this.pending.get(message.batchId);
          this.pending.delete(message.batchId);
          if (batch && message.profileFollows) this.awaitingProfile.set(message.batchId, { worker: child, hooks: batch.hooks });
          batch?.resolve(message.outcomes);
        } else if (message.type === 'batch-profile') {
          const batch = this.awaitingProfile.get(message.batchId);
          this.awaitingProfile.delete(message.batchId);
          if (message.operators) batch?.hooks?.onProfile?.(message.operators);
        }
      });
      child.on('exit', (code, signal) => {
        const current = this.worker === child;
        if (current) this.worker = undefined;
        // Profiles it had not sent yet will never come.
        for (const [batchId, awaiting] of this.awaitingProfile) if (awaiting.worker === child) this.awaitingProfile.delete(batchId);
        if (!settled) {
          fail(new CheckError('INTERNAL', `the inference worker exited while loading the model (${signal ?? `code ${code}`})`));
          return;
        }
        if (!current) return;
        this.failPending(new CheckError('INTERNAL', 'the inference worker stopped while processing this request'));
        if (this.phase === 'ready' && !this.closing) void this.replace();
      });
      if (isRestart) this.emit('restarting', this.restarts);
      // A failed spawn has no IPC channel: its 'error' (next tick) fails the attempt.
      if (child.connected) {
        child.send({ type: 'init', init: this.init }, (err) => {
          if (err) fail(new CheckError('INTERNAL', `the inference worker could not be started: ${err.message}`));
        });
      }
    });
  }

  /** Starts replacements until one is ready, the model directory turns out invalid, or close(). */
  private async replace(): Promise<void> {
    this.phase = 'restarting';
    this.failuresInARow = 0;
    for (;;) {
      let error: CheckError;
      try {
        await this.launch(true);
        if (this.closing) return;
        this.phase = 'ready';
        this.failuresInARow = 0;
        this.lastFailure = undefined;
        this.emit('restarted', this.restarts);
        return;
      } catch (err) {
        if (this.closing) return;
        error = err instanceof CheckError ? err : new CheckError('INTERNAL', String(err));
      }
      this.failuresInARow += 1;
      this.lastFailure = error;
      const invalid = error.code === 'MODEL_INVALID';
      const retryInMs = invalid ? undefined : restartDelayMs(this.failuresInARow, this.policy);
      this.emit('restart-attempt-failed', { error, failures: this.failuresInARow, retryInMs } satisfies FailedRestart);
      if (invalid) {
        this.phase = 'stopped';
        this.emit('restart-failed', error);
        return;
      }
      if (this.failuresInARow === this.policy.failuresBeforeGivingUp) {
        this.phase = 'failing';
        this.emit('restart-failed', error);
      }
      await this.sleep(retryInMs as number);
      if (this.closing) return;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.backoff = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.backoff = { timer, wake };
    });
  }

  private failPending(error: CheckError): void {
    for (const batch of this.pending.values()) batch.reject(error);
    this.pending.clear();
  }

  runBatch(items: readonly WorkerItem[], hooks?: BatchHooks): Promise<readonly WorkerOutcome[]> {
    const worker = this.worker;
    if (!worker || this.phase !== 'ready') {
      return Promise.reject(new CheckError('NOT_READY', 'the model is not loaded'));
    }
    const batchId = this.nextBatchId++;
    return new Promise((resolve, reject) => {
      this.pending.set(batchId, { resolve, reject, hooks });
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
    if (!this.worker || this.phase !== 'ready') return;
    this.emit('recycling', reason);
    await stop(this.worker, 'SIGKILL');
  }

  async close(): Promise<void> {
    this.closing = true;
    this.backoff?.wake();
    this.failPending(new CheckError('NOT_READY', 'the service is shutting down'));
    const worker = this.worker;
    this.worker = undefined;
    this.phase = 'stopped';
    await stop(worker, 'SIGTERM');
  }
}

/** Signals the process and waits for it to exit (SIGKILL after 2 s if a SIGTERM is ignored). */
async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}
