import { isMainThread } from 'node:worker_threads';

/**
 * The inference worker's entry, with two roles: the worker process that InferenceWorkerHost forks
 * (worker/inference-process.ts), and the preprocessing threads that process starts from this same
 * script (preprocess/preprocess-thread.ts), so a build has one file to fork and to thread.
 */
if (isMainThread) await import('./worker/inference-process.ts');
else await import('./preprocess/preprocess-thread.ts');
