import type { RawPipeline } from './bench-targets.ts';
import { median } from './bench-stats.ts';
import type { NamedCheckPair } from '../../../preload/wire-types.ts';
import { runStep, type CheckTarget } from './load-generator.ts';

/**
 * The app against the raw pipeline measured side by side: alternating rounds in one run, so that
 * the drift of a shared machine (its speed changes from minute to minute) hits both alike. A
 * sweep measures the raw pipeline first and the app a minute later; on these machines that gap
 * alone moved a figure by 10-30%, so the targets are judged on these paired figures.
 */
export interface PairedFigures {
  /** Concurrency 1, one pair at a time, one image: raw and app alternate (order swapped each round). */
  latency: { rounds: number; raw_p50_ms: number | null; app_p50_ms: number | null; median_difference_ms: number | null };
  /** Best raw batch size vs the app at its highest concurrency, alternating slices of equal length. */
  throughput: {
    raw_batch_size: number;
    app_concurrency: number;
    slice_s: number;
    raw_pairs_per_s: number[];
    app_qps: number[];
    /** app / raw per round. */
    ratios: number[];
    median_ratio: number | null;
  };
}

/**
 * A pause before every timed call in the latency rounds: a call that starts right after the other
 * side's would compete with what that call left running (onnxruntime's intra-op threads spin-wait
 * for a while after a run where spinning is on, OFA_VE_ORT_SPINNING=1; measured then: the raw
 * pipeline's P50 moved by 10 ms with the worker's priority alone). After the pause both sides start
 * alike, with idle threads.
 */
const SETTLE_MS = 50;
/** The pause before a timed call (also bench/pipeline-bench.ts's). */
export const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

export async function pairedLatency(raw: RawPipeline, app: CheckTarget, pairs: readonly NamedCheckPair[], rounds: number) {
  for (let i = 0; i < 3; i++) {
    await raw.checkOne(pairs[i % pairs.length]!);
    await app(pairs[i % pairs.length]!);
  }
  const rawMs: number[] = [];
  const appMs: number[] = [];
  const differences: number[] = [];
  // One image throughout: over the whole set (320x240 to 1280x960) the latencies form clusters by
  // image size, and a P50 falls in one cluster or the next on a few samples.
  const pair = pairs[1 % pairs.length]!;
  for (let i = 0; i < rounds; i++) {
    let r: number;
    let a;
    if (i % 2 === 0) {
      await settle();
      r = await raw.checkOne(pair);
      await settle();
      a = await app(pair);
    } else {
      await settle();
      a = await app(pair);
      await settle();
      r = await raw.checkOne(pair);
    }
    if (!a.ok) continue;
    rawMs.push(r);
    appMs.push(a.latencyMs);
    differences.push(a.latencyMs - r);
  }
  return { rounds: differences.length, raw_p50_ms: median(rawMs), app_p50_ms: median(appMs), median_difference_ms: median(differences) };
}

export async function pairedThroughput(
  raw: RawPipeline,
  rawBatchSize: number,
  app: CheckTarget,
  pairs: readonly NamedCheckPair[],
  options: { concurrency: number; rounds: number; sliceS: number; warmupS: number },
) {
  const rawRates: number[] = [];
  const appRates: number[] = [];
  const measureApp = async () => {
    const outcome = await runStep(app, pairs, { concurrency: options.concurrency, durationS: options.sliceS, warmupS: options.warmupS });
    return outcome.samples.filter((s) => s.ok).length / outcome.elapsedS;
  };
  const measureRaw = async () => (await raw.measure(rawBatchSize, options.sliceS)).pairsPerS;
  for (let round = 0; round < options.rounds; round++) {
    if (round % 2 === 0) {
      rawRates.push(await measureRaw());
      appRates.push(await measureApp());
    } else {
      appRates.push(await measureApp());
      rawRates.push(await measureRaw());
    }
  }
  const ratios = appRates.map((a, i) => a / rawRates[i]!);
  return {
    raw_batch_size: rawBatchSize,
    app_concurrency: options.concurrency,
    slice_s: options.sliceS,
    raw_pairs_per_s: rawRates,
    app_qps: appRates,
    ratios,
    median_ratio: median(ratios),
  };
}
