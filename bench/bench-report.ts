/**
 * Runs the benchmark suite (each piece writes JSON into bench/results/) and regenerates
 * BENCHMARKS.md from those files, every figure with the command that produced it.
 *   npm run bench:report                 # run everything (~25 minutes on 2 cores, the two ofa-arch pieces ~15 of them), then render
 *   npm run bench:report -- --render     # only re-render BENCHMARKS.md from bench/results/*.json
 *   npm run bench:report -- --only NAME  # run one piece (sweep, http, batching, metrics, instrumentation, live-stats, startup, batch-scaling, arena,
 *                                        # ofa-arch: OFA's architecture at OFA-tiny sizes, ~5 minutes; needs ../shared/ofa-port and python3-torch;
 *                                        # pipeline, pipeline-shared (its CPU part with one core busy with other work),
 *                                        # pipeline-ofa-arch (its CPU part with that model, ~10 minutes),
 *                                        # resize (pinned to core 0 with taskset), retention, slice-cost, checker-scale: the browser UI with 2,000 photos)
 * The leak check (bench/leak-check.ts, about an hour) is run by hand; its JSON is rendered when present.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../main/cli/bench-command.ts';
import { formatReport } from '../main/cli/bench-command.ts';
import type { StepFigures } from '../main/cli/bench/step-report.ts';
import { renderOfaArch, type OfaArchResult } from './ofa-arch-report.ts';
import { renderPipeline, type PipelineBenchResult } from './pipeline-report.ts';
import { renderCheckerScale, type CheckerScaleResult } from './checker-scale-report.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = path.join(root, 'bench', 'results');
const file = (name: string) => path.join(results, `${name}.json`);

const PIECES: Record<string, string[]> = {
  sweep: ['bin/ofa-ve.js', 'bench', '--raw', '--concurrency', '1,2,4,8,16', '--duration', '10', '--json', file('sweep')],
  http: ['bin/ofa-ve.js', 'bench', '--http', '--raw', '--concurrency', '1,2,4,8,16', '--duration', '10', '--json', file('http')],
  batching: [
    'bin/ofa-ve.js',
    'bench',
    '--concurrency',
    '1,4,16',
    '--max-batch-size',
    '1,2,4,8,16',
    '--duration',
    '15',
    '--warmup',
    '1',
    '--json',
    file('batching'),
  ],
  metrics: ['--import', 'tsx', 'bench/metrics-under-load.ts', '--json', file('metrics-under-load')],
  instrumentation: ['--import', 'tsx', 'bench/instrumentation-bench.ts', '--json', file('instrumentation')],
  'live-stats': ['--expose-gc', '--import', 'tsx', 'bench/live-stats-bench.ts', '--json', file('live-stats')],
  startup: ['--import', 'tsx', 'bench/startup-bench.ts', '--json', file('startup')],
  'batch-scaling': ['--import', 'tsx', 'bench/onnx-batch-scaling.ts', '--json', file('onnx-batch-scaling')],
  arena: ['--import', 'tsx', 'bench/onnx-arena.ts', '--max-batch', '8', '--json', file('onnx-arena')],
  'ofa-arch': ['--import', 'tsx', 'bench/ofa-arch-bench.ts', '--json', file('ofa-arch')],
  pipeline: ['--import', 'tsx', 'bench/pipeline-bench.ts', '--rounds', '3', '--json', file('pipeline')],
  // Its CPU part again with one core kept busy by another process: a machine shared with other work,
  // where onnxruntime's spin-waiting threads compete for the cores (~4 minutes).
  'pipeline-shared': [
    '--import',
    'tsx',
    'bench/pipeline-bench.ts',
    '--cpu-only',
    '--rounds',
    '6',
    '--busy-cores',
    '1',
    '--json',
    file('pipeline-shared'),
  ],
  // A pair takes about a second there: long slices, batches of at most 8.
  'pipeline-ofa-arch': [
    '--import',
    'tsx',
    'bench/pipeline-bench.ts',
    '--cpu-only',
    '--ofa-arch',
    '--seconds',
    '60',
    '--rounds',
    '2',
    '--cpu-concurrency',
    '8',
    '--json',
    file('pipeline-ofa-arch'),
  ],
  // One core for both sides (Pillow's process inherits the affinity); spawnSync runs taskset as the program.
  resize: ['--import', 'tsx', 'bench/resize-vs-pillow.ts', '--json', file('resize-vs-pillow')],
  retention: ['--expose-gc', '--import', 'tsx', 'bench/retention-size.ts', '--json', file('retention')],
  'slice-cost': ['--import', 'tsx', 'bench/slice-cost.ts', '--json', file('slice-cost')],
  // The browser UI with 2,000 photos (~2 minutes; needs Debian's chromium).
  'checker-scale': ['--import', 'tsx', 'bench/checker-scale-bench.ts', '--images', '2000', '--json', file('checker-scale')],
};

const args = process.argv.slice(2);
if (!args.includes('--render')) {
  const only = args.includes('--only') ? [args[args.indexOf('--only') + 1]!] : Object.keys(PIECES);
  for (const name of only) {
    const piece = PIECES[name];
    if (!piece) throw new Error(`unknown piece ${name}; one of ${Object.keys(PIECES).join(', ')}`);
    console.error(`[bench:report] ${name}: node ${piece.join(' ')}`);
    const pinned = name === 'resize' && process.platform === 'linux';
    const [program, argv] = pinned ? ['taskset', ['-c', '0', process.execPath, ...piece]] : [process.execPath, piece];
    const run = spawnSync(program, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.status !== 0 && name !== 'batching') throw new Error(`${name} failed with exit ${run.status}`);
  }
}

function read<T>(name: string): T | undefined {
  return existsSync(file(name)) ? (JSON.parse(readFileSync(file(name), 'utf8')) as T) : undefined;
}

// What each piece writes into bench/results/, as far as BENCHMARKS.md reads it (the scripts write more).

/** Every script's JSON: the command that produced it, shown above its figures. */
interface ScriptResult {
  command: string;
}

