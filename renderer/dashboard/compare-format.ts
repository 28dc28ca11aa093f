/**
 * Pure helpers of the Compare and Slices panels: the ranges a choice of marks means, and the words
 * and figures the comparison table prints. DOM-free so node:test checks them (test/unit/compare-format.test.ts).
 */
import type { ComparedRange, Mark, PeriodComparison, QuantileEstimate, SliceAttribute, StageChange } from '../../preload/wire-types.ts';
import { MINUS, NO_VALUE, STAGE_SHORT_LABELS, formatClock, formatCount, formatMs, formatPercent } from './stats-format.ts';

export const ATTRIBUTE_LABELS: Record<SliceAttribute, string> = {
  caption_script: 'Caption script',
  caption_tokens: 'Caption tokens',
  image_size: 'Image size',
  image_format: 'Image format',
  premise: 'Premise',
};

/** One end of a range as the picker offers it: `now`, `ago:<minutes>` or `mark:<at_ms>`. */
export type RangeEnd = string;

export const AGO_CHOICES_MIN = [5, 15, 60, 24 * 60] as const;

export function agoLabel(minutes: number): string {
  return minutes >= 60 ? `${minutes / 60} h ago` : `${minutes} min ago`;
}

/** The epoch ms an end stands for at `nowMs`; undefined for a mark that is not there. */
export function resolveEnd(end: RangeEnd, nowMs: number): number | undefined {
  if (end === 'now') return nowMs;
  const [kind, value] = end.split(':');
  const n = Number(value);
  if (!Number.isFinite(n)) return undefined;
  if (kind === 'ago') return nowMs - n * 60_000;
  if (kind === 'mark') return n;
  return undefined;
}

export interface RangeChoice {
  from: RangeEnd;
  to: RangeEnd;
}

/**
 * Why range `name` cannot be compared at `nowMs` (an end whose mark is gone, or a range that ends
 * where or before it starts), in words for the panel; undefined when it can.
 */
export function rangeProblem(name: string, range: RangeChoice, nowMs: number): string | undefined {
  const from = resolveEnd(range.from, nowMs);
  const to = resolveEnd(range.to, nowMs);
  if (from === undefined || to === undefined) return `choose both ends of range ${name}`;
  if (to === from) return `range ${name} is empty: its "from" and "to" are the same time; choose a later "to"`;
  if (to < from) return `range ${name} ends before it starts: choose a "to" later than its "from"`;
  return undefined;
}

/**
 * "Before" and "after" a mark: from the mark before it (at most 15 min back) to it, and from it to
 * the next mark or now. What the marks list's Compare button picks.
 */
export function aroundMark(marks: readonly Mark[], index: number): { a: RangeChoice; b: RangeChoice } {
  const mark = marks[index]!;
  const previous = marks[index - 1];
  const next = marks[index + 1];
  const from = previous && previous.at_ms > mark.at_ms - 15 * 60_000 ? `mark:${previous.at_ms}` : 'ago:15';
  return { a: { from, to: `mark:${mark.at_ms}` }, b: { from: `mark:${mark.at_ms}`, to: next ? `mark:${next.at_ms}` : 'now' } };
}

/** Display names of the stages and the untimed rest. */
export function stageLabel(stage: StageChange['stage'] | 'untimed'): string {
  if (stage === 'end_to_end') return 'end to end';
  if (stage === 'untimed') return 'untimed';
  return STAGE_SHORT_LABELS[stage];
}

/** A quantile and its interval apart ("425 ms", "[410 ms–440 ms]"), so a narrow table can wrap between them. */
export function estimateParts(estimate: QuantileEstimate): { value: string; interval: string } {
  if (estimate.value_ms === null) return { value: NO_VALUE, interval: '' };
  const interval =
    estimate.low_ms !== null && estimate.high_ms !== null ? `[${formatMs(estimate.low_ms)}–${formatMs(estimate.high_ms)}]` : '';
  return { value: formatMs(estimate.value_ms), interval };
}

/** A quantile and its interval: "425 ms [410 ms–440 ms]". */
export function formatEstimate(estimate: QuantileEstimate): string {
  const { value, interval } = estimateParts(estimate);
  return interval ? `${value} ${interval}` : value;
}

/**
 * A signed difference and its share of the first value: "+12.5 ms (+4.2%)", "−3.10 ms (−1.0%)". One
 * too small to print ("<0.01 ms") has no sign: a sign would claim a direction the figure cannot show.
 */
