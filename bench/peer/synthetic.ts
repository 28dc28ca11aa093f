/**
 * The synthetic traffic both peer servers are populated with. Mirrored line for line by
 * `synthetic_requests()` in python_metrics_server.py: a 32-bit xorshift generator and only
 * + and * on doubles, so both languages produce bit-identical observations (no libm calls,
 * whose last bit may differ between V8 and glibc) and the two /metrics bodies can be compared
 * value by value.
 */
import type { ResultType, StageName } from '../../preload/wire-types.ts';
import { CHECK_STATUS_CODES } from '../../main/errors.ts';

export const DEFAULT_SEED = 0x9e3779b9;
export const DEFAULT_REQUESTS = 10_000;
/** The error statuses the synthetic traffic draws from (the Python side gets the same list via --spec). */
export const ERROR_STATUS_CODES: readonly number[] = CHECK_STATUS_CODES.filter((code) => code !== 200);
export const RESULTS = ['YES', 'NO', 'MAYBE'] as const;

/** xorshift32 (Marsaglia 2003); returns doubles in [0, 1). */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

export interface SyntheticRequest {
  id: string;
  statusCode: number;
  resultType: ResultType;
  latencyMs: number;
  stages?: Record<StageName, number>;
  /** Pairs in the model run this request closed, when it closed one (every 4th request). */
  batchSize?: number;
}

export function* syntheticRequests(count = DEFAULT_REQUESTS, seed = DEFAULT_SEED): Generator<SyntheticRequest> {
  const next = xorshift32(seed);
  for (let i = 0; i < count; i++) {
    const ok = next() < 0.9;
    const statusCode = ok ? 200 : (ERROR_STATUS_CODES[Math.floor(next() * ERROR_STATUS_CODES.length)] as number);
    const resultType: ResultType = ok ? (RESULTS[Math.floor(next() * RESULTS.length)] as ResultType) : 'ERROR';
    const a = next();
    const b = next();
    // 40..1000 ms, most mass low, a long tail: 40 + 900 a^3 + 60 b.
    const latencyMs = 40 + 900 * a * a * a + 60 * b;
    const request: SyntheticRequest = { id: `req-${i}`, statusCode, resultType, latencyMs };
    if (ok) {
      request.stages = {
        queue: latencyMs * 0.2 * next(),
        decode_image: 3 + 10 * next(),
        tokenize: 0.2 + next(),
        inference: latencyMs * 0.5,
        postprocess: 0.1 * next(),
      };
    }
    if (i % 4 === 3) request.batchSize = 1 + Math.floor(next() * 16);
    yield request;
  }
}

/** Observation values (seconds) for the observe() micro-benchmarks; same as observe_bench.py. */
export function observationValues(count: number, seed = DEFAULT_SEED): Float64Array {
  const next = xorshift32(seed);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const a = next();
    values[i] = (40 + 900 * a * a * a) / 1000;
  }
  return values;
}