/** bench/instrumentation-bench.ts: the per-request recording, against the same loop without it. */
interface InstrumentationResult extends ScriptResult {
  instrumentation_us_median: number;
  with_us_median: number;
  without_us_median: number;
}

/** bench/metrics-under-load.ts: /metrics scrapes, idle and under a saturating load. */
interface MetricsUnderLoadResult extends ScriptResult {
  idle_median_ms: number;
  loaded_median_ms: number;
  loaded_p90_ms: number;
  loaded_p99_ms: number;
  checks_per_s_during: number;
}

/** bench/live-stats-bench.ts: LiveStats' record() and snapshots at 1000 req/s. */
interface LiveStatsBenchResult extends ScriptResult {
  record_us_median: number;
  snapshot60_ms_median: number;
  snapshot300_ms_median: number;
  snapshot900_ms_median: number;
  slowest20_ms_median: number;
  flat_merge_one_kind_ms_median: number;
  memory_mib: number;
}

/** bench/startup-bench.ts: launch of `ofa-ve serve` to listening and to /readyz 200. */
interface StartupResult extends ScriptResult {
  listening_ms_median: number;
  ready_ms_median: number;
  ready_ms_all: number[];
  /** How often /readyz was asked (5 ms where the file does not say). */
  poll_ms?: number;
}

/** One RSS reading of bench/leak-check.ts, after a GC. */
interface LeakCheckpoint {
  requests: number;
  service_rss_mib: number;
  worker_rss_mib: number;
}

/** bench/leak-check.ts: RSS over 100k requests. */
interface LeakCheckResult extends ScriptResult {
  seconds: number;
  failed: number;
  /** Growth from the first checkpoint to the last, as a fraction. */
  service_rss_growth: number;
  worker_rss_growth: number;
  checkpoints: LeakCheckpoint[];
}

