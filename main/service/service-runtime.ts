import { randomUUID } from 'node:crypto';
import type { CheckResult, ModelDocument, StatsDocument } from '../../preload/wire-types.ts';
import { appVersion, DEFAULT_INPUT_LIMITS, type InputLimits } from '../config.ts';
import { CheckError } from '../errors.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { ResizeBackend } from '../inference/pil-bicubic-resize.ts';
import type { ProviderChoice } from '../inference/provider-choice.ts';
import type { Logger } from '../logging/json-logger.ts';
import { AlertEvaluator } from '../telemetry/alert-evaluator.ts';
import { GaugeHistory } from '../telemetry/gauge-history.ts';
import { workerGpuMemorySampler } from '../telemetry/gpu-memory.ts';
import { LiveStats } from '../telemetry/live-stats.ts';
import { PrometheusClient } from '../telemetry/prometheus-client.ts';
import { ServiceMetrics } from '../telemetry/service-metrics.ts';
import { AccessLog, DEFAULT_ACCESS_LOG_RATE } from './access-log.ts';
import type { BatchingOptions } from './batching-options.ts';
import { CheckService, RETRY_AFTER_SECONDS } from './check-service.ts';
import { defaultUploadBudgetBytes, type Reservation, UploadBudget } from './upload-budget.ts';
import { checkResultDocument, modelDocument, statsDocument } from './response-documents.ts';
import { structuredCheckRequest } from './structured-check-request.ts';
import { InferenceWorkerHost, type FailedRestart, type RestartPolicy } from './inference-worker-host.ts';
import { parsePreprocessWorkers, type PreprocessWorkersSetting } from './preprocess/preprocess-plan.ts';
import { describeSimulatedAccelerator, type SimulatedAcceleratorSpec } from './simulated-accelerator-spec.ts';
import { WORKER_NICENESS } from './worker-priority.ts';

export interface RuntimeOptions {
  readonly modelDir: string;
  readonly provider: ProviderChoice;
  readonly limits?: Partial<InputLimits>;
  readonly batching?: Partial<BatchingOptions>;
  readonly intraOpThreads?: number;
  /** Nice increment of the inference worker against the service (default WORKER_NICENESS). */
  readonly workerNiceness?: number;
  readonly logger: Logger;
  /** Access log lines per second written in full before sampling (0: none; default DEFAULT_ACCESS_LOG_RATE). */
  readonly accessLogRate?: number;
  /** Worker restart backoff and the model load timeout (default DEFAULT_RESTART_POLICY). */
  readonly workerRestart?: Partial<RestartPolicy>;
  /**
   * Preprocessing threads in the inference worker. 0 is the serial design: the worker prepares
   * each batch itself, then runs it. Default 'auto': one per core when the model runs on a GPU (or
   * the simulated accelerator), the serial design on the CPU (preprocess-plan.ts says why).
   */
  readonly preprocessWorkers?: PreprocessWorkersSetting;
  /**
   * Fraction of batches run with onnxruntime's profiler, their operator events in the traces of
   * their requests (0..1, default 0: none, at no cost): `serve --profile-sample-rate`.
   */
  readonly profileSampleRate?: number;
  /**
   * Bench only (`ofa-ve bench --simulate-accelerator`): the model's session is replaced by a
   * simulated device taking msPerBatch + msPerPair·n ms per batch; preprocessing stays real.
   */
  readonly simulateAccelerator?: SimulatedAcceleratorSpec;
  /**
   * Variables added to the inference worker's environment, its replacements' too (the pipeline
   * bench runs one service with OFA_VE_RESIZE=js, the serial design as issue 16 found it).
   */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /**
   * Folder for the live stats' per-minute history and marks (kept 25 h, saved every few minutes
   * and at close): `ofa-ve serve --data-dir`, the desktop's userData. Without one (tests, the
   * bench) the history is kept in memory only.
   */
  readonly historyDir?: string;
  /** The Prometheus that scrapes the fleet (`ofa-ve serve --prometheus-url`, parsePrometheusUrl's form): fleet figures and comparisons read from it. */
  readonly prometheusUrl?: string;
}

/** What /readyz and /healthz answer: a yes or no, and why not. */
export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
}

/** How IPC checks show in the access log. */
const IPC_CHECK = { method: 'IPC', route: 'check:run' } as const;

/** How long one stats document per window is reused: every open stream and window shares it. */
const STATS_DOCUMENT_REUSE_MS = 500;

/**
 * Everything behind the adapters (HTTP, IPC, bench): metrics registry, live stats, in-app alerts,
 * the inference worker and the CheckService. A model that fails to load leaves the runtime up and
 * not ready, with the reason; another model can be loaded while it runs.
 */
