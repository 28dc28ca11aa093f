/** `ofa-ve bench compare` as markdown: verdict and cause first, then one table per step. */
import type { BenchResult } from './bench-result-file.ts';
import {
  MATERIAL_SHARE,
  MIN_SAMPLES,
  MIN_TAIL_SAMPLES,
  type BenchComparison,
  type Change,
  type Finding,
  type JudgedChange,
  type StageShare,
  type StepComparison,
} from './bench-compare.ts';
import type { Estimate } from './bench-stats.ts';

const ms = (v: number) => (Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(1));
const signed = (v: number, format: (v: number) => string) => (v > 0 ? `+${format(v)}` : v < 0 ? `−${format(-v)}` : format(0));
const percent = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '∞');
/** A bound or a confidence level: 10%, 2.5%, 95%. */
const level = (v: number) => `${Number((100 * v).toFixed(2))}%`;
const share = (v: number) => (v < 0 ? `−${percent(-v)}` : percent(v));
const withCi = (e: Estimate, format: (v: number) => string) => `${format(e.value)} (${format(e.ci.lo)} … ${format(e.ci.hi)})`;
const figureLabel = (figure: string) => (figure === 'end_to_end' ? 'end-to-end' : figure);
const quantileLabel = (q: number) => `P${Math.round(q * 100)}`;
const stageLabel = (stage: StageShare['stage']) => (stage === 'other' ? 'time outside the stages' : stage);

/** "inference P50 at concurrency 1, max batch 8: 41.9 → 50.3 ms (+20.0%, 95% CI +17.9% … +22.3%)" */
export function describeFinding(f: Finding, confidence: number): string {
  const unit = f.figure === 'throughput' ? ' QPS' : ' ms';
  const name = f.figure === 'throughput' ? 'throughput' : `${figureLabel(f.figure)} ${quantileLabel(f.quantile ?? 0.5)}`;
  const c = f.change;
  const r = c.relative;
  const relative = r
    ? `${signed(r.value, percent)}, ${level(confidence)} CI ${signed(r.ci.lo, percent)} … ${signed(r.ci.hi, percent)}`
    : `${signed(c.difference.value, ms)}${unit}`;
  return `${name} at ${f.step}: ${ms(c.baseline.value)} → ${ms(c.current.value)}${unit} (${relative})`;
}

/** "inference (+8.41 ms, 97.8%), then …": each part's change of the mean latency and its share of the total, largest first. */
export function describeShares(shares: readonly StageShare[], count = 3): string {
  // Parts that did not move (under 0.005 ms) say nothing; the first is kept so that something is named.
  return shares
    .filter((s, i) => i === 0 || Math.abs(s.difference_ms) >= 0.005)
    .slice(0, count)
    .map((s) => `${stageLabel(s.stage)} (${signed(s.difference_ms, ms)} ms${s.share === null ? '' : `, ${share(s.share)}`})`)
    .join(', then ');
}

/** The verdict, the regressions and the stage that explains most of the change. */
export function formatVerdict(c: BenchComparison): string {
  return verdict(c).join('\n');
}

function verdict(c: BenchComparison): string[] {
  const bound = level(c.max_regression);
  const lines: string[] = [];
  if (c.regressions.length > 0) {
    lines.push(
      `**Regression** beyond the ${bound} bound at ${level(c.confidence)} confidence (its whole interval beyond the bound; exit 1):`,
      '',
    );
    for (const f of c.regressions) lines.push(`- ${describeFinding(f, c.confidence)}`);
  } else {
    lines.push(`**No regression** beyond the ${bound} bound (exit 0).`);
  }
  if (c.improvements.length > 0) {
    lines.push('', `Improvements beyond ${bound}:`, '');
    for (const f of c.improvements) lines.push(`- ${describeFinding(f, c.confidence)}`);
  }
  const other = c.steps
    .flatMap((s) => [s.throughput, ...s.figures.flatMap((f) => f.quantiles)])
    .filter((q) => q.judged && q.significant && !q.regression && !q.improvement).length;
  if (other > 0) {
    const figures = `${other} other figure${other === 1 ? '' : 's'}`;
    lines.push('', `${figures} changed significantly: within the bound, or a stage's change too small to matter.`);
  }
  if (c.attribution.length > 0) {
    const total = c.attribution.reduce((a, s) => a + s.difference_ms, 0);
    const moved = c.steps.filter((s) => s.figures[0]?.figure === 'end_to_end' && s.figures[0].mean.significant).length;
    const where = moved === 0 ? 'not significant in any step' : `significant in ${moved} of ${c.steps.length} steps`;
    lines.push(
      '',
      `Mean end-to-end latency changed by ${signed(total, ms)} ms summed over the steps (${where}); ` +
        `most of it: ${describeShares(c.attribution)}.`,
    );
  }
  return lines;
}

