import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type RegistryContentType } from 'prom-client';
import { CHECK_WARNING_CODES, STAGE_NAMES, type ResultType, type StageName } from '../../preload/wire-types.ts';
import { CHECK_STATUS_CODES } from '../errors.ts';
import { replaceEventLoopMetrics } from './event-loop-metrics.ts';
import { SLICE_VALUES, UNKNOWN_SLICE, type CaptionScript } from './input-slices.ts';
import { BATCH_SIZE_BUCKETS, REQUEST_LATENCY_BUCKETS, STAGE_LATENCY_BUCKETS } from './metric-buckets.ts';
import type { GpuMemorySample } from './gpu-memory.ts';

/**
 * The `script` label of the stage histogram: the in-app caption_script slices (issue 17), the only
 * slice cheap enough for Prometheus. Every answered check has a caption, so `unknown` is not
 * pre-created; it appears only if a caller reports stages without a script.
 */
export const STAGE_SCRIPT_LABELS: readonly CaptionScript[] = SLICE_VALUES.caption_script.filter(
  (value): value is CaptionScript => value !== UNKNOWN_SLICE,
);

const GPU_MEMORY_METRIC = 'ofa_ve_gpu_memory_mb';

/** prom-client's default gauges whose names end in _total (dropped: see the constructor). */
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * The service's own prom-client registry (never the global one, so two services in one process,
 * as in tests, do not collide). Names and labels follow DESIGN.md; the first three are the seed's.
 */
export class ServiceMetrics {
  // Exemplar-enabled metrics need an OpenMetrics registry at construction; scrape() picks the format per request.
  readonly registry = new Registry<RegistryContentType>();
  readonly requests: Counter<'status_code' | 'result_type'>;
  readonly latency: Histogram;
  readonly stageLatency: Histogram<'stage' | 'script'>;
  readonly batchSize: Histogram;
  readonly checkWarnings: Counter<'code'>;
  readonly workerRestarts: Counter;
  readonly workerRestartFailures: Counter;
  readonly prometheusFailures: Counter;
  readonly modelReady: Gauge;
  readonly queueDepth: Gauge;
  readonly inflight: Gauge;
  readonly modelInfo: Gauge<'model' | 'version' | 'provider' | 'demo'>;
  readonly buildInfo: Gauge<'version'>;
  private gpuMemory: Gauge<'scope'> | undefined;
  private scrapeChain: Promise<unknown> = Promise.resolve();
  private stopEventLoopSampling: (() => void) | undefined;

