/**
 * The preprocessing pipeline in one run, side by side (issue 16's targets; benchmarks, not tests):
 *
 * 1. preprocessing capacity: one pair after another on one thread → the cores' ceiling;
 * 2. pool scaling: a pool of 1 thread pinned to 1 core vs 2 threads on 2 cores (and two independent
 *    one-thread processes, one per core), alternating slices;
 * 3. a simulated accelerator (default 40 ms per batch of 8, concurrency 32): the pipelined service
 *    (one preprocessing thread per core) vs the serial design (--preprocess-workers 0: the worker
 *    prepares each batch, then runs it), with today's resize and with the plain JavaScript resize
 *    the issue found (OFA_VE_RESIZE=js), alternating slices, against the bound
 *    min(accelerator capacity, preprocessing capacity of the cores);
 * 4. the CPU with the demo model: app throughput as it starts by default (--preprocess-workers auto,
 *    the serial design on the CPU) vs the serial design named outright, a pool forced on and the
 *    defaults with onnxruntime's spin-waiting threads (OFA_VE_ORT_SPINNING=1) (concurrency 16, alternating slices), and P50 at concurrency 1 of the app vs the raw pipeline
 *    (prepare + run in this thread), one image, alternating, a settle pause before each call.
 *
 * Everything simulated is labelled so. On a shared machine the figures move with the neighbours'
 * load: the ratios are taken within one run, slices alternating, for that reason.
 *
 *   node --import tsx bench/pipeline-bench.ts [--seconds 5] [--rounds 2] [--simulate 40[,0]]
 *        [--concurrency 32] [--max-batch-size 8] [--model DIR | --ofa-arch] [--worker-nice N]
 *        [--skip-cpu | --cpu-only] [--cpu-concurrency 16] [--latency-rounds 60] [--busy-cores N] [--json FILE]
 * (--cpu-only: part 4 alone, for a model whose runs take seconds, such as --ofa-arch. --busy-cores N:
 * part 4 with N other processes spinning at nice 0 throughout, a machine shared with other work.)
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { defaultModelDir } from '../main/config.ts';
import { toCheckError } from '../main/errors.ts';
import type { NamedCheckPair, StageName } from '../preload/wire-types.ts';
import { silentLogger } from '../main/logging/json-logger.ts';
import { measurePreprocessCapacity, pipelineBound } from '../main/service/preprocess/preprocess-capacity.ts';
import { WORKER_EXEC_ARGV, workerEnv } from '../main/service/inference-worker-host.ts';
import type { ProviderChoice } from '../main/inference/provider-choice.ts';
import type { PreprocessWorkersSetting } from '../main/service/preprocess/preprocess-plan.ts';
import { ServiceRuntime } from '../main/service/service-runtime.ts';
import { WORKER_NICENESS } from '../main/service/worker-priority.ts';
import {
  describeSimulatedAccelerator,
  parseSimulatedAccelerator,
  type SimulatedAcceleratorSpec,
} from '../main/service/simulated-accelerator-spec.ts';
import { nearestRank } from '../main/cli/bench/bench-stats.ts';
import { RawPipeline } from '../main/cli/bench/bench-targets.ts';
import { generatedImageSet } from '../main/cli/bench/image-set.ts';
import { settle } from '../main/cli/bench/paired-comparison.ts';
import { histogramSumCount } from '../main/cli/bench/step-report.ts';
import { renderPipeline, type PipelineBenchResult } from './pipeline-report.ts';
import { cpuSeconds, peakRssBytes } from './support/proc-stats.ts';
import { ensureOfaArchExport, type OfaArchExport } from './ofa-arch-export.ts';

/** The apps compared at concurrency 1 (besides the raw pipeline). */
type AppSide = 'app' | 'pipelined' | 'spinning';
/** onnxruntime's default: its intra-op threads spin-wait after a run too (the app stops them when a run ends). */
const SPINNING_ENV = { OFA_VE_ORT_SPINNING: '1' } as const;

