/**
 * The closed-loop load of `ofa-ve bench`: what one check returned as the client saw it, and a step of
 * load over an image set.
 */
import type { NamedCheckPair } from '../../../preload/wire-types.ts';

/** The code of a check that got no HTTP answer (the connection failed): no replica's metrics count it. */
export const NO_ANSWER_CODE = 'NETWORK';

/** What one check returned, as the client saw it. */
export interface CheckSample {
  ok: boolean;
  code?: string;
  latencyMs: number;
  stages?: Record<string, number>;
  /** The replica it was sent to, when several are loaded round-robin (its URL, as given). */
  replica?: string;
}

/** Anything the benchmark can load: the in-process service, an HTTP endpoint, the raw pipeline. */
export type CheckTarget = (pair: NamedCheckPair) => Promise<CheckSample>;

export interface StepPlan {
  concurrency: number;
  /** Seconds of measured load (ignored when `requests` is set). */
  durationS: number;
  /** A fixed number of measured requests instead of a duration. */
  requests?: number;
  /** Seconds of load before measuring, not reported. */
  warmupS: number;
}

export interface StepOutcome {
  samples: CheckSample[];
  elapsedS: number;
}

/**
 * Closed-loop load like perf_analyzer's concurrency mode: `concurrency` senders, each sending its
 * next request as soon as the previous one is answered, cycling over the image set. Warm-up
 * requests are sent the same way and dropped.
 */
export async function runStep(
  target: CheckTarget,
  pairs: readonly NamedCheckPair[],
  plan: StepPlan,
  onProgress?: (done: number, elapsedS: number) => void,
  /** Runs between warm-up and measurement (e.g. reading counters). */
  beforeMeasuring?: () => Promise<void>,
): Promise<StepOutcome> {
  let cursor = 0;
  const next = () => pairs[cursor++ % pairs.length]!;

  if (plan.warmupS > 0) {
    const until = performance.now() + plan.warmupS * 1000;
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (performance.now() < until) await target(next());
      }),
    );
  }

  await beforeMeasuring?.();
  const samples: CheckSample[] = [];
  const started = performance.now();
  const deadline = started + plan.durationS * 1000;
  let issued = 0;
  const more = () => (plan.requests !== undefined ? issued < plan.requests : performance.now() < deadline);
  const timer = onProgress ? setInterval(() => onProgress(samples.length, (performance.now() - started) / 1000), 1000) : undefined;
  try {
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (more()) {
          issued += 1;
          samples.push(await target(next()));
        }
      }),
    );
  } finally {
    if (timer) clearInterval(timer);
  }
  return { samples, elapsedS: (performance.now() - started) / 1000 };
}