export class ServiceRuntime {
  readonly metrics = new ServiceMetrics({ appVersion: appVersion() });
  readonly stats: LiveStats;
  readonly alerts: AlertEvaluator;
  readonly limits: InputLimits;
  readonly service: CheckService;
  /** Set with `prometheusUrl`: /api/v1/fleet and /api/v1/compare?source=prometheus read it. */
  readonly prometheus: PrometheusClient | undefined;
  private readonly accessLog: AccessLog;
  /** Image bytes of IPC checks held at once (the HTTP server keeps its own for bodies). */
  private readonly ipcUploads: UploadBudget;
  private readonly queueHistory: GaugeHistory;
  private readonly ticker: NodeJS.Timeout;
  private worker: InferenceWorkerHost;
  private currentModelDir: string;
  private closing = false;
  loadError: CheckError | undefined;

  constructor(private readonly options: RuntimeOptions) {
    const workers = options.preprocessWorkers;
    if (workers !== undefined && parsePreprocessWorkers(workers) === undefined) {
      throw new RangeError(`preprocessWorkers must be 'auto' or a whole number, 0 or more (got ${workers})`);
    }
    const rate = options.profileSampleRate;
    if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new RangeError(`profileSampleRate must be from 0 to 1 (got ${rate})`);
    this.stats = new LiveStats({ historyDir: options.historyDir, logger: options.logger });
    this.alerts = new AlertEvaluator(this.stats);
    this.queueHistory = new GaugeHistory(this.stats.retentionSeconds);
    this.limits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
    this.ipcUploads = new UploadBudget(defaultUploadBudgetBytes(this.limits.maxImageBytes));
    this.currentModelDir = options.modelDir;
    this.prometheus = options.prometheusUrl ? new PrometheusClient(options.prometheusUrl) : undefined;
    this.worker = this.createWorker(options.modelDir);
    this.accessLog = new AccessLog(options.logger, options.accessLogRate ?? DEFAULT_ACCESS_LOG_RATE);
    this.service = new CheckService(this.worker, this.metrics, this.stats, options.batching, this.accessLog);
    // Once a second: the queue-depth sample for the charts and one evaluation of the alert rules.
    this.ticker = setInterval(() => this.tick(), 1000);
    this.ticker.unref();
    this.alerts.on('firing', (alert) =>
      options.logger.log('warn', 'alert firing', { alert: alert.name, value: alert.value, threshold: alert.threshold }),
    );
    this.alerts.on('resolved', (alert) => options.logger.log('info', 'alert resolved', { alert: alert.name }));
  }

  get modelDir(): string {
    return this.currentModelDir;
  }

  private tick(): void {
    this.queueHistory.sample(Math.floor(Date.now() / 1000), this.service.queueDepth);
    this.alerts.evaluate();
  }

  /** Set when the model's session is the bench's simulated accelerator (every report says so). */
  get simulatedAccelerator(): SimulatedAcceleratorSpec | undefined {
    return this.options.simulateAccelerator;
  }

  /** Preprocessing threads in the loaded inference worker (0: the serial design); undefined until it has loaded. */
  get preprocessThreads(): number | undefined {
    return this.worker.preprocessThreads;
  }

  /** The resize the loaded inference worker runs (OFA_VE_RESIZE=js turns the kernels off); undefined until it has loaded. */
  get resizeBackend(): ResizeBackend | undefined {
    return this.worker.resize;
  }

