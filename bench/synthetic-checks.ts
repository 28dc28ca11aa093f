/**
 * Synthetic checks for the live-statistics benchmarks: seeded, with log-normal stage times around
 * the measured ones, 2% failures and a rotating answer, so that every benchmark feeds LiveStats the
 * same kind of traffic.
 */
import type { RequestSample } from '../main/telemetry/live-stats.ts';
import { uniform01 } from '../models/tools/seeded-random.ts';

/** A seeded stream of uniform [0, 1) numbers and of standard normal ones drawn from it (Box–Muller). */
export function seededDraws(seed: number): { random: () => number; gaussian: () => number } {
  const random = uniform01(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return { random, gaussian };
}

/**
 * The `i`-th synthetic check (endedAtMs 0: the benchmark sets it). `decodeSpread` is the log-normal
 * spread of decode_image; a failed check gets `failedStatus(i)`.
 */
export function syntheticSample(
  i: number,
  draws: { random: () => number; gaussian: () => number },
  options: { decodeSpread?: number; failedStatus?: (i: number) => number; idPrefix?: string } = {},
): RequestSample {
  const { random, gaussian } = draws;
  const stages = {
    queue: Math.exp(0.5 + gaussian()),
    decode_image: Math.exp(1.2 + (options.decodeSpread ?? 0.3) * gaussian()),
    tokenize: Math.exp(-1.5 + 0.4 * gaussian()),
    inference: Math.exp(3.5 + 0.5 * gaussian()),
    postprocess: Math.exp(-2 + 0.3 * gaussian()),
  };
  const failed = random() < 0.02;
  return {
    id: `${options.idPrefix ?? 'r'}${i}`,
    endedAtMs: 0,
    // the stages plus 0.3 ms untimed (reading and parsing the request)
    latencyMs: Object.values(stages).reduce((a, b) => a + b, 0) + 0.3,
    statusCode: failed ? (options.failedStatus?.(i) ?? 400) : 200,
    resultType: failed ? 'ERROR' : (['YES', 'NO', 'MAYBE'] as const)[i % 3]!,
    stages: failed ? undefined : stages,
    batchSize: 1 + (i % 8),
  };
}
