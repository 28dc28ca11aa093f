import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { appVersion, defaultModelDir } from '../config.ts';
import { silentLogger } from '../logging/json-logger.ts';
import { bodyLimitsFor } from '../server/check-body-parser.ts';
import { OfaVeHttpServer } from '../server/http-server.ts';
import { DEFAULT_BATCHING } from '../service/batching-options.ts';
import { measurePreprocessCapacity, pipelineBound, type PreprocessCapacity } from '../service/preprocess/preprocess-capacity.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';
import {
  describeSimulatedAccelerator,
  parseSimulatedAccelerator,
  type SimulatedAcceleratorSpec,
} from '../service/simulated-accelerator-spec.ts';
import { BENCH_COMPARE_USAGE, runBenchCompare } from './bench/bench-compare-command.ts';
import { formatBenchJson } from './bench/bench-result-file.ts';
import { STEP_SAMPLE_CAP, stepSamples, type StepSamples } from './bench/bench-samples.ts';
import { httpTarget, inProcessTarget, RawPipeline, roundRobinTarget, type RawPipelineFigures } from './bench/bench-targets.ts';
import type { NamedCheckPair } from '../../preload/wire-types.ts';
import { folderImageSet, generatedImageSet } from './bench/image-set.ts';
import { runStep, type CheckTarget, type StepOutcome } from './bench/load-generator.ts';
import { pairedLatency, pairedThroughput, type PairedFigures } from './bench/paired-comparison.ts';
import { describeReplica, fleetBatchSizes, replicaLabel, replicaUrls, type ReplicaModel } from './bench/remote-replicas.ts';
import { replicaFigures, replicaTable, type ReplicaFigures } from './bench/replica-figures.ts';
import { histogramSumCount, stepFigures, stepTable, type StepFigures } from './bench/step-report.ts';
import type { CliIo } from './cli-io.ts';
import { EXIT, PathError, UsageError } from './exit-codes.ts';
import { outputFileProblem } from './output-file.ts';
import { preprocessWorkersOption } from './preprocess-workers-option.ts';
import { parseProvider } from './provider-option.ts';

export const BENCH_USAGE = `usage: ofa-ve bench [--url URL [--url URL2 ...] [--token T] | --http] [--model DIR] [--provider auto|cuda|cpu]
                    [--concurrency 1,2,4,8,16] [--duration 10 | --requests N] [--warmup 2]
                    [--images DIR] [--max-batch-size ${DEFAULT_BATCHING.maxBatchSize} | 1,2,4,8,16] [--rounds N] [--raw] [--json FILE]
                    [--max-p95 SECONDS] [--preprocess-workers auto] [--simulate-accelerator MS_PER_BATCH[,MS_PER_PAIR]]
       ofa-ve bench compare BASELINE.json CURRENT.json [--max-regression 10%] [--markdown FILE]

A closed-loop load sweep (perf_analyzer's concurrency mode). By default the service runs in this
process and is loaded directly; --http puts its HTTP server in front on loopback; --url loads a
running instance instead. Each step reports QPS, P50/P90/P95/P99, errors, mean batch size and the
median of each stage. --url given several times loads a fleet: request i goes to URL i mod their
number (round-robin; --token is sent to all), and each step also reports each replica's requests,
QPS, P50/P95 and errors. --raw also measures the raw pipeline (preprocessing and session.run in a
tight loop, no service) at batch 1..16 as the ceiling, then the app and the raw pipeline side by
side in alternating rounds (latency at concurrency 1, throughput at the highest concurrency), and
reports the app as ratios to it. With several --max-batch-size values every one has its service
running, and each step is measured in --rounds slices (default 3) taken in turn, so that a
machine's drift does not favour the size measured first.
--images DIR uses that folder's images (captions from captions.csv or captions.txt); by default a
generated set of 16 images. --max-p95 exits 1 if any step's P95 is above it (a CI gate).
--preprocess-workers N sets the inference worker's preprocessing threads (0 is the serial design:
each batch prepared, then run; auto, the default, is one per core when the model runs on a GPU or
the simulated accelerator, 0 on the CPU). --simulate-accelerator replaces the model's
session with a simulated device taking MS_PER_BATCH + MS_PER_PAIR x n ms per batch of n, without
using the CPU (preprocessing stays real), for pipeline benchmarks on machines without a GPU; every
output says it is simulated, and reports the bound min(accelerator capacity, preprocessing capacity
of the cores) and the best QPS against it.
--json FILE keeps, per step, every answered request's latency and stage timings (a seeded sample of
${STEP_SAMPLE_CAP} above that), which \`bench compare\` needs for its confidence intervals.

${BENCH_COMPARE_USAGE}`;