/** The stages a check's worker times as work on the pair; the rest of its latency is the app's (queue, IPC, scheduling). */
const WORK_STAGES: readonly StageName[] = ['decode_image', 'tokenize', 'inference', 'postprocess'];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    simulate: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '32' },
    'cpu-concurrency': { type: 'string', default: '16' },
    'max-batch-size': { type: 'string', default: '8' },
    model: { type: 'string' },
    'skip-cpu': { type: 'boolean', default: false },
    'cpu-only': { type: 'boolean', default: false },
    'ofa-arch': { type: 'boolean', default: false },
    'latency-rounds': { type: 'string', default: '60' },
    'worker-nice': { type: 'string' },
    'busy-cores': { type: 'string', default: '0' },
    json: { type: 'string' },
  },
});
const sliceS = Number(values.seconds);
const rounds = Number(values.rounds);
const accelerator = parseSimulatedAccelerator(values.simulate as string);
const concurrency = Number(values.concurrency);
const cpuConcurrency = Number(values['cpu-concurrency']);
const maxBatchSize = Number(values['max-batch-size']);
const say = (line: string) => process.stderr.write(`[pipeline-bench] ${line}\n`);
// --ofa-arch: OFA's own architecture at OFA-tiny sizes (bench/ofa-arch-export.ts: generated once into
// a git-ignored cache; needs ../shared/ofa-port and python3-torch). Skipped, exit 0, where it cannot be made.
if (values['cpu-only'] && values['skip-cpu']) throw new Error('--cpu-only and --skip-cpu leave nothing to measure');
if (values['ofa-arch'] && values.model !== undefined) throw new Error('--ofa-arch brings its own model: drop --model');
let ofaArch: OfaArchExport | undefined;
if (values['ofa-arch']) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  try {
    ofaArch = await ensureOfaArchExport(root, path.join(root, 'bench', '.cache', 'ofa-arch'), say);
  } catch (err) {
    say(`skipped: ${(err as Error).message}`);
    // No figures from an earlier run stand in for this one's (bench:report renders what it finds).
    if (values.json) await rm(values.json, { force: true });
    process.exit(0);
  }
}
const modelDir = ofaArch?.directory ?? values.model ?? defaultModelDir();
const modelLabel = ofaArch
  ? `OFA's architecture at OFA-tiny sizes (OFAModel, ${(ofaArch.parameters / 1e6).toFixed(1)}M parameters, seeded random weights)`
  : values.model === undefined
    ? 'the demo model'
    : `the model in ${values.model}`;
const latencyRounds = Number(values['latency-rounds']);
// The service's default (WORKER_NICENESS) unless given: on a shared machine a niced worker yields its
// cores to the neighbours, so --worker-nice 0 measures what the pipeline itself can do.
const workerNiceness = values['worker-nice'] === undefined ? WORKER_NICENESS : Number(values['worker-nice']);
const cores = os.availableParallelism();
const busyCores = Number(values['busy-cores']);
/** The CPU part's fourth side, the defaults with spinning threads: with the demo model only (see cpuComparisonRuns). */
const measureSpinning = values.model === undefined && !values['ofa-arch'];
if (!(Number.isInteger(busyCores) && busyCores >= 0 && busyCores < cores))
  throw new Error(`--busy-cores must be a whole number below ${cores}`);

const execFileAsync = promisify(execFile);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const quantile = (xs: readonly number[], q: number): number =>
  xs.length === 0
    ? Number.NaN
    : nearestRank(
        [...xs].sort((a, b) => a - b),
        q,
      );
const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

/** CPU seconds of a process (all its threads), from /proc; undefined elsewhere. */
const workerCpuSeconds = (pid: number | undefined): number | undefined => (pid === undefined ? undefined : cpuSeconds(pid));

/** Peak resident memory of a process (VmHWM), MiB. */
function peakRssMib(pid: number | undefined): number | undefined {
  const bytes = pid === undefined ? undefined : peakRssBytes(pid);
  return bytes === undefined ? undefined : bytes / 2 ** 20;
}

