/**
 * Two bench runs compared step by step: P50/P90/P99 of the end-to-end latency and of every stage,
 * and the throughput, each with a bootstrap confidence interval, the difference and whether it is
 * significant; which stage the change in latency went to; and which differences are regressions
 * beyond the allowed bound (the CI gate of `ofa-ve bench compare`).
 */
import { STAGE_NAMES, type StageName } from '../../../preload/wire-types.ts';
import { BenchInputError, stepName, type BenchResult, type BenchResultStep } from './bench-result-file.ts';
import {
  bootstrap,
  bootstrapColumns,
  combine,
  excludesZero,
  nearestRank,
  percentileInterval,
  type Estimate,
  type Replicates,
} from './bench-stats.ts';

export type FigureName = 'end_to_end' | StageName;
export const FIGURES: readonly FigureName[] = ['end_to_end', ...STAGE_NAMES];
export const COMPARED_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

export interface CompareOptions {
  /** The allowed change as a fraction: 0.1 lets latency rise and throughput fall by up to 10%. */
  maxRegression: number;
  confidence?: number;
  iterations?: number;
  seed?: number;
}

/**
 * 1000 resamples: enough for a 95% percentile interval (its ends are the 25th and 975th), and a
 * sweep of 25 steps of 2048 samples compares in seconds. Seeded: the same files, the same report.
 */
export const COMPARE_DEFAULTS = { confidence: 0.95, iterations: 1000, seed: 17 } as const;

/**
 * A quantile is judged only with at least MIN_SAMPLES samples and MIN_TAIL_SAMPLES above it in both
 * runs (P90: 50 samples, P99: 500): the bootstrap of a quantile with nothing above it is the
 * bootstrap of a maximum, which never leaves the values seen and so understates its uncertainty.
 */
export const MIN_SAMPLES = 10;
export const MIN_TAIL_SAMPLES = 5;

/**
 * A stage's change counts toward the gate only when it is at least this share of the end-to-end
 * figure: 0.02 ms → 0.03 ms of postprocessing is +50% and may well be significant, and matters to nobody.
 */
export const MATERIAL_SHARE = 0.01;

/** A figure of both runs and their difference (current − baseline). */
export interface Change {
  baseline: Estimate;
  current: Estimate;
  difference: Estimate;
  /** current / baseline − 1; null when the baseline is 0. */
  relative: Estimate | null;
  /** The interval of the difference excludes 0. */
  significant: boolean;
}

/** A change the gate looks at. */
export interface JudgedChange extends Change {
  /** Enough samples in both runs to judge it. */
  judged: boolean;
  /**
   * Judged, and worse than the bound allows with confidence: the whole interval of the relative
   * change lies beyond the bound (a non-inferiority test with the bound as its margin), so two
   * instances of one build that differ by a few percent never fail the gate by noise (for a stage,
   * also material).
   */
  regression: boolean;
  /** The same, better. */
  improvement: boolean;
}

export interface QuantileChange extends JudgedChange {
  quantile: number;
  /** End to end, or a stage whose change is at least MATERIAL_SHARE of the end-to-end figure. */
  material: boolean;
}

export interface FigureComparison {
  figure: FigureName;
  samples: { baseline: number; current: number };
  quantiles: QuantileChange[];
  mean: Change;
}

/** A stage's part in the change of the mean end-to-end latency; `other` is time outside the stages. */
export interface StageShare {
  stage: StageName | 'other';
  difference_ms: number;
  /** Of the end-to-end change; null when that is 0. */
  share: number | null;
}

export interface StepComparison {
  concurrency: number;
  max_batch_size: number;
  /** Requests sent and how many failed, per run (failed requests have no latency samples). */
  requests: { baseline: { sent: number; errors: number }; current: { sent: number; errors: number } };
  throughput: JudgedChange;
  /** end_to_end first, then the stages both runs report. */
  figures: FigureComparison[];
  /** Largest part of the end-to-end change first. */
  attribution: StageShare[];
}

export interface Finding {
  step: string;
  figure: FigureName | 'throughput';
  quantile: number | null;
  change: Change;
}