/** One batch size of bench/onnx-batch-scaling.ts. */
interface BatchScalingRow {
  batch: number;
  fixed_ms_per_pair: number;
  varying_ms_per_pair: number;
}

/** bench/onnx-batch-scaling.ts: session.run alone, by batch size. */
interface BatchScalingResult extends ScriptResult {
  rounds: number;
  rows: BatchScalingRow[];
}

/** The inference worker's RSS in one mode of bench/onnx-arena.ts. */
interface ArenaMemory {
  after_load_mib: number;
  after_runs_mib: number;
}

/** One batch size of bench/onnx-arena.ts, with and without the arena. */
interface ArenaSpeedRow {
  batch: number;
  arena_ms_per_pair: number;
  no_arena_ms_per_pair: number;
}

/** bench/onnx-arena.ts: onnxruntime's CPU arena, memory and speed. */
interface ArenaResult extends ScriptResult {
  max_batch: number;
  memory: Record<'arena' | 'no_arena', ArenaMemory>;
  speed: ArenaSpeedRow[];
}

/** One image of bench/resize-vs-pillow.ts. */
interface ResizeRow {
  image: string;
  oursMs: number;
  pillowMs: number;
  speedup: number;
  oursCpuMs: number;
  pillowCpuMs: number;
  cpuSpeedup: number;
}

/** bench/resize-vs-pillow.ts: our resize against Pillow's on the same pixels. */
interface ResizeResult extends ScriptResult {
  backend: string;
  pillow: string;
  output: string;
  reps: number;
  bitExact: boolean;
  rows: ResizeRow[];
  minSpeedup: number;
  geomeanSpeedup: number;
}

/** bench/retention-size.ts: a day of telemetry retention, in memory and on disk. */
interface RetentionResult extends ScriptResult {
  hours: number;
  rate_per_s: number;
  checks: number;
  memory_mb: number;
  history_blobs_mb: number;
  disk_mb: number;
  hour_files: number;
  disk_bytes_per_minute: number;
  record_us: number;
  compare_two_halves_ms: number;
  load_history_ms: number;
}

/** bench/slice-cost.ts: the per-check cost of input slices. */
interface SliceCostResult extends ScriptResult {
  rate_per_s: number;
  slicing_us_per_check: number;
  record_us_per_check_with_attributes: number;
  describe_input_us_per_check: number;
  minute_to_history_ms: number;
}

/** A batching run's steps by concurrency, each group in max batch size order as measured. */
function stepsByConcurrency(report: BenchReport): Map<number, StepFigures[]> {
  const byC = new Map<number, StepFigures[]>();
  for (const s of report.steps) byC.set(s.concurrency, [...(byC.get(s.concurrency) ?? []), s]);
  return byC;
}

const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

const out: string[] = [
  '# Benchmarks',
  '',
  'Generated by `npm run bench:report` from `bench/results/*.json` (each section names the command',
  'that produced it). Medians from one run on the machine named below; these machines are shared',
  'and noisy, so compare figures taken in the same run (ratios), not across runs.',
  '',
];

const sweep = read<BenchReport>('sweep');
const http = read<BenchReport>('http');
const batching = read<BenchReport>('batching');
const machine = sweep?.machine;
if (machine)
  out.push(
    `Machine: ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gib} GiB, ${machine.platform}, Node ${machine.node}. Model: the demo model on CPU.`,
    '',
  );

const notes = path.join(results, 'notes.md');
if (existsSync(notes)) out.push(readFileSync(notes, 'utf8').trim(), '');

