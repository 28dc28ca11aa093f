import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { httpTarget, inProcessTarget, measureRawPipeline, type RawPipelineFigures } from '../../bench/bench-targets.ts';
import { folderImageSet, generatedImageSet, type BenchPair } from '../../bench/image-set.ts';
import { runStep, type CheckTarget } from '../../bench/load-generator.ts';
import { histogramSumCount, stepFigures, stepTable, type StepFigures } from '../../bench/step-report.ts';
import { defaultModelDir } from '../config.ts';
import { PROVIDER_CHOICES, type ProviderChoice } from '../inference/onnx-session.ts';
import { silentLogger } from '../logging/json-logger.ts';
import { OfaVeHttpServer } from '../server/http-server.ts';
import { appVersion, ServiceRuntime } from '../service/service-runtime.ts';
import type { CliIo } from './cli-io.ts';
import { EXIT, UsageError } from './exit-codes.ts';

export const BENCH_USAGE = `usage: ofa-ve bench [--url URL [--token T] | --http] [--model DIR] [--provider auto|cuda|cpu]
                    [--concurrency 1,2,4,8,16] [--duration 10 | --requests N] [--warmup 2]
                    [--images DIR] [--max-batch-size 8 | 1,2,4,8,16] [--raw] [--json FILE] [--max-p95 SECONDS]

A closed-loop load sweep (perf_analyzer's concurrency mode). By default the service runs in this
process and is loaded directly; --http puts its HTTP server in front on loopback; --url loads a
running instance instead. Each step reports QPS, P50/P90/P95/P99, errors, mean batch size and the
median of each stage. --raw also measures the raw pipeline (preprocessing and session.run in a
tight loop, no service) at batch 1..16 as the ceiling, and reports the app as ratios to it.
--images DIR uses that folder's images (captions from captions.csv or captions.txt); by default a
generated set of 16 images. --max-p95 exits 1 if any step's P95 is above it (a CI gate).`;

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

export interface BenchReport {
  tool: 'ofa-ve bench';
  version: string;
  date: string;
  command: string;
  machine: { cpus: number; cpu_model: string; memory_gib: number; platform: string; node: string };
  mode: 'in-process' | 'http-in-process' | 'remote';
  model: { name: string; version: string; provider: string; demo: boolean } | null;
  images: number;
  raw_pipeline: RawPipelineFigures[] | null;
  steps: StepFigures[];
  ratios: { best_app_qps_to_raw: number | null; p50_c1_minus_raw_ms: number | null } | null;
  gate: { max_p95_s: number; passed: boolean } | null;
}