function list(name: string, value: string): number[] {
  const values = value.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1 || v > 1024)) {
    throw new UsageError(`--${name} must be whole numbers from 1 to 1024, comma-separated`);
  }
  return values;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

/**
 * A step's figures, and the per-request samples that `bench compare` computes intervals from; with
 * --url, the figures of each replica too.
 */
export type BenchStep = StepFigures & { samples: StepSamples; replicas?: ReplicaFigures[] };

export interface BenchReport {
  tool: 'ofa-ve bench';
  version: string;
  date: string;
  command: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; platform: string; node: string };
  mode: 'in-process' | 'http-in-process' | 'remote';
  model: ReplicaModel | null;
  images: number;
  raw_pipeline: RawPipelineFigures[] | null;
  steps: BenchStep[];
  /** Slices per step, taken in turn across the max batch sizes. */
  rounds: number;
  /** App vs raw pipeline in alternating rounds (with --raw). */
  paired: PairedFigures | null;
  /** From the paired rounds when present (else from the sweep). */
  ratios: { best_app_qps_to_raw: number | null; p50_c1_minus_raw_ms: number | null; source: 'paired' | 'sweep' } | null;
  gate: { max_p95_s: number; passed: boolean } | null;
  /** True with --simulate-accelerator: no model ran, the device was simulated. */
  simulated: boolean;
  simulated_accelerator: { ms_per_batch: number; ms_per_pair: number; label: string } | null;
  /** Preprocessing threads the inference worker chose or was given (null for --url). */
  preprocess_workers: number | null;
  /** The best step's QPS. */
  qps: number | null;
  /** With --simulate-accelerator: what the pipeline can serve at most, and the best QPS against it. */
  bound: {
    max_batch_size: number;
    accelerator_qps: number;
    preprocess_qps: number;
    preprocess_ms_per_pair: number;
    cores: number;
    bound_qps: number;
    limited_by: 'accelerator' | 'preprocessing';
    qps_to_bound: number | null;
  } | null;
}