out.push('## Targets', '', '| target | figure | |', '|---|---|---|');
/** Throughput ratio and concurrency-1 latency from the side-by-side rounds of a --raw run. */
const throughputRow = (label: string, report: BenchReport | undefined, floor: number) => {
  const t = report?.paired?.throughput;
  if (!t || t.median_ratio === null) return;
  out.push(
    `| ${label} >= ${floor * 100}% of the raw pipeline | median of ${t.ratios.length} alternating rounds: ${t.ratios.map((r) => `${f(100 * r, 1)}%`).join(', ')} → ${f(100 * t.median_ratio, 1)}% (app at concurrency ${t.app_concurrency} vs raw at batch ${t.raw_batch_size}) | ${verdict(t.median_ratio >= floor)} |`,
  );
};
throughputRow('throughput in-process', sweep, 0.9);
throughputRow('throughput over HTTP', http, 0.85);
const latency = sweep?.paired?.latency;
if (latency && latency.app_p50_ms !== null && latency.raw_p50_ms !== null) {
  const delta = latency.app_p50_ms - latency.raw_p50_ms;
  out.push(
    `| latency at concurrency 1: app P50 within 2 ms of raw | ${f(latency.app_p50_ms)} ms vs ${f(latency.raw_p50_ms)} ms (${delta >= 0 ? '+' : ''}${f(delta)} ms; ${latency.rounds} alternating pairs, median paired difference ${f(latency.median_difference_ms)} ms) | ${verdict(delta <= 2)} |`,
  );
}
const instr = read<InstrumentationResult>('instrumentation');
if (instr)
  out.push(
    `| instrumentation per request <= 20 µs | ${f(instr.instrumentation_us_median)} µs | ${verdict(instr.instrumentation_us_median <= 20)} |`,
  );
const mul = read<MetricsUnderLoadResult>('metrics-under-load');
if (mul)
  out.push(
    `| /metrics under saturation: median <= 3 ms, P99 <= 20 ms | ${f(mul.loaded_median_ms)} ms, P99 ${f(mul.loaded_p99_ms)} ms | ${verdict(mul.loaded_median_ms <= 3 && mul.loaded_p99_ms <= 20)} |`,
  );
if (batching?.steps.length) {
  const byC = stepsByConcurrency(batching);
  let worst = Infinity;
  for (const steps of byC.values()) {
    const b1 = steps.find((s) => s.max_batch_size === 1)?.qps;
    if (b1) for (const s of steps) worst = Math.min(worst, s.qps / b1);
  }
  out.push(`| dynamic batching never loses more than 5% to batch 1 | worst ratio to batch 1: ${f(worst, 3)} | ${verdict(worst >= 0.95)} |`);
}
const live = read<LiveStatsBenchResult>('live-stats');
if (live)
  out.push(
    `| live stats: 15-minute window at 1000 req/s <= 2 ms | ${f(live.snapshot900_ms_median)} ms | ${verdict(live.snapshot900_ms_median <= 2)} |`,
  );
const startup = read<StartupResult>('startup');
if (startup)
  out.push(
    `| start-up: launch to /readyz 200 <= 1.5 s | ${f(startup.ready_ms_median, 0)} ms | ${verdict(startup.ready_ms_median <= 1500)} |`,
  );
const leak = read<LeakCheckResult>('leak-check');
if (leak) {
  const first = leak.checkpoints[0]!;
  const last = leak.checkpoints.at(-1)!;
  out.push(
    `| memory: RSS after 100k requests within 10% of after 10k | service ${f(first.service_rss_mib, 0)} → ${f(last.service_rss_mib, 0)} MiB (${f(100 * leak.service_rss_growth, 1)}%), worker ${f(first.worker_rss_mib, 0)} → ${f(last.worker_rss_mib, 0)} MiB (${f(100 * leak.worker_rss_growth, 1)}%) | ${verdict(leak.service_rss_growth <= 0.1 && leak.worker_rss_growth <= 0.1)} |`,
  );
} else
  out.push(
    '| memory: RSS after 100k requests within 10% of after 10k | not measured (`node --expose-gc --import tsx bench/leak-check.ts --json bench/results/leak-check.json`, about an hour) | |',
  );
out.push('');

