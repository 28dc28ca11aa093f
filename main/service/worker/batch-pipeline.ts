import { toCheckError } from '../../errors.ts';
import type { EntailmentEngine, PreparedRow } from '../../inference/entailment-engine.ts';
import type { EntailmentResult, ModelInfo } from '../../inference/entailment-types.ts';
import type { RowPreparer } from '../preprocess/preprocess-pool.ts';
import type { FromWorker, WorkerError, WorkerItem, WorkerOutcome } from '../worker-protocol.ts';

interface Batch {
  readonly batchId: number;
  readonly arrivedAt: number;
  /**
   * The batch tensor: each pair's pixels are written into its row as soon as they are ready. A
   * batch of one pair runs on the pixels as they came from preprocessing (set once they have).
   */
  pixels: Float32Array | undefined;
  readonly rows: (PreparedRow | WorkerError | undefined)[];
  /** Pairs still waiting for a preprocessing thread. */
  unstarted: number;
  /** Pairs not prepared yet. */
  remaining: number;
}

/**
 * Batch pixel tensors for reuse: a batch's tensor is free again once its run has returned. The
 * service sends at most two batches at a time (one running, one being prepared), so two are kept.
 */
class TensorShelf {
  private readonly free: Float32Array[] = [];

  constructor(private readonly keep: number) {}

  take(floats: number): Float32Array {
    let best = -1;
    this.free.forEach((t, i) => {
      if (t.length >= floats && (best < 0 || t.length < (this.free[best] as Float32Array).length)) best = i;
    });
    return best >= 0 ? (this.free.splice(best, 1)[0] as Float32Array) : new Float32Array(floats);
  }

  give(tensor: Float32Array): void {
    this.free.push(tensor);
    this.free.sort((a, b) => b.length - a.length);
    this.free.length = Math.min(this.free.length, this.keep);
  }
}

const isRow = (row: PreparedRow | WorkerError | undefined): row is PreparedRow => row !== undefined && 'encoderIds' in row;

/**
 * The inference worker's batches from arrival to answer: every pair is prepared as soon as its
 * batch arrives (in the preprocessing pool, or here in the serial design), its pixels written
 * into its row of the batch tensor. Once no pair of a batch waits for a thread any more, the
 * service is told ('batch-started') so that it sends the next batch, which then queues for the
 * threads before they run dry. A prepared batch runs when the session is free: one at a time, in
 * the order they came, back to back while the next is prepared. A run sampled for profiling is
 * answered at once too ('batch-done'); its operator events follow when read ('batch-profile').
 */
export class BatchPipeline {
  private readonly order: Batch[] = [];
  private readonly tensors = new TensorShelf(2);
  private running = false;

  /**
   * `announceStarts`: send 'batch-started' (the default). Only a worker with a preprocessing pool
   * needs to: without one the service sends one batch at a time (InferenceWorkerHost.pipelineDepth),
   * and the message only woke the service mid-call (0.05–0.12 ms of each call at concurrency 1,
   * median paired, demo model, 2026-12-01).
   */
  constructor(
    private readonly engine: EntailmentEngine,
    private readonly preparer: RowPreparer,
    private readonly send: (message: FromWorker) => void,
    private readonly options: { readonly announceStarts?: boolean } = {},
  ) {}

  get info(): ModelInfo {
    return this.engine.info;
  }

  accept(batchId: number, items: readonly WorkerItem[]): void {
    const plane = this.engine.preparer.pixelsPerPair;
    const single = items.length === 1;
    const batch: Batch = {
      batchId,
      arrivedAt: performance.now(),
      pixels: single ? undefined : this.tensors.take(items.length * plane),
      rows: new Array(items.length),
      unstarted: items.length,
      remaining: items.length,
    };
    this.order.push(batch);
    if (items.length === 0) {
      this.started(batch);
      this.runNext();
    }
    const started = () => {
      batch.unstarted -= 1;
      if (batch.unstarted === 0) this.started(batch);
    };
    items.forEach((item, i) => {
      const input = { image: toBytes(item.image), text: item.text, premise: item.premise };
      const target = batch.pixels && { out: batch.pixels, offset: i * plane };
      this.preparer
        .prepare(input, target, started)
        .then(
          (pair) => {
            batch.rows[i] = pair;
            if (single) batch.pixels = pair.pixels;
          },
          (err: unknown) => {
            const error = toCheckError(err).toJSON();
            batch.rows[i] = error;
            this.send({ type: 'pair-refused', batchId, index: i, error });
          },
        )
        .finally(() => {
          batch.remaining -= 1;
          if (batch.remaining === 0) this.runNext();
        });
    });
  }

  private started(batch: Batch): void {
    if (this.options.announceStarts === false) return;
    this.send({ type: 'batch-started', batchId: batch.batchId });
  }

  private runNext(): void {
    const next = this.order[0];
    if (this.running || !next || next.remaining > 0) return;
    this.order.shift();
    this.running = true;
    void this.run(next).finally(() => {
      this.running = false;
      this.runNext();
    });
  }

  private async run(batch: Batch): Promise<void> {
    const plane = this.engine.preparer.pixelsPerPair;
    // Refused pairs leave holes: the rows after one move up, so the session sees only real pairs.
    const pixels = batch.pixels ?? new Float32Array(0);
    const ready: PreparedRow[] = [];
    batch.rows.forEach((row, i) => {
      if (!isRow(row)) return;
      if (ready.length !== i) pixels.copyWithin(ready.length * plane, i * plane, (i + 1) * plane);
      ready.push(row);
    });
    const runStart = performance.now();
    let results: EntailmentResult[] | WorkerError;
    try {
      results = await this.engine.runAssembled({ pixels, rows: ready });
    } catch (err) {
      results = toCheckError(err).toJSON();
    }
    // Taken at once, before the next run can start (sampled-profiling.ts: each run followed by its
    // takeProfile, which ends the profiling session synchronously); read after the answers have left.
    const profiling = this.engine.takeProfile();
    if (batch.rows.length === 1) {
      if (batch.pixels) this.preparer.recycle?.(batch.pixels);
    } else {
      this.tensors.give(pixels);
    }
    let next = 0;
    const outcomes = batch.rows.map((row): WorkerOutcome => {
      if (!isRow(row)) return { ok: false, error: row ?? { code: 'INTERNAL', message: 'this pair was not prepared' } };
      if (!Array.isArray(results)) return { ok: false, error: results };
      const result = results[next++] as EntailmentResult;
      // Waiting here: for a preprocessing thread, then prepared for the session.
      const waitMs = Math.max(0, runStart - batch.arrivedAt - row.decodeImageMs - row.tokenizeMs);
      return { ok: true, value: { result, waitMs, input: row.input } };
    });
    const { batchId } = batch;
    this.send({ type: 'batch-done', batchId, outcomes, ...(profiling && { profileFollows: true }) });
    // The profile's file read and parse delay neither these answers nor the next batch's run.
    void profiling
      ?.catch(() => undefined)
      .then((operators) => this.send({ type: 'batch-profile', batchId, ...(operators && { operators }) }));
  }
}

/** The advanced IPC serialisation delivers a Uint8Array, or a Buffer; either is fine for sharp. */
function toBytes(image: Uint8Array): Uint8Array {
  return image instanceof Uint8Array ? image : new Uint8Array(image as ArrayLike<number>);
}