  private createWorker(modelDir: string): InferenceWorkerHost {
    const worker = new InferenceWorkerHost(
      {
        modelDir,
        provider: this.options.provider,
        limits: this.limits,
        intraOpThreads: this.options.intraOpThreads,
        niceness: this.options.workerNiceness ?? WORKER_NICENESS,
        preprocessWorkers: this.options.preprocessWorkers ?? 'auto',
        profileSampleRate: this.options.profileSampleRate,
        simulateAccelerator: this.options.simulateAccelerator,
      },
      this.options.workerRestart,
      this.options.workerEnv,
    );
    worker.on('recycling', (reason: string) =>
      this.options.logger.log('error', 'inference worker stopped answering; replacing it', { reason }),
    );
    // A crash or a recycle: the replacement starts now; checks queue for it meanwhile (not NOT_READY),
    // while /readyz says 503 (no worker can run a check until it is back).
    worker.on('restarting', (count: number) => {
      this.metrics.workerRestarts.inc();
      if (worker === this.worker) this.metrics.modelReady.set(0);
      this.options.logger.log('warn', 'inference worker restarting', { restarts: count, pid: worker.pid });
    });
    worker.on('restart-attempt-failed', ({ error, failures, retryInMs }: FailedRestart) => {
      this.metrics.workerRestartFailures.inc();
      this.options.logger.log('error', 'inference worker restart failed', {
        code: error.code,
        error: error.message,
        failures_in_a_row: failures,
        ...(retryInMs === undefined ? { retry: false } : { retry_in_ms: retryInMs }),
      });
    });
    worker.on('restarted', (count: number) => {
      if (worker === this.worker) {
        this.loadError = undefined;
        if (worker.info) this.metrics.setModel(worker.info);
        this.trackGpuMemory(worker.info?.provider);
        this.metrics.modelReady.set(1);
      }
      // A replacement decides again: with --provider auto it may have lost (or found) the GPU.
      this.options.logger.log('warn', 'inference worker restarted', {
        restarts: count,
        provider: worker.info?.provider,
        preprocess_workers: worker.preprocessThreads,
      });
    });
    worker.on('restart-failed', (err: CheckError) => {
      const failing = worker.failing;
      if (worker === this.worker) {
        // No worker will answer soon: /readyz and NOT_READY say why; queued checks are refused.
        this.loadError = failing ? new CheckError(err.code, ServiceRuntime.failingMessage(failing)) : err;
        this.metrics.setModel(undefined);
        this.trackGpuMemory(undefined);
      }
      this.options.logger.log('error', 'inference worker could not be restarted', {
        code: err.code,
        error: err.message,
        ...(failing ? { failures_in_a_row: failing.failures, retry_every_ms: failing.retryEveryMs } : { retry: false }),
      });
    });
    return worker;
  }

  /**
   * `ofa_ve_gpu_memory_mb` is present exactly while the loaded model runs on CUDA (a restart under
   * --provider auto or a swap may fall back to the CPU) and samples the current worker's process
   * (the model runs there, and each restart or swap gives it a new pid).
   */
  private trackGpuMemory(provider: string | undefined): void {
    if (provider === 'cuda')
      this.metrics.enableGpuMemory(workerGpuMemorySampler(() => (this.worker.isReady ? this.worker.pid : undefined)));
    else this.metrics.disableGpuMemory();
  }

  private modelLoaded(info: ModelInfo): void {
    this.loadError = undefined;
    // Every load and swap is a point to compare around ("before / after the upgrade").
    this.stats.addMark(`model: ${info.name} ${info.version}`, undefined, 'model-change');
    this.metrics.setModel(info);
    this.metrics.modelReady.set(1);
    this.trackGpuMemory(info.provider);
    this.options.logger.log('info', 'model loaded', {
      model: info.name,
      version: info.version,
      provider: info.provider,
      demo: info.demo,
      preprocess_workers: this.preprocessThreads,
      resize: this.resizeBackend,
      ...(info.providerFallbackReason ? { provider_note: info.providerFallbackReason } : {}),
      ...(this.simulatedAccelerator ? { simulated: describeSimulatedAccelerator(this.simulatedAccelerator) } : {}),
    });
    if (info.demo) this.options.logger.log('warn', 'the demo model is loaded: its answers are not meaningful');
    if (this.resizeBackend === 'js') {
      this.options.logger.log(
        'warn',
        'the WebAssembly resize kernels are off (OFA_VE_RESIZE=js, or no WebAssembly SIMD here): the JavaScript resize runs, same results, ~3x the CPU',
      );
    }
  }

  private static asLoadError(err: unknown): CheckError {
    return err instanceof CheckError ? err : new CheckError('MODEL_INVALID', String((err as Error)?.message ?? err));
  }

  /**
   * One check from a structured request (IPC): validated like a JSON body, run, and answered as
   * the wire document. A malformed request is counted like any refused check.
   */
  async checkStructured(request: unknown, signal?: AbortSignal): Promise<CheckResult> {
    const context = { startedAt: performance.now(), id: randomUUID(), ...IPC_CHECK, signal };
    let parsed;
    let reservation: Reservation | undefined;
    try {
      parsed = structuredCheckRequest(request, this.limits);
      // The image bytes held while the check waits and runs, bounded as the HTTP server bounds bodies.
      reservation = this.ipcUploads.reserve(parsed.image.byteLength);
      if (!reservation)
        throw new CheckError('OVERLOADED', `too many image bytes are waiting to be checked; retry in ${RETRY_AFTER_SECONDS} s`);
    } catch (err) {
      throw this.service.refuse(err, context);
    }
    try {
      return checkResultDocument(await this.service.check(parsed, context));
    } finally {
      reservation.release();
    }
  }

