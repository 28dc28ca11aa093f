import type { CheckResult, Outcome } from '../../preload/wire-types.ts';
import { SERVICE_UNAVAILABLE, type BatchHandlers } from './console-client.ts';
import { abortableSleep } from './abortable-sleep.ts';

export interface BatchRunnerOptions {
  /** Requests in flight at once (the service batches them for the model). */
  concurrency: number;
  /** Retries of an OVERLOADED answer, each after its Retry-After. */
  overloadRetries: number;
  now?: () => number;
}

/** How both clients run a batch: 4 in flight fills the service's dynamic batches; 5 retries of OVERLOADED. */
export const CONSOLE_BATCH: BatchRunnerOptions = { concurrency: 4, overloadRetries: 5 };

const CANCELLED: Outcome<CheckResult> = {
  ok: false,
  error: { code: 'CANCELLED', message: 'the batch was cancelled before this check finished' },
};
const NOT_SENT: Outcome<CheckResult> = {
  ok: false,
  error: { code: SERVICE_UNAVAILABLE, message: 'service unavailable: not sent, the service went away during the batch' },
};

/**
 * Runs a batch through any single-check function with bounded concurrency, retrying OVERLOADED
 * answers after the delay the service asked for, and reporting each result and the progress
 * (rate, time left) as they come. Items not started when the signal aborts are dropped. Once a check
 * finds the service unavailable, the items not started yet are reported unavailable without being
 * sent (a stopped service would refuse them all; a restarting one would count each as a 5xx).
 */
export async function runBatch<T>(
  items: readonly T[],
  check: (item: T, signal: AbortSignal) => Promise<Outcome<CheckResult> & { retryAfterS?: number }>,
  handlers: BatchHandlers,
  signal: AbortSignal,
  options: BatchRunnerOptions,
): Promise<void> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  let next = 0;
  let done = 0;
  let failed = 0;
  let serviceGone = false;
  const report = () => {
    const elapsedS = (now() - started) / 1000;
    const rate = elapsedS > 0 ? done / elapsedS : 0;
    handlers.onProgress({ done, total: items.length, failed, rate, eta_s: done > 0 && rate > 0 ? (items.length - done) / rate : null });
  };
  report();

  const worker = async () => {
    while (!signal.aborted && next < items.length) {
      const index = next++;
      const item = items[index]!;
      let outcome: Outcome<CheckResult>;
      let attempt = 0;
      for (;;) {
        if (serviceGone) {
          outcome = NOT_SENT;
          break;
        }
        const answer: Outcome<CheckResult> & { retryAfterS?: number } = await check(item, signal).catch(
          (): Outcome<CheckResult> => CANCELLED,
        );
        if (signal.aborted && !answer.ok) {
          outcome = CANCELLED;
          break;
        }
        if (!answer.ok && answer.error.code === 'OVERLOADED' && attempt < options.overloadRetries) {
          attempt += 1;
          await abortableSleep((answer.retryAfterS ?? 1) * 1000, signal);
          if (!signal.aborted) continue;
          outcome = CANCELLED;
          break;
        }
        outcome = answer.ok ? { ok: true, value: answer.value } : { ok: false, error: answer.error };
        if (!answer.ok && answer.error.code === SERVICE_UNAVAILABLE) serviceGone = true;
        break;
      }
      done += 1;
      if (!outcome.ok) failed += 1;
      handlers.onResult(index, outcome);
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
}
