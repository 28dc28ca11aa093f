import { readFileSync } from 'node:fs';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../config.ts';
import { CheckError } from '../errors.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { ProviderChoice } from '../inference/onnx-session.ts';
import type { Logger } from '../logging/json-logger.ts';
import { sampleGpuMemoryMb } from '../telemetry/gpu-memory.ts';
import { LiveStats } from '../telemetry/live-stats.ts';
import { ServiceMetrics } from '../telemetry/service-metrics.ts';
import type { BatchingOptions } from './batching-options.ts';
import { CheckService } from './check-service.ts';
import { InferenceWorkerHost } from './inference-worker-host.ts';

export interface RuntimeOptions {
  readonly modelDir: string;
  readonly provider: ProviderChoice;
  readonly limits?: Partial<InputLimits>;
  readonly batching?: Partial<BatchingOptions>;
  readonly intraOpThreads?: number;
  readonly logger: Logger;
}

export function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Everything behind the adapters: metrics registry, live stats, the inference worker and the
 * CheckService. A model that fails to load leaves the runtime up and not ready, with the reason.
 */
export class ServiceRuntime {
  readonly metrics = new ServiceMetrics({ appVersion: appVersion() });
  readonly stats = new LiveStats();
  readonly limits: InputLimits;
  readonly service: CheckService;
  private worker: InferenceWorkerHost;
  loadError: CheckError | undefined;

  constructor(private readonly options: RuntimeOptions) {
    this.limits = { ...DEFAULT_INPUT_LIMITS, ...options.limits };
    this.worker = this.createWorker(options.modelDir);
    this.service = new CheckService(this.worker, this.metrics, this.stats, options.batching);
  }

  private createWorker(modelDir: string): InferenceWorkerHost {
    const worker = new InferenceWorkerHost({
      modelDir,
      provider: this.options.provider,
      limits: this.limits,
      intraOpThreads: this.options.intraOpThreads,
    });
    worker.on('restarted', (count: number) => this.options.logger.log('warn', 'inference worker restarted', { restarts: count }));
    worker.on('restart-failed', (err: unknown) =>
      this.options.logger.log('error', 'inference worker could not be restarted', { error: String((err as Error)?.message ?? err) }),
    );
    return worker;
  }

  /** Loads the model in the worker; resolves with its info, or undefined (and loadError) on failure. */
  async start(): Promise<ModelInfo | undefined> {
    try {
      const info = await this.worker.start();
      this.loadError = undefined;
      this.metrics.setModel(info);
      if (info.provider === 'cuda') this.metrics.enableGpuMemory(() => sampleGpuMemoryMb());
      this.options.logger.log('info', 'model loaded', {
        model: info.name,
        version: info.version,
        provider: info.provider,
        demo: info.demo,
        ...(info.providerFallbackReason ? { provider_note: info.providerFallbackReason } : {}),
      });
      if (info.demo) this.options.logger.log('warn', 'the demo model is loaded: its answers are not meaningful');
      return info;
    } catch (err) {
      this.loadError = err instanceof CheckError ? err : new CheckError('MODEL_INVALID', String(err));
      this.metrics.setModel(undefined);
      this.options.logger.log('error', 'model not loaded', { code: this.loadError.code, reason: this.loadError.message });
      return undefined;
    }
  }

  get workerHost(): InferenceWorkerHost {
    return this.worker;
  }

  async close(drainMs = 10_000): Promise<void> {
    await this.service.drain(drainMs);
    await this.worker.close();
    this.metrics.close();
  }
}