  constructor(options: { appVersion: string; defaultMetrics?: boolean }) {
    this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'ofa_ve_request_total',
      help: 'Visual entailment check requests, by HTTP status code and result (YES, NO, MAYBE or ERROR).',
      labelNames: ['status_code', 'result_type'],
      registers,
    });
    for (const status of CHECK_STATUS_CODES) {
      const results: ResultType[] = status === 200 ? ['YES', 'NO', 'MAYBE'] : ['ERROR'];
      for (const result of results) this.requests.labels(String(status), result).inc(0);
    }
    this.latency = new Histogram({
      name: 'ofa_ve_request_latency_seconds',
      help: 'End-to-end latency of successful checks, from request received to answer sent.',
      buckets: REQUEST_LATENCY_BUCKETS,
      enableExemplars: true,
      registers,
    });
    this.stageLatency = new Histogram({
      name: 'ofa_ve_stage_latency_seconds',
      help:
        'Time spent per pipeline stage of successful checks (queue, decode_image, tokenize, inference, postprocess), ' +
        'by caption script (english, cjk, other).',
      labelNames: ['stage', 'script'],
      buckets: STAGE_LATENCY_BUCKETS,
      registers,
    });
    // Every stage × script series exists from the start (README: series count); `sum by (le, stage)` reads them as before.
    for (const stage of STAGE_NAMES) for (const script of STAGE_SCRIPT_LABELS) this.stageLatency.zero({ stage, script });
    this.batchSize = new Histogram({
      name: 'ofa_ve_batch_size',
      help: 'Pairs per model run, as formed by the dynamic batcher.',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.checkWarnings = new Counter({
      name: 'ofa_ve_check_warnings_total',
      help: 'Checks answered with a warning, by warning code (CAPTION_TRUNCATED: the caption was cut to max_words; NOT_ENGLISH).',
      labelNames: ['code'],
      registers,
    });
    for (const code of CHECK_WARNING_CODES) this.checkWarnings.labels(code).inc(0);
    this.workerRestarts = new Counter({
      name: 'ofa_ve_worker_restarts_total',
      help: 'Inference worker processes started to replace one that died or hung.',
      registers,
    });
    this.workerRestartFailures = new Counter({
      name: 'ofa_ve_worker_restart_failures_total',
      help: 'Replacement inference worker starts that failed (fork error, died or hung while loading); each is retried with backoff.',
      registers,
    });
    this.prometheusFailures = new Counter({
      name: 'ofa_ve_prometheus_query_failures_total',
      help: 'Fleet and compare requests (--prometheus-url) answered PROMETHEUS_UNAVAILABLE: the Prometheus was unreachable, slow or refused the query.',
      registers,
    });
    this.modelReady = new Gauge({
      name: 'ofa_ve_model_ready',
      help: 'Whether a worker can run checks now (1) or not (0: loading, restarting, or no model).',
      registers,
    });
    this.modelReady.set(0);
    this.queueDepth = new Gauge({ name: 'ofa_ve_queue_depth', help: 'Checks waiting for the model.', registers });
    this.inflight = new Gauge({
      name: 'ofa_ve_inflight_requests',
      help: 'Checks accepted and not yet answered (queued or running).',
      registers,
    });
    this.modelInfo = new Gauge({
      name: 'ofa_ve_model_info',
      help: 'The loaded model (value 1); demo="true" means its answers are not meaningful.',
      labelNames: ['model', 'version', 'provider', 'demo'],
      registers,
    });
    this.buildInfo = new Gauge({ name: 'ofa_ve_build_info', help: 'The app build (value 1).', labelNames: ['version'], registers });
    this.buildInfo.labels(options.appVersion).set(1);
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters fail `promtool check metrics`; each is the sum of the per-type
      // gauge beside it (nodejs_active_handles{type}), which stays.
      for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
      this.stopEventLoopSampling = replaceEventLoopMetrics(this.registry);
    }
  }

  /** Stops background sampling (tests create many registries in one process). */
  close(): void {
    this.stopEventLoopSampling?.();
  }

  setModel(model: { name: string; version: string; provider: string; demo: boolean } | undefined): void {
    this.modelInfo.reset();
    if (model) this.modelInfo.labels(model.name, model.version, model.provider, String(model.demo)).set(1);
  }

  /**
   * Registers `ofa_ve_gpu_memory_mb` while the loaded model runs on CUDA (so it is absent otherwise);
   * `collect` samples at each scrape, labelled with its `scope`. Undefined (nvidia-smi absent or
   * failing, no worker ready) exports no sample: the gauge is reset first, as prom-client would
   * otherwise export 0 (never set) or the last figure. Enabling it twice keeps the first.
   */
  enableGpuMemory(collect: () => Promise<GpuMemorySample | undefined>): void {
    if (this.gpuMemory) return;
    this.gpuMemory = new Gauge({
      name: GPU_MEMORY_METRIC,
      help:
        'GPU memory used by the inference worker process, in MiB, sampled from nvidia-smi. ' +
        'scope="process": the worker process\'s own figure; scope="device": the whole device\'s used memory, ' +
        'where nvidia-smi hides per-process figures (containers). No sample while nvidia-smi is unavailable or no worker is ready.',
      labelNames: ['scope'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const sample = await collect();
        if (sample !== undefined) this.labels(sample.scope).set(sample.mb);
      },
    });
  }

  /** Unregisters `ofa_ve_gpu_memory_mb` (the model fell back to the CPU, or none is loaded); enabling it again works. */
  disableGpuMemory(): void {
    if (!this.gpuMemory) return;
    this.registry.removeSingleMetric(GPU_MEMORY_METRIC);
    this.gpuMemory = undefined;
  }

  /**
   * Counts one finished check; for an answered one (200) also its latency, stages (labelled with the
   * caption's script, `captionScript`) and warnings (each code once).
   */
  recordRequest(sample: {
    id: string;
    statusCode: number;
    resultType: ResultType;
    latencyMs: number;
    stages?: Partial<Record<StageName, number>>;
    script?: CaptionScript;
    warnings?: readonly { code: string }[];
  }): void {
    this.requests.labels(String(sample.statusCode), sample.resultType).inc();
    if (sample.statusCode !== 200) return;
    this.latency.observe({ value: sample.latencyMs / 1000, labels: {}, exemplarLabels: { request_id: sample.id } });
    if (sample.stages) {
      const script = sample.script ?? UNKNOWN_SLICE;
      for (const stage of STAGE_NAMES) {
        const ms = sample.stages[stage];
        if (ms !== undefined) this.stageLatency.labels(stage, script).observe(ms / 1000);
      }
    }
    if (sample.warnings?.length) for (const code of new Set(sample.warnings.map((w) => w.code))) this.checkWarnings.labels(code).inc();
  }

  /**
   * The exposition for one scrape. OpenMetrics (with exemplars) when asked for, Prometheus text
   * otherwise. prom-client renames counters in place while rendering OpenMetrics, so scrapes are
   * serialised and the names restored afterwards; otherwise a later plain scrape would lose `_total`.
   */
  scrape(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    const run = async () => {
      if (!openMetrics) {
        this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
        return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await this.registry.metrics() };
      }
      const metrics = this.registry.getMetricsAsArray() as unknown as { name: string }[];
      const names = metrics.map((m) => m.name);
      this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      try {
        return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await this.registry.metrics() };
      } finally {
        metrics.forEach((m, i) => (m.name = names[i] as string));
        this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      }
    };
    const result = this.scrapeChain.then(run, run);
    this.scrapeChain = result.catch(() => undefined);
    return result;
  }
}
