import type { CheckPair, Outcome } from '../../preload/wire-types.ts';
import type { OperatorProfile } from '../../preload/trace-spans.ts';
import type { InputLimits } from '../config.ts';
import type { ErrorCode } from '../errors.ts';
import type { PairInputFacts } from '../inference/entailment-engine.ts';
import type { EntailmentResult, ModelInfo } from '../inference/entailment-types.ts';
import type { ResizeBackend } from '../inference/pil-bicubic-resize.ts';
import type { ProviderChoice } from '../inference/provider-choice.ts';
import type { PreprocessWorkersSetting } from './preprocess/preprocess-plan.ts';
import type { SimulatedAcceleratorSpec } from './simulated-accelerator-spec.ts';

/** Messages between the service and the inference worker process (advanced IPC serialisation). */
export interface WorkerInit {
  readonly modelDir: string;
  readonly provider: ProviderChoice;
  readonly limits: InputLimits;
  readonly intraOpThreads?: number;
  /** How much lower than the service the worker runs (nice increment, 0..19; 0 leaves it equal). */
  readonly niceness?: number;
  /**
   * Preprocessing threads in the worker: they prepare the next batch while the model runs one.
   * 0 is the serial design: the worker prepares each batch itself, then runs it. 'auto' decides
   * by where the session runs (preprocess-plan.ts); 'ready' says what was chosen.
   */
  readonly preprocessWorkers: PreprocessWorkersSetting;
  /** Fraction of batches run with onnxruntime's profiler (`serve --profile-sample-rate`; default 0: none). */
  readonly profileSampleRate?: number;
  /** Bench only: a stand-in for the session that takes a + b·n ms per batch (no model is opened). */
  readonly simulateAccelerator?: SimulatedAcceleratorSpec;
}

export interface WorkerError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What the worker answers one pair of a batch with (as a WorkerOutcome). */
export interface PairAnswer {
  readonly result: EntailmentResult;
  /**
   * Time the pair spent waiting inside the worker: for a preprocessing thread, and prepared
   * for the session (not its own decoding, tokenizing or inference). Part of its queue time.
   */
  readonly waitMs: number;
  /** What preprocessing learnt of the pair's input (caption tokens, decoded image size): its input slices. */
  readonly input?: PairInputFacts;
}

/** A pair of a batch as the worker gets it: the check's input and the request's id. */
export type WorkerItem = CheckPair & { readonly id: string };

/** The worker's answer for one pair of a batch. */
export type WorkerOutcome = Outcome<PairAnswer, WorkerError>;

export type ToWorker =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | { readonly type: 'batch'; readonly batchId: number; readonly items: readonly WorkerItem[] };

export type FromWorker =
  /** Loaded; `preprocessThreads`: the pool's threads (0: the serial design); `resize`: the resize it runs (OFA_VE_RESIZE). */
  | { readonly type: 'ready'; readonly info: ModelInfo; readonly preprocessThreads: number; readonly resize: ResizeBackend }
  | { readonly type: 'load-failed'; readonly error: WorkerError }
  /** Every pair of the batch is being prepared (none waits for a thread): the service may send the next batch. */
  | { readonly type: 'batch-started'; readonly batchId: number }
  /**
   * A pair of the batch could not be prepared (a bad image, a caption too long): its refusal at once,
   * not after the batch's run. Its 'batch-done' outcome says the same again.
   */
  | { readonly type: 'pair-refused'; readonly batchId: number; readonly index: number; readonly error: WorkerError }
  /**
   * The batch's answers, sent as soon as it has run. `profileFollows`: its run was sampled for
   * profiling (`serve --profile-sample-rate`), and a 'batch-profile' for it follows once the profile is read.
   */
  | {
      readonly type: 'batch-done';
      readonly batchId: number;
      readonly outcomes: readonly WorkerOutcome[];
      readonly profileFollows?: boolean;
    }
  /**
   * After a 'batch-done' with profileFollows: the run's operator events, for the traces of the batch's
   * requests; none when it was not sampled or its profile could not be read. Answers never wait for it.
   */
  | { readonly type: 'batch-profile'; readonly batchId: number; readonly operators?: OperatorProfile };
