import { DEFAULT_BATCHING } from '../service/batching-options.ts';
import type { PreprocessWorkersSetting } from '../service/preprocess/preprocess-plan.ts';
import { WORKER_NICENESS } from '../service/worker-priority.ts';
import { UsageError } from './exit-codes.ts';
import { preprocessWorkersOption } from './preprocess-workers-option.ts';

/** A flag's whole-number value, at least `min`; `fallback` when the flag is not given. */
export function wholeNumberOption(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}`);
  return n;
}

/**
 * How the inference worker runs the model, for `serve` and `check --batch` alike: parseArgs
 * options, their usage line, and what they give ServiceRuntime.
 */
export const WORKER_OPTIONS = {
  'max-batch-size': { type: 'string' },
  'intra-op-threads': { type: 'string' },
  'worker-nice': { type: 'string' },
  'preprocess-workers': { type: 'string' },
} as const;

export const WORKER_FLAGS = `[--max-batch-size ${DEFAULT_BATCHING.maxBatchSize}] [--intra-op-threads N] [--worker-nice ${WORKER_NICENESS}] [--preprocess-workers auto]`;

export interface WorkerSettings {
  readonly maxBatchSize: number;
  /** Undefined: onnxruntime's own choice (one per core). */
  readonly intraOpThreads: number | undefined;
  readonly workerNiceness: number;
  readonly preprocessWorkers: PreprocessWorkersSetting;
}

type WorkerValues = { readonly [K in keyof typeof WORKER_OPTIONS]?: string };

export function workerSettings(values: WorkerValues): WorkerSettings {
  const nice = wholeNumberOption('worker-nice', values['worker-nice'], WORKER_NICENESS, 0);
  if (nice > 19) throw new UsageError('--worker-nice must be a whole number from 0 to 19');
  const threads = values['intra-op-threads'];
  return {
    maxBatchSize: wholeNumberOption('max-batch-size', values['max-batch-size'], DEFAULT_BATCHING.maxBatchSize),
    intraOpThreads: threads === undefined ? undefined : wholeNumberOption('intra-op-threads', threads, 0, 0),
    workerNiceness: nice,
    preprocessWorkers: preprocessWorkersOption(values['preprocess-workers']),
  };
}
