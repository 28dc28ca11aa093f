import { parsePreprocessWorkers, type PreprocessWorkersSetting } from '../service/preprocess/preprocess-plan.ts';
import { UsageError } from './exit-codes.ts';

/** `--preprocess-workers` of serve, check --batch and bench: auto (the default), or a whole number >= 0. */
export function preprocessWorkersOption(value: string | undefined): PreprocessWorkersSetting {
  if (value === undefined) return 'auto';
  const setting = parsePreprocessWorkers(value);
  if (setting === undefined)
    throw new UsageError(`--preprocess-workers must be auto or a whole number >= 0 (got ${JSON.stringify(value)})`);
  return setting;
}