const section = (title: string, report: BenchReport | undefined, note: string) => {
  if (!report) return;
  out.push(
    `## ${title} (${report.date.slice(0, 10)})`,
    '',
    note,
    '',
    '```',
    `node bin/${report.command.replace(/^ofa-ve /, 'ofa-ve.js ')}`,
    '```',
    '',
    formatReport(report).split('\n').slice(3).join('\n'),
    '',
  );
};
section(
  'Concurrency sweep in-process, with the raw pipeline',
  sweep,
  'The service in this process (queue, dynamic batcher, worker process, metrics, live stats), loaded directly. The raw pipeline is the same preprocessing and session.run in a tight loop in this thread: its batch table is measured first; the targets use the side-by-side rounds at the end (raw and app alternating), since a sweep minutes apart on this machine differs by more than the margins being judged.',
);
section(
  'Concurrency sweep over HTTP',
  http,
  'The same, with the HTTP server in front on loopback (multipart uploads through fetch from this process), and its own side-by-side rounds against the raw pipeline.',
);
section(
  'Dynamic batching',
  batching,
  `Throughput by max batch size at each concurrency: one service per max batch size, all running; each cell is ${batching?.rounds ?? 3} slices taken in turn with the other sizes (the order rotating), so drift hits every size alike.`,
);
const scaling = read<BatchScalingResult>('onnx-batch-scaling');
if (scaling) {
  const base = scaling.rows[0]!.fixed_ms_per_pair;
  out.push(
    'session.run alone (synthetic inputs of the real shapes, no preprocessing), every batch size and both modes once per round, interleaved:',
    '',
    '```',
    scaling.command,
    '```',
    '',
    '| batch | ms per pair (fixed caption length) | ms per pair (new length each run) | per-pair cost vs batch 1 |',
    '|---|---|---|---|',
  );
  for (const r of scaling.rows)
    out.push(`| ${r.batch} | ${f(r.fixed_ms_per_pair)} | ${f(r.varying_ms_per_pair)} | ${f(r.fixed_ms_per_pair / base, 3)} |`);
  out.push('');
}
if (batching?.steps.length) {
  const byC = stepsByConcurrency(batching);
  out.push(
    'Ratio of QPS to max batch 1 at the same concurrency (the gain, or loss, of batching):',
    '',
    `| conc | ${[...new Set(batching.steps.map((s) => s.max_batch_size))].map((b) => `batch ${b}`).join(' | ')} |`,
    `|---|${[...new Set(batching.steps.map((s) => s.max_batch_size))].map(() => '---').join('|')}|`,
  );
  for (const [c, steps] of byC) {
    const b1 = steps.find((s) => s.max_batch_size === 1)?.qps;
    out.push(`| ${c} | ${steps.map((s) => (b1 ? f(s.qps / b1, 3) : '—')).join(' | ')} |`);
  }
  out.push('');
}
if (mul) {
  out.push(
    `## /metrics under a saturating load`,
    '',
    '```',
    mul.command,
    '```',
    '',
    `Three processes: \`ofa-ve serve\`, a load process keeping ${'16'} checks in flight, and the scraper. Idle median ${f(mul.idle_median_ms)} ms; loaded median ${f(mul.loaded_median_ms)} ms, P90 ${f(mul.loaded_p90_ms)} ms, P99 ${f(mul.loaded_p99_ms)} ms while the service answered ${f(mul.checks_per_s_during, 1)} checks/s. prom-client's default event-loop collector computed the delay histogram's statistics at every scrape (stddev alone ~0.5 ms of a 1.15 ms scrape); \`main/telemetry/event-loop-metrics.ts\` serves the same names from a 5 s sampler, and a scrape now costs ~0.5 ms in the registry.`,
    '',
  );
}
if (instr)
  out.push(
    '## Instrumentation per request',
    '',
    '```',
    instr.command,
    '```',
    '',
    `The per-request recording of CheckService (counter, latency histogram with exemplar, five stage histograms, live stats) against the same loop without it, interleaved rounds: ${f(instr.with_us_median)} µs vs ${f(instr.without_us_median, 3)} µs, so ${f(instr.instrumentation_us_median)} µs per request.`,
    '',
  );