export function formatDifference(differenceMs: number | null, baseMs: number | null): string {
  if (differenceMs === null || !Number.isFinite(differenceMs)) return NO_VALUE;
  const magnitude = formatMs(Math.abs(differenceMs));
  const sign = differenceMs > 0 ? '+' : differenceMs < 0 ? MINUS : '±';
  // "<0.01 ms" carries no sign (it would read "−<0.01 ms"); the relative change keeps it, since it
  // may be well above its own precision (−0.004 of 0.006 ms is −66.7%).
  const shownSign = magnitude.startsWith('<') ? '' : sign;
  const relative = baseMs !== null && baseMs > 0 ? ` (${sign}${formatPercent(Math.abs(differenceMs) / baseMs)})` : '';
  return `${shownSign}${magnitude}${relative}`;
}

/** A count, with "≈" when it is an estimate (Prometheus' increase() extrapolates): "≈1,134". 0 is exact: the counters did not move. */
export function formatCountOf(count: number, estimated: boolean | undefined): string {
  return `${estimated && count !== 0 ? '≈' : ''}${formatCount(count)}`;
}

/** A stage table's caption after its name: "688 → 276 values · 95% of the change" (a stage's share, not end to end's). */
export function stageCountsPhrase(change: StageChange, estimated?: boolean): string {
  const share =
    change.stage !== 'end_to_end' && change.share_of_change !== null ? ` · ${formatPercent(change.share_of_change, 0)} of the change` : '';
  return `${formatCountOf(change.count_a, estimated)} → ${formatCountOf(change.count_b, estimated)} values${share}`;
}

/**
 * One period's line under the verdict: its times, checks (≈ when estimated), the resolution and
 * the error rate. From Prometheus the resolution is its scrape interval, or unknown when it did not say.
 */
export function periodPhrase(range: ComparedRange, comparison: Pick<PeriodComparison, 'source' | 'counts_estimated'>): string {
  const resolution =
    comparison.source === 'prometheus'
      ? range.resolution_s === null
        ? 'scrape interval unknown'
        : `${range.resolution_s} s scrape interval`
      : `${range.resolution_s ?? '?'} s periods`;
  const checks = `${formatCountOf(range.requests, comparison.counts_estimated)} checks`;
  return `${formatClock(range.from)}–${formatClock(range.to)} · ${checks} · ${resolution} · errors ${formatPercent(range.error_rate)}`;
}

/** A Prometheus URL as the source choice shows it: host and path prefix, no scheme ("127.0.0.1:9397"). */
export function prometheusHost(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

/** Significant yes/no, and why a difference was not tested. */
export function significanceLabel(change: { testable: boolean; significant: boolean }): string {
  if (!change.testable) return 'not tested';
  return change.significant ? 'yes' : 'no';
}

/** The table's rows: end to end first, then the stages as the comparison orders them (most of the change first). */
export function comparedRows(comparison: PeriodComparison): StageChange[] {
  return [comparison.end_to_end, ...comparison.stages];
}

/**
 * The verdict, first in the panel: what changed end to end and what explains it ("Most of the
 * change: tokenize, in the cjk slice"), or that nothing changed significantly.
 */
export function comparisonVerdict(comparison: PeriodComparison): string {
  const mean = comparison.end_to_end.mean;
  const change = `Mean latency ${formatMs(mean.a_ms)} → ${formatMs(mean.b_ms)}, ${formatDifference(mean.difference_ms, mean.a_ms)}`;
  const explained = comparison.explained_by;
  if (!explained) {
    const why =
      comparison.end_to_end.count_a === 0 || comparison.end_to_end.count_b === 0
        ? 'a period has no successful checks'
        : 'no significant change end to end';
    return `${change}: ${why}.`;
  }
  let cause = `Most of the change: ${stageLabel(explained.stage)} (${formatPercent(explained.share_of_change, 0)} of it)`;
  const slice = comparison.slices?.cause;
  if (slice) {
    cause +=
      slice.kind === 'within'
        ? `, in the ${slice.slice} slice${slice.stage && slice.stage !== explained.stage ? ` (its ${stageLabel(slice.stage)})` : ''}`
        : `, from the share of ${slice.slice} checks changing`;
  }
  return `${cause}. ${change}, significant.`;
}
