/**
 * The raw material a bench step keeps for later comparison (`ofa-ve bench compare`): per answered
 * request, its end-to-end latency and its stage timings, so that confidence intervals of any
 * quantile can be computed from the file alone. Bounded: above STEP_SAMPLE_CAP answered requests a
 * uniform random subset (seeded, in measurement order) is kept, enough for P99 (20 samples above it).
 */
import { z } from 'zod';
import { mulberry32 } from '../../../models/tools/seeded-random.ts';
import { STAGE_NAMES, type StageName } from '../../../preload/wire-types.ts';
import type { CheckSample } from './load-generator.ts';

export const STEP_SAMPLE_CAP = 2048;

/** Columns of equal length: index i is one request; a stage the answer did not report is null. */
export interface StepSamples {
  /** Answered (non-error) requests in the step; `kept` of them are below. */
  answered: number;
  kept: number;
  latency_ms: number[];
  stages_ms: Record<StageName, Array<number | null>>;
}

/** What a step keeps of each request the load generator recorded. */
export type MeasuredRequest = Pick<CheckSample, 'ok' | 'latencyMs' | 'stages'>;

/** Microsecond resolution is plenty for a latency and keeps the file small. */
const micro = (ms: number) => Math.round(ms * 1000) / 1000;

/** The samples of one step: every answered request, or a seeded uniform subset of STEP_SAMPLE_CAP. */
export function stepSamples(requests: readonly MeasuredRequest[], cap = STEP_SAMPLE_CAP, seed = 1): StepSamples {
  const answered = requests.filter((r) => r.ok);
  let kept = answered;
  if (answered.length > cap) {
    // Partial Fisher-Yates over the indices, then back into measurement order.
    const next = mulberry32(seed);
    const indices = answered.map((_, i) => i);
    for (let i = 0; i < cap; i++) {
      const j = i + (next() % (indices.length - i));
      [indices[i], indices[j]] = [indices[j]!, indices[i]!];
    }
    kept = indices
      .slice(0, cap)
      .sort((a, b) => a - b)
      .map((i) => answered[i]!);
  }
  const stages = {} as Record<StageName, Array<number | null>>;
  for (const stage of STAGE_NAMES) stages[stage] = kept.map((r) => (typeof r.stages?.[stage] === 'number' ? micro(r.stages[stage]) : null));
  return { answered: answered.length, kept: kept.length, latency_ms: kept.map((r) => micro(r.latencyMs)), stages_ms: stages };
}

const duration = z.number().nonnegative();

/**
 * The same shape as a schema, for reading a result file back. Stage columns are read by name, so a
 * file from a bench with fewer stages, or more, still reads: a stage only one run reports is not compared.
 */
export const stepSamplesSchema = z
  .object({
    answered: z.number().int().nonnegative(),
    kept: z.number().int().nonnegative(),
    latency_ms: z.array(duration),
    stages_ms: z.record(z.string(), z.array(duration.nullable())),
  })
  .refine((s) => s.latency_ms.length === s.kept && Object.values(s.stages_ms).every((column) => column.length === s.kept), {
    message: 'every column must hold `kept` values',
  });
