import type { EventEmitter } from 'node:events';
import type { OperatorProfile } from '../../preload/trace-spans.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { WorkerError, WorkerItem, WorkerOutcome } from './worker-protocol.ts';

/** Told as a batch moves through the backend. */
export interface BatchHooks {
  /** The worker has started preparing every pair of the batch (none waits for a thread): the next may be sent. */
  readonly onStarted?: () => void;
  /** Pair `index` of the batch was refused while being prepared: it need not wait for the batch's run. */
  readonly onRefused?: (index: number, error: WorkerError) => void;
  /**
   * A profiled batch's operator events (`serve --profile-sample-rate`), after its answers: at most
   * once, and never when its worker stopped before the profile was read.
   */
  readonly onProfile?: (operators: OperatorProfile) => void;
}

/**
 * What the CheckService's batcher runs batches on: the inference worker (InferenceWorkerHost, a
 * child process with its preprocessing pool and the model's session), or in tests a backend the
 * test drives. Events the service listens to: 'restarted' and 'restart-failed' (queued checks go
 * on, or are refused, once a replaced worker is back or known not to come back).
 */
export interface InferenceBackend extends Pick<EventEmitter, 'on' | 'off'> {
  /** Loaded and answering. */
  readonly isReady: boolean;
  /** A replacement is on its way: checks may wait for it in the queue. */
  readonly restarting: boolean;
  readonly info: ModelInfo | undefined;
  /**
   * Batches it takes at once: 1 runs each batch before the next is sent (the serial design); 2
   * prepares the next batch while one runs.
   */
  readonly pipelineDepth: number;
  /**
   * Runs a batch; outcomes in item order. Rejects (CheckError) when the whole batch failed: the
   * worker stopped (INTERNAL), or it is not loaded (NOT_READY).
   */
  runBatch(items: readonly WorkerItem[], hooks?: BatchHooks): Promise<readonly WorkerOutcome[]>;
  /** Replaces a worker that stopped answering: the batches in it fail, as after a crash. */
  recycle(reason: string): Promise<void>;
}
