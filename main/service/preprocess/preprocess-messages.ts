import type { PairInputFacts, PreparerSource } from '../../inference/entailment-engine.ts';
import type { WorkerError } from '../worker-protocol.ts';

/** What a preprocessing thread is started with (worker_threads workerData). */
export interface PreprocessThreadData {
  readonly role: 'preprocess';
  readonly source: PreparerSource;
}

/** One pair to prepare. */
export interface PrepareTask {
  readonly taskId: number;
  readonly image: Uint8Array;
  readonly text: string;
  readonly premise?: string;
  /** A spent pixel buffer handed back (transferred) for this task's pixels, so none is allocated. */
  readonly reuse?: ArrayBuffer;
}

export type FromPreprocessThread =
  | { readonly type: 'ready' }
  | { readonly type: 'load-failed'; readonly error: WorkerError }
  /** `pixels` is transferred, not copied: the thread no longer has it. */
  | {
      readonly type: 'prepared';
      readonly taskId: number;
      readonly pixels: Float32Array;
      readonly encoderIds: number[];
      readonly decodeImageMs: number;
      readonly tokenizeMs: number;
      readonly input: PairInputFacts;
    }
  | { readonly type: 'refused'; readonly taskId: number; readonly error: WorkerError; readonly spare?: ArrayBuffer };