  /** Loads the model in the worker; resolves with its info, or undefined (and loadError) on failure. */
  async start(): Promise<ModelInfo | undefined> {
    this.tick();
    try {
      const info = await this.worker.start();
      this.modelLoaded(info);
      return info;
    } catch (err) {
      this.loadError = ServiceRuntime.asLoadError(err);
      this.metrics.setModel(undefined);
      this.trackGpuMemory(undefined);
      this.metrics.modelReady.set(0);
      this.options.logger.log('error', 'model not loaded', { code: this.loadError.code, reason: this.loadError.message });
      return undefined;
    }
  }

  /**
   * Loads the model in `modelDir` in a new worker and switches to it once loaded. If it fails, a
   * working model stays in service and the error is thrown (MODEL_INVALID, naming the problem);
   * if none was working, the runtime stays not ready with this error as the reason.
   */
  async loadModel(modelDir: string): Promise<ModelInfo> {
    const next = this.createWorker(modelDir);
    let info: ModelInfo;
    try {
      info = await next.start();
    } catch (err) {
      await next.close();
      const error = ServiceRuntime.asLoadError(err);
      if (!this.worker.isReady) this.loadError = error;
      this.options.logger.log('error', 'model not loaded', { code: error.code, reason: error.message, kept_current: this.worker.isReady });
      throw error;
    }
    const previous = this.worker;
    await this.service.replaceWorker(next);
    this.worker = next;
    this.currentModelDir = modelDir;
    await previous.close();
    this.modelLoaded(info);
    return info;
  }

  get workerHost(): InferenceWorkerHost {
    return this.worker;
  }

  /**
   * /readyz: ready only while a worker is loaded and answering. During a worker restart checks
   * still queue for it (a restart takes about a second), but a load balancer should send new
   * work elsewhere until it is back, and a shutting-down service takes no new work at all.
   */
  readiness(): Readiness {
    if (this.closing) return { ready: false, reason: 'the service is shutting down' };
    if (this.worker.isReady && this.service.model) return { ready: true };
    if (this.worker.restarting) {
      return { ready: false, reason: 'the inference worker is restarting; checks sent meanwhile wait for it in the queue' };
    }
    return { ready: false, reason: this.loadError?.message ?? 'the model is loading' };
  }

  /**
   * /healthz: false when the service cannot recover by itself, so that an orchestrator restarts
   * it: the worker's replacement has failed to start failuresBeforeGivingUp times in a row (it is
   * still retried meanwhile). A model directory that does not load is a readiness matter, not this:
   * restarting the process would load the same directory.
   */
  liveness(): { ok: boolean; reason?: string } {
    const failing = this.worker.failing;
    return failing ? { ok: false, reason: ServiceRuntime.failingMessage(failing) } : { ok: true };
  }

  private static failingMessage(failing: NonNullable<InferenceWorkerHost['failing']>): string {
    const { failures, error, retryEveryMs } = failing;
    return `the inference worker failed to start ${failures} times in a row (${error.message}); retrying every ${retryEveryMs / 1000} s`;
  }

  /** GET /api/v1/model and IPC model:info (response-documents.ts). Server paths only where asked for (desktop). */
  modelDocument(options: { includeDir?: boolean } = {}): ModelDocument {
    return modelDocument({
      model: this.service.model,
      loadError: this.loadError?.message,
      batching: this.service.batching,
      ...(options.includeDir ? { modelDir: this.currentModelDir } : {}),
      prometheusUrl: this.prometheus?.url,
      limits: this.limits,
    });
  }

  private readonly statsCache = new Map<number, { at: number; doc: StatsDocument }>();

  /**
   * GET /api/v1/stats, each SSE tick and IPC stats:tick: one document for every view, computed at
   * most once per window per half second however many streams and windows are open.
   */
  statsDocument(windowS: number): StatsDocument {
    const now = performance.now();
    const cached = this.statsCache.get(windowS);
    if (cached && now - cached.at < STATS_DOCUMENT_REUSE_MS) return cached.doc;
    const doc = statsDocument(this.stats.snapshot(windowS), {
      queueDepth: this.service.queueDepth,
      queueDepthSeries: (from, to) => this.queueHistory.series(from, to),
      alerts: this.alerts.current(),
    });
    this.statsCache.set(windowS, { at: now, doc });
    return doc;
  }

  async close(drainMs = 10_000): Promise<void> {
    this.closing = true;
    clearInterval(this.ticker);
    await this.service.drain(drainMs);
    await this.worker.close();
    this.metrics.modelReady.set(0);
    this.accessLog.flush();
    this.metrics.close();
    await this.stats.close(); // saves the history, the minute in progress included
  }
}