interface Slice {
  readonly qps: number;
  readonly latencies: number[];
  readonly failed: number;
  readonly meanBatch: number;
  /** The inference worker's CPU per answered pair (all its threads), ms, and the cores it got. */
  readonly workerCpuMsPerPair?: number;
  readonly workerCores?: number;
  /** This process's CPU per answered pair (the service's main side, and the senders, which do little), ms. */
  readonly mainCpuMsPerPair?: number;
}

/** Closed loop: `clients` senders, each sending its next check as soon as the previous one is answered. */
async function closedLoop(runtime: ServiceRuntime, pairs: readonly NamedCheckPair[], clients: number, seconds: number): Promise<Slice> {
  const before = await batchCounts(runtime);
  const cpuBefore = workerCpuSeconds(runtime.workerHost.pid);
  const mainBefore = process.cpuUsage();
  const latencies: number[] = [];
  let failed = 0;
  let cursor = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const pair = pairs[cursor++ % pairs.length] as NamedCheckPair;
        const t0 = performance.now();
        try {
          await runtime.service.check({ image: pair.image, text: pair.text });
          latencies.push(performance.now() - t0);
        } catch (err) {
          failed += 1;
          if (failed === 1) say(`a check failed: ${toCheckError(err).code} ${toCheckError(err).message}`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const mainUsed = process.cpuUsage(mainBefore);
  const after = await batchCounts(runtime);
  const cpuAfter = workerCpuSeconds(runtime.workerHost.pid);
  const cpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  const batches = after.count - before.count;
  return {
    qps: latencies.length / elapsed,
    latencies,
    failed,
    meanBatch: batches > 0 ? (after.sum - before.sum) / batches : Number.NaN,
    workerCpuMsPerPair: cpu === undefined ? undefined : (1000 * cpu) / latencies.length,
    workerCores: cpu === undefined ? undefined : cpu / elapsed,
    mainCpuMsPerPair: (mainUsed.user + mainUsed.system) / 1000 / latencies.length,
  };
}

async function batchCounts(runtime: ServiceRuntime): Promise<{ sum: number; count: number }> {
  return histogramSumCount((await runtime.metrics.scrape(false)).body, 'ofa_ve_batch_size');
}

async function startRuntime(
  label: string,
  preprocessWorkers: PreprocessWorkersSetting,
  simulateAccelerator?: SimulatedAcceleratorSpec,
  provider: ProviderChoice = 'cpu',
  workerEnv?: Readonly<Record<string, string>>,
): Promise<ServiceRuntime> {
  const runtime = new ServiceRuntime({
    modelDir,
    provider,
    batching: { maxBatchSize, maxQueueSize: 4096 },
    logger: silentLogger,
    preprocessWorkers,
    simulateAccelerator,
    workerNiceness,
    workerEnv,
  });
  const t0 = performance.now();
  if (!(await runtime.start())) throw new Error(`${label}: the model did not load: ${runtime.loadError?.message}`);
  say(`${label}: ready in ${f(performance.now() - t0, 0)} ms (worker pid ${runtime.workerHost.pid})`);
  return runtime;
}

/** Alternating slices of each side (the order swapped every round); per side, the median QPS. */
async function alternate(sides: Record<string, () => Promise<Slice>>): Promise<Record<string, { qps: number[]; slices: Slice[] }>> {
  const names = Object.keys(sides);
  const out: Record<string, { qps: number[]; slices: Slice[] }> = Object.fromEntries(names.map((n) => [n, { qps: [], slices: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const slice = await (sides[name] as () => Promise<Slice>)();
      out[name]!.qps.push(slice.qps);
      out[name]!.slices.push(slice);
      const cpu =
        slice.workerCores === undefined
          ? ''
          : `, worker ${f(slice.workerCpuMsPerPair ?? Number.NaN, 2)} ms CPU/pair on ${f(slice.workerCores, 2)} cores${slice.mainCpuMsPerPair === undefined ? '' : `, main ${f(slice.mainCpuMsPerPair, 2)} ms`}`;
      say(
        `round ${r + 1} ${name}: ${f(slice.qps)} pairs/s, P50 ${f(quantile(slice.latencies, 0.5))} ms, mean batch ${f(slice.meanBatch, 2)}${cpu}${slice.failed ? `, ${slice.failed} failed` : ''}`,
      );
    }
  }
  return out;
}

const figures = (side: { qps: number[]; slices: Slice[] }) => {
  const all = side.slices.flatMap((s) => s.latencies);
  return {
    qps: median(side.qps),
    qps_slices: side.qps.map((q) => Number(q.toFixed(2))),
    p50_ms: quantile(all, 0.5),
    p90_ms: quantile(all, 0.9),
    mean_batch: median(side.slices.map((s) => s.meanBatch)),
    failed: side.slices.reduce((n, s) => n + s.failed, 0),
    worker_cpu_ms_per_pair: median(side.slices.map((s) => s.workerCpuMsPerPair ?? Number.NaN)),
    worker_cores: median(side.slices.map((s) => s.workerCores ?? Number.NaN)),
    main_cpu_ms_per_pair: median(side.slices.map((s) => s.mainCpuMsPerPair ?? Number.NaN)),
  };
};

const pairs = await generatedImageSet();
const startedAt = new Date().toISOString();
const loadAtStart = os.loadavg();
say(
  `${cores} cores, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}; ${pairs.length} images; slices of ${sliceS} s, ${rounds} rounds`,
);

/** Parts 1-3: preprocessing capacity, the pool's scaling, the simulated accelerator. */
async function poolAndSimulated(): Promise<Pick<PipelineBenchResult, 'preprocess' | 'pool_scaling' | 'simulated'>> {
  // 1. One thread's preprocessing rate → the cores' capacity.
  const capacity = await measurePreprocessCapacity(modelDir, pairs, { seconds: sliceS, cores });
  say(`preprocessing on one thread: ${f(capacity.msPerPair, 2)} ms per pair → ${cores} cores: ${f(capacity.pairsPerS)} pairs/s`);

  // 2. The pool's scaling: N threads on N cores, each side a process pinned with taskset (in one
  // unpinned process a one-thread pool already uses more than a core: libvips decodes in libuv's
  // threads while the thread resizes). Beside them, two independent one-thread processes, one per
  // core: what this machine gives two workers that share nothing (memory bandwidth, caches).
  const CHILD = fileURLToPath(new URL('./pool-scaling-child.ts', import.meta.url));
  const pinning = process.platform === 'linux' && cores >= 2;
  const childSlice = async (threads: number, cpus: string | undefined): Promise<{ qps: number; cores_used: number }> => {
    const node = [
      process.execPath,
      ...WORKER_EXEC_ARGV,
      '--import',
      'tsx',
      CHILD,
      '--threads',
      String(threads),
      '--seconds',
      String(sliceS),
      '--model',
      modelDir,
    ];
    const [cmd, ...args] = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
    const { stdout } = await execFileAsync(cmd as string, args, { maxBuffer: 1 << 20, env: workerEnv(threads) });
    return JSON.parse(stdout.trim().split('\n').pop() as string) as { qps: number; cores_used: number };
  };
  const asSlice = (r: { qps: number; cores_used: number }): Slice => ({
    qps: r.qps,
    latencies: [],
    failed: 0,
    meanBatch: Number.NaN,
    workerCores: r.cores_used,
    workerCpuMsPerPair: (1000 * r.cores_used) / r.qps,
  });
  const scaling = await alternate({
    '1 thread on 1 core': async () => asSlice(await childSlice(1, pinning ? '0' : undefined)),
    '2 threads on 2 cores': async () => asSlice(await childSlice(2, pinning ? '0,1' : undefined)),
    'two 1-thread processes, one per core': async () => {
      const [a, b] = await Promise.all([childSlice(1, pinning ? '0' : undefined), childSlice(1, pinning ? '1' : undefined)]);
      return asSlice({ qps: a.qps + b.qps, cores_used: a.cores_used + b.cores_used });
    },
    // Not what auto starts (one per core): two per core fill the cores while the other thread of a
    // core waits for libvips, at about 60 MiB of resident memory per thread. For a GPU box to weigh.
    '4 threads on 2 cores': async () => asSlice(await childSlice(4, pinning ? '0,1' : undefined)),
  });
  // Ratios of the slices taken next to each other (the same round), then their median.
  const pairedRatio = (num: string, den: string) => median(scaling[num]!.qps.map((q, i) => q / (scaling[den]!.qps[i] as number)));
  const pool1 = median(scaling['1 thread on 1 core']!.qps);
  const pool2 = median(scaling['2 threads on 2 cores']!.qps);
  const independent2 = median(scaling['two 1-thread processes, one per core']!.qps);

  // What the cores deliver to the service's own pool: one thread per core, unpinned, in a process
  // with the inference worker's flags and environment (the same child as above).
  const unpinned = `${cores} threads, unpinned`;
  const poolCores = median((await alternate({ [unpinned]: async () => asSlice(await childSlice(cores, undefined)) }))[unpinned]!.qps);

  // 3. The simulated accelerator: pipelined vs serial, against the bound.
  const bound = pipelineBound(accelerator, maxBatchSize, capacity);
  // What the cores delivered in this run (a pool of one thread per core, measured above), as opposed
  // to the ideal cores x one thread: on a shared machine the difference is the neighbours' share.
  const measuredBound = Math.min(bound.acceleratorQps, poolCores);
  say(
    `${describeSimulatedAccelerator(accelerator)}; bound min(${f(bound.acceleratorQps)}, ${f(bound.preprocessQps)}) = ${f(bound.boundQps)} pairs/s (${bound.limitedBy})`,
  );
  const simPipelined = await startRuntime(`simulated, ${cores} preprocessing workers`, cores, accelerator);
  const simSerial = await startRuntime('simulated, serial (0 preprocessing workers)', 0, accelerator);
  // Issue 16's baseline, "today's serial design", as the issue found it: serial, and the resize in
  // plain JavaScript (the WebAssembly kernels came with the issue): OFA_VE_RESIZE=js in this
  // service's worker only (its replacements too), and each worker says which resize it runs.
  const simSerialAsFiled = await startRuntime('simulated, serial, JavaScript resize (the design issue 16 found)', 0, accelerator, 'cpu', {
    OFA_VE_RESIZE: 'js',
  });
  for (const [rt, want] of [
    [simPipelined, 'wasm-simd'],
    [simSerial, 'wasm-simd'],
    [simSerialAsFiled, 'js'],
  ] as const) {
    if (rt.resizeBackend !== want) throw new Error(`a worker runs the ${rt.resizeBackend} resize where the bench needs ${want}`);
  }
  for (const rt of [simPipelined, simSerial, simSerialAsFiled]) await closedLoop(rt, pairs, concurrency, 2);
  const simulated = await alternate({
    pipelined: () => closedLoop(simPipelined, pairs, concurrency, sliceS),
    serial: () => closedLoop(simSerial, pairs, concurrency, sliceS),
    'serial, JavaScript resize': () => closedLoop(simSerialAsFiled, pairs, concurrency, sliceS),
  });
  const simRss = {
    pipelined: peakRssMib(simPipelined.workerHost.pid),
    serial: peakRssMib(simSerial.workerHost.pid),
    asFiled: peakRssMib(simSerialAsFiled.workerHost.pid),
  };
  for (const rt of [simPipelined, simSerial, simSerialAsFiled]) await rt.close();
  const simP = figures(simulated.pipelined!);
  const simS = figures(simulated.serial!);
  const simF = figures(simulated['serial, JavaScript resize']!);
  const busy = (fig: { qps: number; mean_batch: number }) =>
    ((fig.qps / fig.mean_batch) * (accelerator.msPerBatch + accelerator.msPerPair * fig.mean_batch)) / 1000;
  return {
    preprocess: { ms_per_pair_one_thread: capacity.msPerPair, cores, capacity_qps: capacity.pairsPerS },
    pool_scaling: {
      pinned: pinning,
      one_thread_qps: pool1,
      two_threads_qps: pool2,
      ratio: pairedRatio('2 threads on 2 cores', '1 thread on 1 core'),
      independent_two_qps: independent2,
      independent_ratio: pairedRatio('two 1-thread processes, one per core', '1 thread on 1 core'),
      cores_used: {
        one_thread: median(scaling['1 thread on 1 core']!.slices.map((x) => x.workerCores ?? Number.NaN)),
        two_threads: median(scaling['2 threads on 2 cores']!.slices.map((x) => x.workerCores ?? Number.NaN)),
        two_per_core: median(scaling['4 threads on 2 cores']!.slices.map((x) => x.workerCores ?? Number.NaN)),
      },
      two_per_core_qps: median(scaling['4 threads on 2 cores']!.qps),
      two_per_core_ratio: pairedRatio('4 threads on 2 cores', '1 thread on 1 core'),
      threads_per_core_qps: poolCores,
    },
    simulated: {
      simulated: true,
      label: describeSimulatedAccelerator(accelerator),
      accelerator: { ms_per_batch: accelerator.msPerBatch, ms_per_pair: accelerator.msPerPair },
      max_batch_size: maxBatchSize,
      concurrency,
      bound: {
        accelerator_qps: bound.acceleratorQps,
        preprocess_qps: bound.preprocessQps,
        bound_qps: bound.boundQps,
        limited_by: bound.limitedBy,
      },
      measured_bound_qps: measuredBound,
      pipelined_to_measured_bound: simP.qps / measuredBound,
      pipelined: { ...simP, accelerator_busy: busy(simP), worker_rss_peak_mib: simRss.pipelined },
      serial: { ...simS, accelerator_busy: busy(simS), worker_rss_peak_mib: simRss.serial },
      serial_as_filed: { ...simF, accelerator_busy: busy(simF), worker_rss_peak_mib: simRss.asFiled },
      pipelined_to_bound: simP.qps / bound.boundQps,
      pipelined_to_serial: simP.qps / simS.qps,
      pipelined_to_serial_as_filed: simP.qps / simF.qps,
    },
  };
}

// 4. The CPU with the model (the demo model unless --model or --ofa-arch): the app as it starts by default (--preprocess-workers auto, which
// on the CPU is the serial design), the serial design named outright, and a pool forced on.
async function cpuComparison(): Promise<NonNullable<PipelineBenchResult['cpu']>> {
  // Other work on the machine (--busy-cores): busy loops at nice 0, each a process of its own, until the part ends.
  const busy = Array.from({ length: busyCores }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    return await cpuComparisonRuns();
  } finally {
    for (const child of busy) child.kill('SIGKILL');
  }
}

async function cpuComparisonRuns(): Promise<NonNullable<PipelineBenchResult['cpu']>> {
  // As `ofa-ve serve` starts by default: --provider auto (the CPU here, unless a GPU is found).
  const cpuApp = await startRuntime('cpu, --provider auto --preprocess-workers auto (the defaults)', 'auto', undefined, 'auto');
  const cpuSerial = await startRuntime('cpu, serial (0 preprocessing workers)', 0);
  const cpuPool = await startRuntime(`cpu, ${cores} preprocessing workers`, cores);
  // The defaults with onnxruntime's own default of spin-waiting threads (main/inference/onnx-session.ts
  // stops them when a run ends): what that choice is worth, side by side. With the demo model only: a fourth worker
  // of a real-sized model does not fit (OFA's architecture at batch 8: 5.9 GB each; on 24 GiB the
  // kernel killed one, 2026-12-02).
  const cpuSpinning = measureSpinning
    ? await startRuntime('cpu, the defaults with OFA_VE_ORT_SPINNING=1', 'auto', undefined, 'auto', SPINNING_ENV)
    : undefined;
  const runtimes = [cpuApp, cpuSerial, cpuPool, ...(cpuSpinning ? [cpuSpinning] : [])];
  for (const rt of runtimes) await closedLoop(rt, pairs, cpuConcurrency, 2);
  const throughput = await alternate({
    app: () => closedLoop(cpuApp, pairs, cpuConcurrency, sliceS),
    serial: () => closedLoop(cpuSerial, pairs, cpuConcurrency, sliceS),
    pipelined: () => closedLoop(cpuPool, pairs, cpuConcurrency, sliceS),
    ...(cpuSpinning ? { spinning: () => closedLoop(cpuSpinning, pairs, cpuConcurrency, sliceS) } : {}),
  });
  // Latency at concurrency 1: one image; the raw pipeline, the default app, the app with a pool and
  // the defaults with spinning in turn (the order rotating), a pause before each call (see
  // main/cli/bench/paired-comparison.ts).
  const raw = await RawPipeline.open(modelDir, 'cpu', pairs);
  const pair = pairs[1] as NamedCheckPair;
  // The app's own part of each call: its latency less the work its worker timed for that very call
  // (preparing the pair, running the model, reading the answer). The model's run-to-run noise, which
  // makes the paired difference of two 400 ms calls too coarse for a 1 ms target, cancels within a call.
  const overhead: Record<'app' | 'pipelined', number[]> & { spinning?: number[] } = {
    app: [],
    pipelined: [],
    ...(cpuSpinning ? { spinning: [] } : {}),
  };
  /** A call's latency and, for an app, its own part (latency less the stages its worker timed). */
  type Timed = { ms: number; own?: number };
  const appCall = (rt: typeof cpuApp) => async (): Promise<Timed> => {
    const t0 = performance.now();
    const answer = await rt.service.check({ image: pair.image, text: pair.text });
    const ms = performance.now() - t0;
    const work = WORK_STAGES.reduce((sum, stage) => sum + (answer.stages[stage] ?? 0), 0);
    return { ms, own: Number((ms - work).toFixed(3)) };
  };
  const appRuntimes: Partial<Record<AppSide, ServiceRuntime>> = {
    app: cpuApp,
    pipelined: cpuPool,
    ...(cpuSpinning ? { spinning: cpuSpinning } : {}),
  };
  const contenders: Record<string, () => Promise<Timed>> = {
    raw: async () => ({ ms: await raw.checkOne(pair) }),
    ...Object.fromEntries(Object.entries(appRuntimes).map(([side, rt]) => [side, appCall(rt)])),
  };
  const names = Object.keys(contenders);
  // A call that fails (a worker killed from outside, out of memory, or past the request timeout)
  // drops its whole round, so the rounds stay paired; the run stops once a quarter of them failed.
  let failedRounds = 0;
  const failed = (name: string, err: unknown) => {
    failedRounds += 1;
    say(`latency round dropped: ${name} failed with ${toCheckError(err).code} ${toCheckError(err).message}`);
    if (failedRounds > Math.max(3, latencyRounds / 4)) throw new Error(`${failedRounds} latency rounds failed; see the messages above`);
  };
  for (let i = 0; i < 3; i++) for (const name of names) await contenders[name]!().catch((err: unknown) => failed(name, err));
  failedRounds = 0;
  const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Each app's inference worker's CPU over the rounds (all its threads): what a call costs the machine, spinning included.
  const cpuAt = () => Object.fromEntries(Object.entries(appRuntimes).map(([side, rt]) => [side, workerCpuSeconds(rt.workerHost.pid)]));
  const cpuBefore = cpuAt();
  for (let i = 0; i < latencyRounds; i++) {
    const round: Record<string, Timed> = {};
    let current = '';
    try {
      for (let k = 0; k < names.length; k++) {
        current = names[(i + k) % names.length] as string;
        await settle();
        round[current] = await contenders[current]!();
      }
    } catch (err) {
      failed(current, err);
      continue;
    }
    for (const name of names) {
      ms[name]!.push(round[name]!.ms);
      const own = round[name]!.own;
      if (own !== undefined) overhead[name as AppSide]?.push(own);
    }
  }
  const cpuAfter = cpuAt();
  const cpuPerCall = Object.fromEntries(
    Object.keys(appRuntimes).map((side) => {
      const [a, b] = [cpuBefore[side], cpuAfter[side]];
      return [side, a === undefined || b === undefined ? Number.NaN : Number(((1000 * (b - a)) / latencyRounds).toFixed(2))];
    }),
  ) as Record<'app' | 'pipelined', number> & { spinning?: number };
  const differences = (name: string) => ms[name]!.map((x, i) => Number((x - (ms.raw![i] as number)).toFixed(3)));
  const diffs = (name: string) => median(differences(name));
  const appThreads = cpuApp.preprocessThreads ?? Number.NaN;
  const cpuRss = { app: peakRssMib(cpuApp.workerHost.pid), pipelined: peakRssMib(cpuPool.workerHost.pid) };
  for (const rt of runtimes) await rt.close();
  await raw.close();
  const a = figures(throughput.app!);
  const s = figures(throughput.serial!);
  const p = figures(throughput.pipelined!);
  const spin = throughput.spinning ? figures(throughput.spinning) : undefined;
  return {
    concurrency: cpuConcurrency,
    app_preprocess_workers: appThreads,
    app_provider: cpuApp.workerHost.info?.provider,
    app: { ...a, worker_rss_peak_mib: cpuRss.app },
    serial: s,
    pipelined: { ...p, worker_rss_peak_mib: cpuRss.pipelined },
    app_to_serial: a.qps / s.qps,
    pipelined_to_serial: p.qps / s.qps,
    ...(spin ? { spinning: { ...spin, app_to_spinning: a.qps / spin.qps } } : {}),
    latency_c1: {
      rounds: latencyRounds,
      raw_p50_ms: median(ms.raw!),
      app_p50_ms: median(ms.app!),
      pipelined_app_p50_ms: median(ms.pipelined!),
      median_difference_ms: diffs('app'),
      pipelined_median_difference_ms: diffs('pipelined'),
      ...(spin ? { spinning_app_p50_ms: median(ms.spinning!) } : {}),
      differences_ms: {
        app: differences('app'),
        pipelined: differences('pipelined'),
        ...(spin ? { spinning: differences('spinning') } : {}),
      },
      overhead_ms: overhead,
      worker_cpu_ms_per_call: cpuPerCall,
    },
  };
}

const report: PipelineBenchResult = {
  tool: 'bench/pipeline-bench.ts',
  date: startedAt,
  command: `node --import tsx bench/pipeline-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  machine: {
    cpus: cores,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    load_average_at_start: loadAtStart.map((l) => Number(l.toFixed(2))),
  },
  caveat: 'a shared machine: slices alternate so that drift hits both sides alike; absolute figures move with the load',
  slice_s: sliceS,
  rounds,
  worker_nice: workerNiceness,
  ...(busyCores > 0 ? { busy_cores: busyCores } : {}),
  images: pairs.length,
  model: modelLabel,
  ...(values['cpu-only'] ? { preprocess: null, pool_scaling: null, simulated: null } : await poolAndSimulated()),
  cpu: values['skip-cpu'] ? null : await cpuComparison(),
};

process.stdout.write(`${renderPipeline(report).join('\n')}\n`);
if (values.json) {
  await mkdir(path.dirname(values.json), { recursive: true });
  await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
  say(`wrote ${values.json}`);
}