export async function runBench(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'compare') return runBenchCompare(argv.slice(1), io);
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      url: { type: 'string', multiple: true },
      token: { type: 'string' },
      http: { type: 'boolean', default: false },
      model: { type: 'string' },
      provider: { type: 'string' },
      concurrency: { type: 'string', default: '1,2,4,8,16' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      warmup: { type: 'string' },
      images: { type: 'string' },
      'max-batch-size': { type: 'string' },
      raw: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      json: { type: 'string' },
      'max-p95': { type: 'string' },
      'preprocess-workers': { type: 'string' },
      'simulate-accelerator': { type: 'string' },
    },
  });
  const provider = parseProvider(values.provider);
  const concurrencies = list('concurrency', values.concurrency as string);
  const batchSizes = list('max-batch-size', values['max-batch-size'] ?? String(DEFAULT_BATCHING.maxBatchSize));
  const durationS = positive('duration', values.duration, 10);
  const requests = values.requests === undefined ? undefined : Math.floor(positive('requests', values.requests, 1));
  const warmupS = values.warmup === undefined ? 2 : Number(values.warmup);
  if (!Number.isFinite(warmupS) || warmupS < 0) throw new UsageError('--warmup must be 0 or more seconds');
  const rounds = values.rounds === undefined ? (batchSizes.length > 1 ? 3 : 1) : Math.floor(positive('rounds', values.rounds, 1));
  const maxP95 = values['max-p95'] === undefined ? undefined : positive('max-p95', values['max-p95'], 1);
  const remote = values.url === undefined ? undefined : replicaUrls(values.url);
  if (remote && values['max-batch-size'] !== undefined)
    throw new UsageError('--max-batch-size is set on the running instance (ofa-ve serve --max-batch-size), not with --url');
  if (remote && values.raw) throw new UsageError('--raw measures this machine; it cannot be combined with --url');
  if (remote && values.http) throw new UsageError('--http serves the model in this process; it cannot be combined with --url');
  const modelDir = values.model ?? defaultModelDir();
  let simulated: SimulatedAcceleratorSpec | undefined;
  if (values['simulate-accelerator'] !== undefined) {
    if (remote) throw new UsageError('--simulate-accelerator runs the service in this process; it cannot be combined with --url');
    if (values.raw) throw new UsageError('--raw measures the real session; it cannot be combined with --simulate-accelerator');
    try {
      simulated = parseSimulatedAccelerator(values['simulate-accelerator']);
    } catch (err) {
      throw new UsageError(`--simulate-accelerator: ${(err as Error).message}`);
    }
  }
  if (remote && values['preprocess-workers'] !== undefined)
    throw new UsageError('--preprocess-workers is set on the running instance (ofa-ve serve --preprocess-workers), not with --url');
  const preprocessWorkers = preprocessWorkersOption(values['preprocess-workers']);
  const token = values.token ?? process.env.OFA_VE_TOKEN;
  // Before any load: a sweep of minutes must not end with nowhere to write its results.
  const jsonProblem = values.json === undefined ? undefined : await outputFileProblem(values.json);
  if (jsonProblem) throw new PathError(`cannot write --json ${values.json}: ${jsonProblem}`);

  const pairs: NamedCheckPair[] = values.images ? await folderImageSet(values.images) : await generatedImageSet();
  const progress = (label: string) => (done: number, elapsedS: number) => {
    const rate = elapsedS > 0 ? done / elapsedS : 0;
    io.stderr(`[bench] ${label}: ${elapsedS.toFixed(0)} s, ${done} answered, ${rate.toFixed(1)}/s`);
  };

  const report: BenchReport = {
    tool: 'ofa-ve bench',
    version: appVersion(),
    date: new Date().toISOString(),
    command: `ofa-ve bench ${argv.join(' ')}`.trim(),
    machine: {
      cpus: os.availableParallelism(),
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      memory_gib: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
    },
    mode: remote ? 'remote' : values.http ? 'http-in-process' : 'in-process',
    model: null,
    images: pairs.length,
    raw_pipeline: null,
    steps: [],
    rounds,
    paired: null,
    ratios: null,
    gate: null,
    simulated: simulated !== undefined,
    simulated_accelerator: simulated
      ? { ms_per_batch: simulated.msPerBatch, ms_per_pair: simulated.msPerPair, label: describeSimulatedAccelerator(simulated) }
      : null,
    preprocess_workers: null,
    qps: null,
    bound: null,
  };
  let capacity: PreprocessCapacity | undefined;
  if (simulated) {
    io.stderr(`[bench] ${describeSimulatedAccelerator(simulated)}`);
    io.stderr(`[bench] preprocessing capacity: one pair after another on one thread for ${Math.min(5, durationS)} s`);
    capacity = await measurePreprocessCapacity(modelDir, pairs, { seconds: Math.min(5, durationS) });
  }

  const rawPipeline = values.raw ? await RawPipeline.open(modelDir, provider, pairs) : undefined;
  try {
    if (rawPipeline) {
      io.stderr(`[bench] raw pipeline (no service) at batch 1, 2, 4, 8, 16: ${durationS} s each`);
      report.raw_pipeline = [];
      for (const size of [1, 2, 4, 8, 16]) report.raw_pipeline.push(await rawPipeline.measure(size, durationS));
    }

    if (remote) {
      const described = await Promise.all(remote.map((url) => describeReplica(url, token)));
      const replicas = described.flatMap((d) => (d.ok ? [d] : []));
      const failed = described.flatMap((d) => (d.ok ? [] : [d]));
      for (const f of failed) io.stderr(`ofa-ve bench: ${f.message}`);
      if (failed[0]) return failed[0].exit;
      const first = replicas[0]!;
      const serves = (r: typeof first) => `${r.model.name} ${r.model.version}, max batch ${r.maxBatchSize}`;
      if (replicas.some((r) => serves(r) !== serves(first))) {
        const each = replicas.map((r) => `${replicaLabel(r.url)} ${serves(r)}`);
        io.stderr(`[bench] the replicas differ (${each.join('; ')}); the report names the first's model and max batch size`);
      }
      report.model = first.model;
      const service: MeasuredService = {
        maxBatchSize: first.maxBatchSize,
        target: roundRobinTarget(remote.map((url) => ({ url, target: httpTarget(url, token) }))),
        batchSizes: () => fleetBatchSizes(remote, token),
        replicas: remote,
      };
      for (const c of concurrencies) report.steps.push(...(await measureInTurn([service], c)));
    } else {
      // One service per max batch size, all running, so that their steps can be taken in turn.
      const services: LocalService[] = [];
      try {
        for (const maxBatchSize of batchSizes) {
          const service = await startLocalService(maxBatchSize);
          if (!service) return EXIT.MODEL_ERROR;
          services.push(service);
        }
        for (const c of concurrencies) report.steps.push(...(await measureInTurn(services, c)));
        if (rawPipeline && report.raw_pipeline) {
          const app = services[0]!;
          const best = report.raw_pipeline.reduce((a, b) => (b.pairsPerS > a.pairsPerS ? b : a));
          const top = Math.max(...concurrencies);
          io.stderr(
            `[bench] side by side with the raw pipeline: latency at concurrency 1, then throughput (raw batch ${best.batchSize} vs concurrency ${top})`,
          );
          report.paired = {
            latency: await pairedLatency(rawPipeline, app.target, pairs, 100),
            throughput: await pairedThroughput(rawPipeline, best.batchSize, app.target, pairs, {
              concurrency: top,
              rounds: 3,
              sliceS: Math.max(2, durationS / 2),
              warmupS: 1,
            }),
          };
        }
      } finally {
        for (const service of services) await service.close();
      }
    }
  } finally {
    await rawPipeline?.close();
  }

  interface MeasuredService {
    maxBatchSize: number;
    target: CheckTarget;
    /** Sum and count of ofa_ve_batch_size now (a step's mean batch size is the difference). */
    batchSizes: () => Promise<{ sum: number; count: number }>;
    /** The URLs a remote target spreads its requests over (per-replica figures). */
    replicas?: readonly string[];
  }
  interface LocalService extends MeasuredService {
    close: () => Promise<void>;
  }

  async function startLocalService(maxBatchSize: number): Promise<LocalService | undefined> {
    const runtime = new ServiceRuntime({
      modelDir,
      provider,
      batching: { maxBatchSize, maxQueueSize: 4096 },
      logger: silentLogger,
      preprocessWorkers,
      simulateAccelerator: simulated,
    });
    const info = await runtime.start();
    if (!info) {
      io.stderr(`ofa-ve bench: the model did not load: ${runtime.loadError?.message}`);
      await runtime.close(0);
      return undefined;
    }
    report.model = { name: info.name, version: info.version, provider: info.provider, demo: info.demo };
    report.preprocess_workers = runtime.preprocessThreads ?? null;
    let server: OfaVeHttpServer | undefined;
    let target: CheckTarget = inProcessTarget(runtime);
    if (values.http) {
      server = new OfaVeHttpServer(runtime, { logger: silentLogger, bodyLimits: bodyLimitsFor(runtime.limits) });
      const address = await server.listen(0, '127.0.0.1');
      target = httpTarget(`http://127.0.0.1:${address.port}`);
    }
    return {
      maxBatchSize,
      target,
      batchSizes: async () => histogramSumCount((await runtime.metrics.scrape(false)).body, 'ofa_ve_batch_size'),
      close: async () => {
        await server?.close();
        await runtime.close(5000);
      },
    };
  }

  /**
   * One step per service at this concurrency, each measured in `rounds` slices taken in turn (the
   * order rotates every round); a slice after the first warms up for at most 1 s.
   */
  async function measureInTurn(services: readonly MeasuredService[], concurrency: number): Promise<BenchStep[]> {
    const cells = services.map(() => ({ samples: [] as StepOutcome['samples'], elapsedS: 0, batchSum: 0, batchCount: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < services.length; k++) {
        const index = (k + round) % services.length;
        const service = services[index]!;
        const cell = cells[index]!;
        const label = `concurrency ${concurrency}${report.mode === 'remote' ? '' : `, max batch ${service.maxBatchSize}`}${rounds > 1 ? `, round ${round + 1}/${rounds}` : ''}`;
        const plan = {
          concurrency,
          durationS: durationS / rounds,
          requests: requests === undefined ? undefined : Math.ceil(requests / rounds),
          warmupS: round === 0 ? warmupS : Math.min(warmupS, 1),
        };
        io.stderr(
          `[bench] ${label}: warm-up ${plan.warmupS} s, then ${plan.requests === undefined ? `${plan.durationS.toFixed(1)} s` : `${plan.requests} requests`}`,
        );
        let before = { sum: NaN, count: NaN };
        const outcome = await runStep(service.target, pairs, plan, progress(label), async () => {
          before = await service.batchSizes();
        });
        const after = await service.batchSizes();
        cell.samples.push(...outcome.samples);
        cell.elapsedS += outcome.elapsedS;
        cell.batchSum += after.sum - before.sum;
        cell.batchCount += after.count - before.count;
      }
    }
    return services.map((service, i) => {
      const cell = cells[i]!;
      const figures = stepFigures(
        concurrency,
        service.maxBatchSize,
        { samples: cell.samples, elapsedS: cell.elapsedS },
        {
          before: { sum: 0, count: 0 },
          after: { sum: cell.batchSum, count: cell.batchCount },
        },
      );
      const replicas = service.replicas ? { replicas: replicaFigures(service.replicas, cell.samples, cell.elapsedS) } : {};
      return { ...figures, samples: stepSamples(cell.samples), ...replicas };
    });
  }

  const raw = report.raw_pipeline;
  if (raw && report.steps.length > 0) {
    const bestRaw = Math.max(...raw.map((r) => r.pairsPerS));
    const bestApp = Math.max(...report.steps.map((s) => s.qps));
    const c1 = report.steps.find((s) => s.concurrency === 1);
    const paired = report.paired;
    report.ratios = paired
      ? {
          best_app_qps_to_raw: paired.throughput.median_ratio,
          p50_c1_minus_raw_ms:
            paired.latency.app_p50_ms === null || paired.latency.raw_p50_ms === null
              ? null
              : paired.latency.app_p50_ms - paired.latency.raw_p50_ms,
          source: 'paired',
        }
      : {
          best_app_qps_to_raw: bestApp / bestRaw,
          p50_c1_minus_raw_ms: c1?.p50_ms == null ? null : c1.p50_ms - raw[0]!.perPairMs,
          source: 'sweep',
        };
  }
  if (report.steps.length > 0) report.qps = Math.max(...report.steps.map((s) => s.qps));
  if (simulated && capacity) {
    const maxBatchSize = Math.max(...batchSizes);
    const bound = pipelineBound(simulated, maxBatchSize, capacity);
    report.bound = {
      max_batch_size: maxBatchSize,
      accelerator_qps: bound.acceleratorQps,
      preprocess_qps: bound.preprocessQps,
      preprocess_ms_per_pair: capacity.msPerPair,
      cores: capacity.cores,
      bound_qps: bound.boundQps,
      limited_by: bound.limitedBy,
      qps_to_bound: report.qps === null ? null : report.qps / bound.boundQps,
    };
  }
  if (maxP95 !== undefined) {
    const worst = Math.max(...report.steps.map((s) => s.p95_ms ?? Infinity));
    report.gate = { max_p95_s: maxP95, passed: worst <= maxP95 * 1000 };
  }

  io.stdout(formatReport(report));
  if (values.json) {
    try {
      await writeFile(values.json, formatBenchJson(report));
    } catch (err) {
      // Checked before the sweep, so the folder went away or the disk filled up meanwhile: the
      // report above is all that is left of this run.
      const code = (err as NodeJS.ErrnoException).code;
      io.stderr(`ofa-ve bench: cannot write --json ${values.json}: ${code ?? String(err)} (the report above is on stdout)`);
      return EXIT.FAILURE;
    }
  }
  if (report.gate && !report.gate.passed) {
    io.stderr(`ofa-ve bench: P95 above the --max-p95 gate of ${maxP95} s in at least one step`);
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}

export function formatReport(report: BenchReport): string {
  const lines = [
    `# ${report.command}`,
    `${report.date} · ${report.machine.cpus} × ${report.machine.cpu_model} · ${report.machine.memory_gib} GiB · ${report.machine.platform} · node ${report.machine.node}`,
    `mode ${report.mode} · model ${report.model ? `${report.model.name} ${report.model.version} (${report.simulated ? 'SIMULATED accelerator' : report.model.provider}${report.model.demo ? ', demo' : ''})` : '—'} · ${report.images} images` +
      (report.preprocess_workers === null ? '' : ` · ${report.preprocess_workers} preprocessing workers`),
    '',
  ];
  if (report.simulated_accelerator) lines.push(`SIMULATED: ${report.simulated_accelerator.label}`, '');
  if (report.raw_pipeline) {
    lines.push('Raw pipeline (no service, no metrics):', '', '| batch | pairs/s | batch ms | ms per pair |', '|---|---|---|---|');
    for (const r of report.raw_pipeline)
      lines.push(`| ${r.batchSize} | ${r.pairsPerS.toFixed(2)} | ${r.batchMs.toFixed(1)} | ${r.perPairMs.toFixed(2)} |`);
    lines.push('');
  }
  lines.push(stepTable(report.steps));
  if (report.steps.some((s) => (s.replicas?.length ?? 0) > 1)) {
    lines.push('', 'Per replica (requests sent round-robin):', '', replicaTable(report.steps));
  }
  const paired = report.paired;
  if (paired) {
    const f = (x: number | null, d = 2) => (x === null ? '—' : x.toFixed(d));
    const t = paired.throughput;
    lines.push(
      '',
      `Side by side, alternating rounds in this run:`,
      `- latency at concurrency 1 (${paired.latency.rounds} pairs): raw P50 ${f(paired.latency.raw_p50_ms)} ms, app P50 ${f(paired.latency.app_p50_ms)} ms, median of the paired differences ${f(paired.latency.median_difference_ms)} ms`,
      `- throughput (${t.ratios.length} rounds of ${t.slice_s} s): raw at batch ${t.raw_batch_size} ${t.raw_pairs_per_s.map((x) => x.toFixed(2)).join(' / ')} pairs/s, app at concurrency ${t.app_concurrency} ${t.app_qps.map((x) => x.toFixed(2)).join(' / ')} QPS, median ratio ${f(t.median_ratio, 3)}`,
    );
  }
  if (report.ratios) {
    lines.push(
      '',
      `app QPS / raw pairs/s: ${report.ratios.best_app_qps_to_raw === null ? '—' : report.ratios.best_app_qps_to_raw.toFixed(3)}` +
        ` · app P50 at concurrency 1 minus raw: ${report.ratios.p50_c1_minus_raw_ms === null ? '—' : `${report.ratios.p50_c1_minus_raw_ms.toFixed(2)} ms`}` +
        ` (${report.ratios.source === 'paired' ? 'side by side' : 'best of the sweep'})`,
    );
  }
  if (report.bound) {
    const b = report.bound;
    lines.push(
      '',
      `bound (simulated, batch ${b.max_batch_size}): min(accelerator ${b.accelerator_qps.toFixed(1)}, preprocessing ${b.preprocess_qps.toFixed(1)} = ` +
        `${b.cores} cores x 1000 / ${b.preprocess_ms_per_pair.toFixed(2)} ms) = ${b.bound_qps.toFixed(1)} pairs/s (${b.limited_by});` +
        ` best QPS ${report.qps === null ? '—' : report.qps.toFixed(1)}${b.qps_to_bound === null ? '' : ` = ${(100 * b.qps_to_bound).toFixed(0)}% of the bound`}`,
    );
  }
  if (report.gate) lines.push('', `gate P95 <= ${report.gate.max_p95_s} s: ${report.gate.passed ? 'passed' : 'FAILED'}`);
  return lines.join('\n');
}
