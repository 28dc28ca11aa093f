import type { InputLimits } from '../config.ts';
import type { ErrorCode } from '../errors.ts';
import type { EntailmentResult, ModelInfo } from '../inference/entailment-types.ts';
import type { ProviderChoice } from '../inference/provider-choice.ts';

/** Messages between the service and the inference worker process (advanced IPC serialisation). */
export interface WorkerInit {
  readonly modelDir: string;
  readonly provider: ProviderChoice;
  readonly limits: InputLimits;
  readonly intraOpThreads?: number;
  /** How much lower than the service the worker runs (nice increment, 0..19; 0 leaves it equal). */
  readonly niceness?: number;
}

export interface WorkerItem {
  readonly id: string;
  readonly image: Uint8Array;
  readonly text: string;
  readonly premise?: string;
}

export type WorkerOutcome =
  | { readonly ok: true; readonly result: EntailmentResult }
  | { readonly ok: false; readonly error: { readonly code: ErrorCode; readonly message: string } };

export type ToWorker =
  | { readonly type: 'init'; readonly init: WorkerInit }
  | { readonly type: 'batch'; readonly batchId: number; readonly items: readonly WorkerItem[] };

export type FromWorker =
  | { readonly type: 'ready'; readonly info: ModelInfo }
  | { readonly type: 'load-failed'; readonly error: { readonly code: ErrorCode; readonly message: string } }
  | { readonly type: 'batch-done'; readonly batchId: number; readonly outcomes: readonly WorkerOutcome[] };
