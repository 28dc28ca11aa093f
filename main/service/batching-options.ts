/** Knobs of the bounded queue and the dynamic batcher (Triton's dynamic batcher is the model). */
export interface BatchingOptions {
  /** Most pairs in one model run. */
  readonly maxBatchSize: number;
  /**
   * How long the oldest queued request may wait for the batch to fill while the worker is idle.
   * 0 dispatches at once; a busy worker lets batches grow on their own either way.
   */
  readonly maxQueueDelayMs: number;
  /** Requests that may wait; beyond it a check is refused with 503 OVERLOADED and Retry-After. */
  readonly maxQueueSize: number;
  /**
   * A request not answered within this time fails: 503 OVERLOADED while still queued, 504 TIMEOUT
   * once its batch is running; a batch running this long has its worker replaced (hung).
   */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_BATCHING: BatchingOptions = {
  maxBatchSize: 8,
  maxQueueDelayMs: 0,
  maxQueueSize: 256,
  requestTimeoutMs: 30_000,
};