export async function runBench(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      http: { type: 'boolean', default: false },
      model: { type: 'string' },
      provider: { type: 'string', default: 'auto' },
      concurrency: { type: 'string', default: '1,2,4,8,16' },
      duration: { type: 'string' },
      requests: { type: 'string' },
      warmup: { type: 'string' },
      images: { type: 'string' },
      'max-batch-size': { type: 'string', default: '8' },
      raw: { type: 'boolean', default: false },
      json: { type: 'string' },
      'max-p95': { type: 'string' },
    },
  });
  const provider = values.provider as ProviderChoice;
  if (!PROVIDER_CHOICES.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
  const concurrencies = list('concurrency', values.concurrency as string);
  const batchSizes = list('max-batch-size', values['max-batch-size'] as string);
  const durationS = positive('duration', values.duration, 10);
  const requests = values.requests === undefined ? undefined : Math.floor(positive('requests', values.requests, 1));
  const warmupS = values.warmup === undefined ? 2 : Number(values.warmup);
  if (!Number.isFinite(warmupS) || warmupS < 0) throw new UsageError('--warmup must be 0 or more seconds');
  const maxP95 = values['max-p95'] === undefined ? undefined : positive('max-p95', values['max-p95'], 1);
  const remote = values.url?.replace(/\/+$/, '');
  if (remote && (batchSizes.length > 1 || values['max-batch-size'] !== '8')) throw new UsageError('--max-batch-size is set on the running instance (ofa-ve serve --max-batch-size), not with --url');
  if (remote && values.raw) throw new UsageError('--raw measures this machine; it cannot be combined with --url');
  const modelDir = values.model ?? defaultModelDir();
  const token = values.token ?? process.env.OFA_VE_TOKEN;

  const pairs: BenchPair[] = values.images ? await folderImageSet(values.images) : await generatedImageSet();
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
    ratios: null,
    gate: null,
  };

  if (values.raw) {
    io.stderr(`[bench] raw pipeline (no service) at batch 1, 2, 4, 8, 16: ${durationS} s each`);
    report.raw_pipeline = await measureRawPipeline(modelDir, provider, pairs, [1, 2, 4, 8, 16], durationS);
  }

  if (remote) {
    const model = (await (await fetch(`${remote}/api/v1/model`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).json()) as {
      model?: { name: string; version: string; provider: string; demo: boolean };
      batching?: { maxBatchSize: number };
    };
    if (!model.model) {
      io.stderr(`ofa-ve bench: ${remote} has no model loaded`);
      return EXIT.MODEL_ERROR;
    }
    report.model = model.model;
    const target = httpTarget(remote, token);
    const scrape = async () => (await fetch(`${remote}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).text();
    for (const c of concurrencies) report.steps.push(await measure(target, scrape, c, model.batching?.maxBatchSize ?? 0));
  } else {
    for (const maxBatchSize of batchSizes) {
      const runtime = new ServiceRuntime({ modelDir, provider, batching: { maxBatchSize, maxQueueSize: 4096 }, logger: silentLogger });
      const info = await runtime.start();
      if (!info) {
        io.stderr(`ofa-ve bench: the model did not load: ${runtime.loadError?.message}`);
        await runtime.close(0);
        return EXIT.MODEL_ERROR;
      }
      report.model = { name: info.name, version: info.version, provider: info.provider, demo: info.demo };
      let server: OfaVeHttpServer | undefined;
      let target: CheckTarget = inProcessTarget(runtime);
      if (values.http) {
        server = new OfaVeHttpServer(runtime, {
          logger: silentLogger,
          bodyLimits: { maxBodyBytes: 64 * 1024 * 1024, maxImageBytes: runtime.limits.maxImageBytes, maxFieldBytes: runtime.limits.maxTextBytes },
        });
        const address = await server.listen(0, '127.0.0.1');
        target = httpTarget(`http://127.0.0.1:${address.port}`);
      }
      const scrape = async () => (await runtime.metrics.scrape(false)).body;
      try {
        for (const c of concurrencies) report.steps.push(await measure(target, scrape, c, maxBatchSize));
      } finally {
        await server?.close();
        await runtime.close(5000);
      }
    }
  }

  async function measure(target: CheckTarget, scrape: () => Promise<string>, concurrency: number, maxBatchSize: number): Promise<StepFigures> {
    const label = `concurrency ${concurrency}${report.mode === 'remote' ? '' : `, max batch ${maxBatchSize}`}`;
    io.stderr(`[bench] ${label}: warm-up ${warmupS} s, then ${requests === undefined ? `${durationS} s` : `${requests} requests`}`);
    const plan = { concurrency, durationS, requests, warmupS };
    let before = { sum: NaN, count: NaN };
    const outcome = await runStep(target, pairs, plan, progress(label), async () => {
      before = histogramSumCount(await scrape(), 'ofa_ve_batch_size');
    });
    const after = histogramSumCount(await scrape(), 'ofa_ve_batch_size');
    return stepFigures(concurrency, maxBatchSize, outcome, { before, after });
  }

  const raw = report.raw_pipeline;
  if (raw && report.steps.length > 0) {
    const bestRaw = Math.max(...raw.map((r) => r.pairsPerS));
    const bestApp = Math.max(...report.steps.map((s) => s.qps));
    const c1 = report.steps.find((s) => s.concurrency === 1);
    report.ratios = {
      best_app_qps_to_raw: bestApp / bestRaw,
      p50_c1_minus_raw_ms: c1?.p50_ms == null ? null : c1.p50_ms - raw[0]!.perPairMs,
    };
  }
  if (maxP95 !== undefined) {
    const worst = Math.max(...report.steps.map((s) => s.p95_ms ?? Infinity));
    report.gate = { max_p95_s: maxP95, passed: worst <= maxP95 * 1000 };
  }

  io.stdout(formatReport(report));
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
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
    `mode ${report.mode} · model ${report.model ? `${report.model.name} ${report.model.version} (${report.model.provider}${report.model.demo ? ', demo' : ''})` : '—'} · ${report.images} images`,
    '',
  ];
  if (report.raw_pipeline) {
    lines.push('Raw pipeline (no service, no metrics):', '', '| batch | pairs/s | batch ms | ms per pair |', '|---|---|---|---|');
    for (const r of report.raw_pipeline) lines.push(`| ${r.batchSize} | ${r.pairsPerS.toFixed(2)} | ${r.batchMs.toFixed(1)} | ${r.perPairMs.toFixed(2)} |`);
    lines.push('');
  }
  lines.push(stepTable(report.steps));
  if (report.ratios) {
    lines.push(
      '',
      `best app QPS / best raw pairs/s: ${report.ratios.best_app_qps_to_raw === null ? '—' : report.ratios.best_app_qps_to_raw.toFixed(3)}` +
        ` · app P50 at concurrency 1 minus raw per-pair time: ${report.ratios.p50_c1_minus_raw_ms === null ? '—' : `${report.ratios.p50_c1_minus_raw_ms.toFixed(2)} ms`}`,
    );
  }
  if (report.gate) lines.push('', `gate P95 <= ${report.gate.max_p95_s} s: ${report.gate.passed ? 'passed' : 'FAILED'}`);
  return lines.join('\n');
}