if (live) {
  out.push('## Live stats', '', '```', live.command, '```', '', '| operation | median |', '|---|---|');
  out.push(
    `| record() per request | ${f(live.record_us_median)} µs |`,
    `| snapshot(60) | ${f(live.snapshot60_ms_median)} ms |`,
    `| snapshot(300) | ${f(live.snapshot300_ms_median)} ms |`,
    `| snapshot(900) | ${f(live.snapshot900_ms_median)} ms |`,
    `| slowest(20) | ${f(live.slowest20_ms_median)} ms |`,
    `| one sketch kind merged from 900 per-second buckets (no 10 s / 60 s pre-merge) | ${f(live.flat_merge_one_kind_ms_median)} ms (x6 kinds per window) |`,
    `| memory for 15 min at 1000 req/s | ${f(live.memory_mib, 1)} MiB |`,
    '',
  );
}
if (startup)
  out.push(
    '## Start-up',
    '',
    '```',
    startup.command,
    '```',
    '',
    `Launch of \`ofa-ve serve\` (a new Node process that transpiles with tsx; the inference worker is forked first and loads the model while the service binds its port) to listening: ${f(startup.listening_ms_median, 0)} ms; to the first /readyz 200, asked every ${startup.poll_ms ?? 5} ms: ${f(startup.ready_ms_median, 0)} ms (runs: ${startup.ready_ms_all.join(', ')} ms).`,
    '',
  );
const arena = read<ArenaResult>('onnx-arena');
if (arena) {
  out.push("## Worker memory: onnxruntime's CPU arena", '', '```', arena.command, '```', '');
  out.push(
    `The inference worker's RSS is mostly onnxruntime's CPU memory arena, which keeps the high-water mark of the largest batch's activations. RSS after 60 runs of batch 1..${arena.max_batch} (fresh process each): ${f(arena.memory.arena.after_runs_mib, 0)} MiB with the arena, ${f(arena.memory.no_arena.after_runs_mib, 0)} MiB without (${f(arena.memory.arena.after_load_mib, 0)} MiB after loading the model).`,
    '',
    '| batch | ms per pair, arena | ms per pair, no arena | cost of no arena |',
    '|---|---|---|---|',
  );
  for (const s of arena.speed)
    out.push(
      `| ${s.batch} | ${f(s.arena_ms_per_pair)} | ${f(s.no_arena_ms_per_pair)} | x${f(s.no_arena_ms_per_pair / s.arena_ms_per_pair)} |`,
    );
  out.push(
    '',
    'The arena stays on: without it every batched run maps and zeroes fresh pages. The memory it holds is bounded by `--max-batch-size`, not by the number of requests (see the leak check).',
    '',
  );
}
if (leak) {
  out.push(
    '## Memory over 100k requests',
    '',
    '```',
    leak.command,
    '```',
    '',
    `${leak.checkpoints.at(-1)!.requests} checks through the in-process service in ${f(leak.seconds / 60, 1)} minutes (${leak.failed} failed), RSS sampled after a GC at each checkpoint:`,
    '',
    '| requests | service RSS MiB | worker RSS MiB |',
    '|---|---|---|',
  );
  for (const c of leak.checkpoints) out.push(`| ${c.requests} | ${f(c.service_rss_mib, 1)} | ${f(c.worker_rss_mib, 1)} |`);
  out.push('');
}
const ofaArch = read<OfaArchResult>('ofa-arch');
if (ofaArch) out.push(...renderOfaArch(ofaArch));
const pipeline = read<PipelineBenchResult>('pipeline');
if (pipeline) out.push(...renderPipeline(pipeline));
const pipelineShared = read<PipelineBenchResult>('pipeline-shared');
if (pipelineShared) out.push(...renderPipeline(pipelineShared));
const pipelineOfaArch = read<PipelineBenchResult>('pipeline-ofa-arch');
if (pipelineOfaArch) out.push(...renderPipeline(pipelineOfaArch));
const checkerScale = read<CheckerScaleResult>('checker-scale');
if (checkerScale) out.push(...renderCheckerScale(checkerScale));
const peer = path.join(results, 'peer.md');
if (existsSync(peer)) out.push(readFileSync(peer, 'utf8').trim(), '');
const resize = read<ResizeResult>('resize-vs-pillow');
if (resize) {
  out.push('## Resize against Pillow', '', '```', resize.command, '```', '');
  out.push(
    `To ${resize.output}, ours (${resize.backend}) vs Pillow ${resize.pillow} on the same pixels, one core for both, medians of ${resize.reps} alternating runs; ` +
      `outputs ${resize.bitExact ? 'bit-exact on every image' : '**not** bit-exact'}.`,
    '',
    '| image | ours ms | Pillow ms | Pillow / ours | ours CPU ms | Pillow CPU ms |',
    '|---|---|---|---|---|---|',
    ...resize.rows.map(
      (r) => `| ${r.image} | ${f(r.oursMs)} | ${f(r.pillowMs)} | x${f(r.speedup)} | ${f(r.oursCpuMs)} | ${f(r.pillowCpuMs)} |`,
    ),
    '',
    `Slowest ratio x${f(resize.minSpeedup)}, geometric mean x${f(resize.geomeanSpeedup)} (target: at least x1.5 on every image: ${verdict(resize.minSpeedup >= 1.5)}).`,
    '',
  );
}