export interface BenchComparison {
  max_regression: number;
  confidence: number;
  iterations: number;
  seed: number;
  steps: StepComparison[];
  /** Largest relative change first. */
  regressions: Finding[];
  improvements: Finding[];
  /** Over all steps (mean end-to-end change summed over them): the stage that explains most first. */
  attribution: StageShare[];
  /** Differences between the two runs' settings that bear on the comparison. */
  notes: string[];
}

/** Steps are matched by concurrency and max batch size; a step of one run missing from the other is bad input. */
function matchSteps(baseline: BenchResult, current: BenchResult): Array<[BenchResultStep, BenchResultStep]> {
  const key = (s: BenchResultStep) => `${s.concurrency}/${s.max_batch_size}`;
  const currentByKey = new Map(current.steps.map((s) => [key(s), s]));
  const baselineKeys = new Set(baseline.steps.map(key));
  const onlyBaseline = baseline.steps.filter((s) => !currentByKey.has(key(s)));
  const onlyCurrent = current.steps.filter((s) => !baselineKeys.has(key(s)));
  if (onlyBaseline.length > 0 || onlyCurrent.length > 0) {
    const parts = [];
    if (onlyBaseline.length > 0) parts.push(`only in the baseline: ${onlyBaseline.map(stepName).join('; ')}`);
    if (onlyCurrent.length > 0) parts.push(`only in the current run: ${onlyCurrent.map(stepName).join('; ')}`);
    throw new BenchInputError(
      `the runs' steps do not match (${parts.join('; ')}); run both with the same --concurrency and --max-batch-size`,
    );
  }
  return baseline.steps.map((s) => [s, currentByKey.get(key(s))!]);
}

/** A figure's value per kept request (null where a request did not report that stage). */
function column(step: BenchResultStep, figure: FigureName): ReadonlyArray<number | null> {
  const samples = step.samples!;
  return figure === 'end_to_end' ? samples.latency_ms : (samples.stages_ms[figure] ?? []);
}

const reported = (values: ReadonlyArray<number | null>) => values.filter((v): v is number => v !== null);

interface Measured {
  values: number[];
  sorted: Float64Array;
  replicates: Replicates;
}

/**
 * Blocks of the bootstrap: requests in flight together (up to `concurrency` of them) share a batch,
 * and consecutive requests share the machine's state at that moment (a neighbour's burst of work
 * slows a run of them), so consecutive samples are resampled together: blocks of `concurrency`,
 * and at least the cube root of the sample count (the usual rate for a block bootstrap of
 * dependent data); at most a quarter of the samples, so that a resample still mixes several blocks.
 */
export function blockLength(concurrency: number, samples: number): number {
  return Math.max(1, Math.min(Math.max(concurrency, Math.round(Math.cbrt(samples))), Math.floor(samples / 4)));
}