function header(files: { baseline: string; current: string }, runs: { baseline: BenchResult; current: BenchResult }): string[] {
  const model = ({ model: m }: BenchResult) => (m ? `${m.name} ${m.version} (${m.provider}${m.demo ? ', demo' : ''})` : '—');
  const machine = ({ machine: m }: BenchResult) => `${m.cpus} × ${m.cpu_model}, ${m.memory_gib} GiB, ${m.platform}, node ${m.node}`;
  const rows: Array<[string, (r: BenchResult) => string]> = [
    ['date', (r) => r.date],
    ['command', (r) => `\`${r.command}\``],
    ['model', model],
    ['mode', (r) => r.mode],
    ['version', (r) => r.version],
    ['machine', machine],
  ];
  return [
    `| | baseline | current |`,
    '|---|---|---|',
    `| file | ${files.baseline} | ${files.current} |`,
    ...rows.map(([label, get]) => `| ${label} | ${get(runs.baseline)} | ${get(runs.current)} |`),
  ];
}

function mark(c: JudgedChange): string {
  if (!c.judged) return 'too few samples';
  if (c.regression) return '**yes: regression**';
  if (c.improvement) return 'yes: improvement';
  if (c.significant && 'material' in c && !c.material) return 'yes, too small to matter';
  return c.significant ? 'yes' : 'no';
}

function row(label: string, c: Change, judged: string, format: (v: number) => string): string {
  const cells = [
    label,
    withCi(c.baseline, format),
    withCi(c.current, format),
    withCi(c.difference, (v) => signed(v, format)),
    c.relative ? withCi(c.relative, (v) => signed(v, percent)) : '—',
    judged,
  ];
  return `| ${cells.join(' | ')} |`;
}

const describeRequests = (r: { sent: number; errors: number }) => `${r.sent} (${r.errors} failed)`;

function stepSection(step: StepComparison, confidence: number): string[] {
  const e2e = step.figures.find((f) => f.figure === 'end_to_end');
  const ci = `${level(confidence)} CI`;
  const lines = [
    `## Concurrency ${step.concurrency}, max batch ${step.max_batch_size}`,
    '',
    `Requests: ${describeRequests(step.requests.baseline)} in the baseline, ` +
      `${describeRequests(step.requests.current)} in the current run; ` +
      (e2e ? `latency samples: ${e2e.samples.baseline} and ${e2e.samples.current}.` : 'no answered requests in one of the runs.'),
    '',
    `| figure | baseline (${ci}) | current (${ci}) | difference (${ci}) | change (${ci}) | significant |`,
    '|---|---|---|---|---|---|',
    row('throughput QPS', step.throughput, mark(step.throughput), (v) => v.toFixed(2)),
  ];
  for (const f of step.figures) {
    for (const q of f.quantiles) lines.push(row(`${figureLabel(f.figure)} ${quantileLabel(q.quantile)} ms`, q, mark(q), ms));
  }
  if (e2e && step.attribution.length > 0) {
    const d = e2e.mean.difference;
    lines.push(
      '',
      `Mean end-to-end latency ${signed(d.value, ms)} ms (${ci} ${signed(d.ci.lo, ms)} … ${signed(d.ci.hi, ms)}, ` +
        `${e2e.mean.significant ? 'significant' : 'not significant'}); ` +
        `by stage: ${describeShares(step.attribution, step.attribution.length)}.`,
    );
  }
  return lines;
}

export function formatComparison(
  comparison: BenchComparison,
  files: { baseline: string; current: string },
  runs: { baseline: BenchResult; current: BenchResult },
): string {
  const c = comparison;
  const lines = ['# ofa-ve bench compare', '', ...verdict(c), '', ...header(files, runs)];
  if (c.notes.length > 0) lines.push('', ...c.notes.map((n) => `- Note: ${n}.`));
  lines.push(
    '',
    `Method: ${c.iterations} bootstrap resamples of each run's per-request samples (seed ${c.seed}), ${level(c.confidence)} percentile ` +
      `intervals. A difference is significant when its interval excludes 0; it fails the gate when it is also worse than the bound ` +
      `(latency up, throughput down). A quantile is judged with at least ${MIN_SAMPLES} samples and ${MIN_TAIL_SAMPLES} above it ` +
      'in both runs ' +
      `(P90: ${MIN_TAIL_SAMPLES * 10}, P99: ${MIN_TAIL_SAMPLES * 100}); a stage counts only when its change is at least ` +
      `${level(MATERIAL_SHARE)} of the end-to-end figure. Throughput intervals come from the mean latency (closed loop: ` +
      'QPS ≈ concurrency / mean latency). Samples are resampled in blocks of up to `concurrency` consecutive requests, as ' +
      'requests answered together (one batch) are not independent.',
  );
  for (const step of c.steps) lines.push('', ...stepSection(step, c.confidence));
  return lines.join('\n');
}
