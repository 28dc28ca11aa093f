import { Worker } from 'node:worker_threads';
import { CheckError } from '../../errors.ts';
import type { PairPreparer, PreparedPair, PreparerSource } from '../../inference/entailment-engine.ts';
import type { CheckPair } from '../../../preload/wire-types.ts';
import type { FromPreprocessThread, PrepareTask, PreprocessThreadData } from './preprocess-messages.ts';

/** A row of a batch tensor: where a pair's pixels go. */
export interface RowTarget {
  readonly out: Float32Array;
  readonly offset: number;
}

/**
 * Where the pairs of a batch are prepared. The pool does it in threads; the serial design's worker
 * does it itself (preparedInline). `started` is called once work on the pair has begun (it no
 * longer waits for a thread).
 */
export interface RowPreparer {
  /**
   * Prepares a pair: its pixels are written into `target` when given (pixels is then target.out),
   * else returned in an array of their own, which a batch of one pair uses as its tensor (no copy).
   */
  prepare(input: CheckPair, target: RowTarget | undefined, started?: () => void): Promise<PreparedPair>;
  /** Takes back an array that prepare() returned without a target, once the session is done with it. */
  recycle?(pixels: Float32Array): void;
}

/**
 * The serial design: the worker prepares each pair itself, at once. A batch of one runs on its
 * pair's own array, kept for the next one (as the pool keeps its threads' arrays): a new one per
 * check cost 0.05–0.09 ms of decode_image (median paired, demo model, 2026-12-01).
 */
export function preparedInline(preparer: PairPreparer): RowPreparer {
  let spare: Float32Array | undefined;
  return {
    prepare(input, target, started) {
      started?.();
      if (target) return preparer.prepare(input, target.out, target.offset);
      const out = spare;
      spare = undefined;
      return preparer.prepare(input, out, 0);
    },
    recycle(pixels) {
      if (pixels.length === preparer.pixelsPerPair) spare = pixels;
    },
  };
}

/**
 * Pairs a thread works on at once: while one image's resize runs in its JavaScript, the next
 * one's decode runs in libvips (libuv's pool), so neither half waits for the other.
 */
const TASKS_PER_THREAD = 2;

interface Task {
  readonly id: number;
  readonly input: CheckPair;
  readonly target: RowTarget | undefined;
  readonly started?: () => void;
  readonly resolve: (pair: PreparedPair) => void;
  readonly reject: (error: CheckError) => void;
}

export interface PoolOptions {
  /** The thread's script: the inference worker's entry, which runs preprocess-thread.ts in a thread. */
  readonly script: string;
  /** The pool may move (transfer) the image bytes it is given, leaving the caller's array empty. */
  readonly takeImages: boolean;
  /** A thread died and its replacement could not start: the pool cannot be trusted to keep up. */
  readonly onFatal: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly tasks: Map<number, Task>;
  ready: boolean;
}

/** Whether the bytes view their whole ArrayBuffer (it can then be moved to a thread as it is). */
function wholeBuffer(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
}

/**
 * A pool of preprocessing threads (decode, resize, normalise, tokenize) in the inference worker,
 * sized to the machine's cores: pairs are prepared in parallel, across requests and batches, in
 * the order they were asked for. Pixels come back by transfer: a batch of one pair runs on them as
 * they came, a larger batch copies them once, into its row of the batch tensor (onnxruntime-node
 * refuses a SharedArrayBuffer-backed tensor, so the threads cannot write into it themselves). Spent
 * buffers go back to the threads for reuse, so the pool's memory is bounded by its threads, not by
 * the traffic. A thread that dies fails only its own pairs (INTERNAL) and is replaced; `onFatal`
 * is told when a replacement cannot start.
 */
export class PreprocessPool implements RowPreparer {
  private readonly threads: Thread[] = [];
  private readonly waiting: Task[] = [];
  private readonly spare: ArrayBuffer[] = [];
  private nextTaskId = 1;
  private closing = false;
  /** Bytes of one pair's pixels: the only size worth keeping for reuse. */
  private readonly pixelBytes: number;

  private constructor(
    private readonly options: PoolOptions,
    private readonly source: PreparerSource,
  ) {
    const { size } = source.manifest.image;
    this.pixelBytes = 3 * size * size * Float32Array.BYTES_PER_ELEMENT;
  }