/** Each figure's values in one run, with replicates from resampling the run's requests (all figures together). */
function measureRun(step: BenchResultStep, figures: readonly FigureName[], options: Required<CompareOptions>, seed: number): Measured[] {
  if (figures.length === 0) return [];
  const columns = figures.map((figure) => column(step, figure));
  const block = blockLength(step.concurrency, step.samples!.kept);
  const replicates = bootstrapColumns(columns, COMPARED_QUANTILES, options.iterations, seed, block);
  return columns.map((c, i) => {
    const values = reported(c);
    return { values, sorted: Float64Array.from(values).sort(), replicates: replicates[i]! };
  });
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Replicates of a run's throughput. A closed loop holds `concurrency` requests in flight, so QPS ≈
 * concurrency / mean latency (Little's law): the bootstrap of the mean latency carries over.
 */
function qpsReplicates(step: BenchResultStep, e2e: Measured | undefined, options: Required<CompareOptions>, seed: number): Float64Array {
  const latencies = step.samples!.latency_ms;
  if (latencies.length === 0) return new Float64Array(options.iterations).fill(step.qps);
  const block = blockLength(step.concurrency, latencies.length);
  const means = e2e?.replicates.means ?? bootstrap(latencies, [], options.iterations, seed, block).means;
  const observed = mean(latencies);
  return means.map((m) => (step.qps * observed) / m);
}

function change(baseline: number, current: number, baseReps: Float64Array, curReps: Float64Array, confidence: number): Change {
  const difference = {
    value: current - baseline,
    ci: percentileInterval(
      combine(curReps, baseReps, (c, b) => c - b),
      confidence,
    ),
  };
  // 0/0 is no change; c/0 is +Infinity, which sorts last and widens the interval as it should.
  const ratios = combine(curReps, baseReps, (c, b) => (c === b ? 0 : c / b - 1));
  return {
    baseline: { value: baseline, ci: percentileInterval(baseReps, confidence) },
    current: { value: current, ci: percentileInterval(curReps, confidence) },
    difference,
    relative: baseline > 0 ? { value: current / baseline - 1, ci: percentileInterval(ratios, confidence) } : null,
    significant: excludesZero(difference.ci),
  };
}

/** The interval of current / baseline − 1; from a zero baseline, any significant rise is unbounded. */
function relativeInterval(c: Change): [number, number] {
  if (c.relative) return [c.relative.ci.lo, c.relative.ci.hi];
  const rise = c.difference.value > 0 ? Infinity : c.difference.value < 0 ? -Infinity : 0;
  return [rise, rise];
}

function compareStep(base: BenchResultStep, cur: BenchResultStep, options: Required<CompareOptions>): StepComparison {
  const bound = options.maxRegression;
  const both = FIGURES.filter((figure) => reported(column(base, figure)).length > 0 && reported(column(cur, figure)).length > 0);
  // One seed per run, so that the runs' resamples are independent.
  const [baseMeasured, curMeasured] = [measureRun(base, both, options, options.seed), measureRun(cur, both, options, options.seed + 1)];
  const measured = both.map((figure, i) => ({ figure, base: baseMeasured[i]!, cur: curMeasured[i]! }));
  const e2e = measured.find((m) => m.figure === 'end_to_end');
  const figures: FigureComparison[] = measured.map(({ figure, base: a, cur: b }) => {
    const n = Math.min(a.values.length, b.values.length);
    const quantiles = COMPARED_QUANTILES.map((q, i): QuantileChange => {
      const [aReps, bReps] = [a.replicates.quantiles[i]!, b.replicates.quantiles[i]!];
      const c = change(nearestRank(a.sorted, q), nearestRank(b.sorted, q), aReps, bReps, options.confidence);
      const judged = n >= MIN_SAMPLES && n * (1 - q) >= MIN_TAIL_SAMPLES;
      const material = figure === 'end_to_end' || !e2e || Math.abs(c.difference.value) >= MATERIAL_SHARE * nearestRank(e2e.base.sorted, q);
      const [low, high] = relativeInterval(c);
      return {
        quantile: q,
        ...c,
        judged,
        material,
        regression: judged && material && c.significant && low > bound,
        improvement: judged && material && c.significant && high < -bound,
      };
    });
    return {
      figure,
      samples: { baseline: a.values.length, current: b.values.length },
      quantiles,
      mean: change(mean(a.values), mean(b.values), a.replicates.means, b.replicates.means, options.confidence),
    };
  });

  const qps = change(
    base.qps,
    cur.qps,
    qpsReplicates(base, e2e?.base, options, options.seed),
    qpsReplicates(cur, e2e?.cur, options, options.seed + 1),
    options.confidence,
  );
  // A run that answered nothing has a throughput of 0 without sampling noise: judged against one that did.
  const answered = [base, cur].map((s) => s.samples!.kept);
  const qpsJudged = answered.every((n) => n === 0 || n >= MIN_SAMPLES) && answered.some((n) => n >= MIN_SAMPLES);
  const [qpsLow, qpsHigh] = relativeInterval(qps);
  const throughput: JudgedChange = {
    ...qps,
    judged: qpsJudged,
    regression: qpsJudged && qps.significant && qpsHigh < -bound,
    improvement: qpsJudged && qps.significant && qpsLow > bound,
  };

  return {
    concurrency: base.concurrency,
    max_batch_size: base.max_batch_size,
    requests: { baseline: { sent: base.requests, errors: base.errors }, current: { sent: cur.requests, errors: cur.errors } },
    throughput,
    figures,
    attribution: attribute(figures),
  };
}

/** Each stage's change of mean latency, and the rest (`other`), ordered by their part in the end-to-end change. */
function attribute(figures: readonly FigureComparison[]): StageShare[] {
  const e2e = figures.find((f) => f.figure === 'end_to_end');
  if (!e2e) return [];
  const stages = figures.filter((f) => f.figure !== 'end_to_end');
  const total = e2e.mean.difference.value;
  const parts: StageShare[] = stages.map((f) => ({ stage: f.figure as StageName, difference_ms: f.mean.difference.value, share: null }));
  parts.push({ stage: 'other', difference_ms: total - parts.reduce((a, p) => a + p.difference_ms, 0), share: null });
  return rank(parts, total);
}

function rank(parts: StageShare[], total: number): StageShare[] {
  const sign = total < 0 ? -1 : 1;
  return parts
    .map((p) => ({ ...p, share: total === 0 ? null : p.difference_ms / total }))
    .sort((a, b) => sign * (b.difference_ms - a.difference_ms));
}

function sumAttribution(steps: readonly StepComparison[]): StageShare[] {
  const byStage = new Map<StageShare['stage'], number>();
  for (const step of steps) for (const p of step.attribution) byStage.set(p.stage, (byStage.get(p.stage) ?? 0) + p.difference_ms);
  const total = steps.reduce((a, s) => a + (s.figures.find((f) => f.figure === 'end_to_end')?.mean.difference.value ?? 0), 0);
  return rank(
    [...byStage].map(([stage, difference_ms]) => ({ stage, difference_ms, share: null })),
    total,
  );
}

function settingNotes(baseline: BenchResult, current: BenchResult): string[] {
  const model = (r: BenchResult) => (r.model ? `${r.model.name} ${r.model.version} (${r.model.provider})` : 'unknown');
  const machine = (r: BenchResult) => `${r.machine.cpus} × ${r.machine.cpu_model}, ${r.machine.memory_gib} GiB`;
  const notes: string[] = [];
  const differ = (what: string, a: string, b: string) => {
    if (a !== b) notes.push(`${what} differ: ${a} → ${b}`);
  };
  differ('models', model(baseline), model(current));
  differ('machines', machine(baseline), machine(current));
  differ('modes', baseline.mode, current.mode);
  differ('app versions', baseline.version, current.version);
  return notes;
}

export function compareBenchResults(baseline: BenchResult, current: BenchResult, options: CompareOptions): BenchComparison {
  const resolved: Required<CompareOptions> = { ...COMPARE_DEFAULTS, ...options };
  const steps = matchSteps(baseline, current).map(([a, b]) => compareStep(a, b, resolved));
  const regressions: Finding[] = [];
  const improvements: Finding[] = [];
  for (const step of steps) {
    const name = stepName(step);
    const note = (list: Finding[], figure: Finding['figure'], quantile: number | null, change: Change) =>
      list.push({ step: name, figure, quantile, change });
    if (step.throughput.regression) note(regressions, 'throughput', null, step.throughput);
    if (step.throughput.improvement) note(improvements, 'throughput', null, step.throughput);
    for (const f of step.figures) {
      for (const q of f.quantiles) {
        if (q.regression) note(regressions, f.figure, q.quantile, q);
        if (q.improvement) note(improvements, f.figure, q.quantile, q);
      }
    }
  }
  const size = (f: Finding) => Math.abs(f.change.relative?.value ?? Infinity);
  regressions.sort((a, b) => size(b) - size(a));
  improvements.sort((a, b) => size(b) - size(a));
  return {
    max_regression: resolved.maxRegression,
    confidence: resolved.confidence,
    iterations: resolved.iterations,
    seed: resolved.seed,
    steps,
    regressions,
    improvements,
    attribution: sumAttribution(steps),
    notes: settingNotes(baseline, current),
  };
}