const retention = read<RetentionResult>('retention');
const sliceCost = read<SliceCostResult>('slice-cost');
if (retention || sliceCost) {
  out.push('## Telemetry retention and input slices', '');
  if (retention) {
    out.push(
      '```',
      retention.command,
      '```',
      '',
      `${retention.hours} hours at ${retention.rate_per_s} checks/s (${retention.checks.toLocaleString('en')} checks, a fake clock): memory ${f(retention.memory_mb, 1)} MB ` +
        `(15 minutes of seconds with their slices + ${retention.hours} h of per-minute sketches; the history's blobs ${f(retention.history_blobs_mb)} MB), ` +
        `disk ${f(retention.disk_mb)} MB in ${retention.hour_files} hour files (${retention.disk_bytes_per_minute} bytes a minute). ` +
        `Comparing the two halves of the day by caption script: ${f(retention.compare_two_halves_ms, 1)} ms; loading the history at start: ${f(retention.load_history_ms, 1)} ms.`,
      '',
    );
  }
  if (sliceCost) {
    out.push(
      '```',
      sliceCost.command,
      '```',
      '',
      `Per check at ${sliceCost.rate_per_s} checks/s: slicing ${f(sliceCost.slicing_us_per_check, 3)} µs (every attribute's cells), the whole LiveStats.record with attributes ` +
        `${f(sliceCost.record_us_per_check_with_attributes, 3)} µs, working the attributes out ${f(sliceCost.describe_input_us_per_check, 3)} µs; ` +
        `writing a finished minute into the history ${f(sliceCost.minute_to_history_ms, 3)} ms once a minute.`,
      '',
    );
  }
}

out.push(
  '## GPU',
  '',
  'Not measured: no NVIDIA GPU was available to this project in the sessions so far. `ofa-ve bench --provider cuda` is the command to record beside the CPU figures.',
  '',
);
// Commands as run from the repository's root (the pieces get absolute --json paths): the same on every clone.
const text = out.join('\n').replaceAll(`${root}${path.sep}`, '');
writeFileSync(path.join(root, 'BENCHMARKS.md'), `${text}\n`);
console.error(`[bench:report] wrote BENCHMARKS.md (${os.hostname()})`);