  /** Starts `size` threads and resolves once every one has built its preparer. */
  static async start(size: number, source: PreparerSource, options: PoolOptions): Promise<PreprocessPool> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a preprocessing pool needs at least one thread, got ${size}`);
    const pool = new PreprocessPool(options, source);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.threads.length;
  }

  /** Pairs waiting for a thread (not yet started). */
  get backlog(): number {
    return this.waiting.length;
  }

  prepare(input: CheckPair, target: RowTarget | undefined, started?: () => void): Promise<PreparedPair> {
    if (this.closing) return Promise.reject(new CheckError('NOT_READY', 'the inference worker is shutting down'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: this.nextTaskId++, input, target, started, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const error = new CheckError('NOT_READY', 'the inference worker is shutting down');
    for (const task of this.waiting.splice(0)) task.reject(error);
    // Pairs already in a thread end with the same answer (the exit handler would call it INTERNAL).
    for (const thread of this.threads) {
      for (const task of thread.tasks.values()) task.reject(error);
      thread.tasks.clear();
    }
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(): Promise<void> {
    const data: PreprocessThreadData = { role: 'preprocess', source: this.source };
    const worker = new Worker(this.options.script, { workerData: data, stdout: false, stderr: false });
    const thread: Thread = { worker, tasks: new Map(), ready: false };
    this.threads.push(thread);
    return new Promise((resolve, reject) => {
      worker.on('message', (message: FromPreprocessThread) => {
        if (message.type === 'ready') {
          thread.ready = true;
          resolve();
          this.dispatch();
        } else if (message.type === 'load-failed') {
          reject(new CheckError(message.error.code, message.error.message));
        } else {
          this.settle(thread, message);
        }
      });
      worker.on('error', (err) => reject(err));
      worker.on('exit', (code) => {
        const index = this.threads.indexOf(thread);
        if (index >= 0) this.threads.splice(index, 1);
        const lost = new CheckError('INTERNAL', `a preprocessing thread stopped (exit code ${code}) while preparing this pair`);
        for (const task of thread.tasks.values()) task.reject(lost);
        thread.tasks.clear();
        if (!thread.ready) reject(new Error(`a preprocessing thread exited while starting (code ${code})`));
        if (this.closing || !thread.ready) return;
        // Replace it: the pool keeps its size. A replacement that cannot start means none will.
        this.spawn().catch((err: unknown) => this.options.onFatal(err instanceof Error ? err : new Error(String(err))));
      });
    });
  }

  private settle(thread: Thread, message: Extract<FromPreprocessThread, { taskId: number }>): void {
    const task = thread.tasks.get(message.taskId);
    thread.tasks.delete(message.taskId);
    if (message.type === 'prepared') {
      const { encoderIds, decodeImageMs, tokenizeMs, input } = message;
      let pixels = message.pixels;
      if (task?.target) {
        // The one copy of the pixels: into the batch tensor's row. The buffer goes back for reuse.
        task.target.out.set(message.pixels, task.target.offset);
        this.keepSpare(message.pixels.buffer as ArrayBuffer);
        pixels = task.target.out;
      }
      task?.resolve({ pixels, encoderIds, decodeImageMs, tokenizeMs, input });
    } else {
      if (message.spare) this.keepSpare(message.spare);
      task?.reject(new CheckError(message.error.code, message.error.message));
    }
    this.dispatch();
  }

  recycle(pixels: Float32Array): void {
    if (pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength) this.keepSpare(pixels.buffer as ArrayBuffer);
  }

  private keepSpare(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.pixelBytes && this.spare.length < this.threads.length * TASKS_PER_THREAD) this.spare.push(buffer);
  }

  /** Hands waiting pairs to the least busy ready threads, oldest first. */
  private dispatch(): void {
    while (this.waiting.length > 0) {
      let best: Thread | undefined;
      for (const t of this.threads) {
        if (t.ready && t.tasks.size < TASKS_PER_THREAD && (!best || t.tasks.size < best.tasks.size)) best = t;
      }
      if (!best) return;
      const task = this.waiting.shift() as Task;
      best.tasks.set(task.id, task);
      // The caller's bytes are moved when it gives them up and they fill their buffer; else copied
      // (a view into a larger buffer, such as one IPC message holding a whole batch, is never moved).
      // (new Uint8Array copies; a Buffer's slice() would not).
      const image = this.options.takeImages && wholeBuffer(task.input.image) ? task.input.image : new Uint8Array(task.input.image);
      const reuse = this.spare.pop();
      const message: PrepareTask = { taskId: task.id, image, text: task.input.text, premise: task.input.premise, reuse };
      const transfer: ArrayBuffer[] = [image.buffer as ArrayBuffer];
      if (reuse) transfer.push(reuse);
      try {
        best.worker.postMessage(message, transfer);
        task.started?.();
      } catch (err) {
        best.tasks.delete(task.id);
        task.reject(new CheckError('INTERNAL', `could not hand the pair to a preprocessing thread: ${(err as Error).message}`));
      }
    }
  }
}
