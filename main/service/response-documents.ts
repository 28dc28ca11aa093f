/**
 * The JSON documents the service answers with, built from its state: the same for HTTP, IPC and the
 * CLI. The shapes are the wire contract (preload/wire-types.ts); this module only fills them in, so
 * ServiceRuntime keeps the wiring and model swapping and no adapter assembles a document itself.
 */
import type {
  AlertStatus,
  CheckResult,
  HealthDocument,
  ModelDocument,
  ReadinessDocument,
  StatsDocument,
} from '../../preload/wire-types.ts';
import { DEMO_WARNING, type InputLimits } from '../config.ts';
import type { ModelInfo } from '../inference/entailment-types.ts';
import type { StatsSnapshot } from '../telemetry/live-stats.ts';
import type { BatchingOptions } from './batching-options.ts';
import type { CheckAnswer } from './check-service.ts';

/** POST /api/v1/check and IPC check:run: an answer as the wire carries it (plain copies, no class instances). */
export function checkResultDocument(answer: CheckAnswer): CheckResult {
  return {
    id: answer.id,
    label: answer.label,
    score: answer.score,
    scores: { ...answer.scores },
    latency_ms: answer.latency_ms,
    stages: { ...answer.stages },
    model: { ...answer.model },
    ...(answer.model.demo ? { warning: DEMO_WARNING } : {}),
    warnings: answer.warnings.map((w) => ({ ...w })),
  };
}

/** What the model document is read from (the runtime: its service's model and why none is loaded). */
export interface ModelState {
  /** The loaded model, or undefined while none is. */
  readonly model: ModelInfo | undefined;
  /** Why no model is loaded, when one failed to. */
  readonly loadError?: string;
  readonly batching: BatchingOptions;
  /** The model's directory: shown only where asked for (desktop; the HTTP API never shows server paths). */
  readonly modelDir?: string;
  /** The Prometheus the fleet figures are read from, when one is configured. */
  readonly prometheusUrl?: string;
  /** What one check may send: clients measure captions against it before sending. */
  readonly limits?: InputLimits;
}

/** GET /api/v1/model and IPC model:info. */
export function modelDocument(state: ModelState): ModelDocument {
  const { model } = state;
  return {
    ready: model !== undefined,
    error: model ? undefined : (state.loadError ?? 'the model is loading'),
    model: model && {
      name: model.name,
      version: model.version,
      demo: model.demo,
      provider: model.provider,
      provider_fallback_reason: model.providerFallbackReason,
      image_size: model.imageSize,
      max_words: model.maxWords,
    },
    warning: model?.demo ? DEMO_WARNING : undefined,
    batching: {
      max_batch_size: state.batching.maxBatchSize,
      max_queue_delay_ms: state.batching.maxQueueDelayMs,
      max_queue_size: state.batching.maxQueueSize,
      request_timeout_ms: state.batching.requestTimeoutMs,
    },
    ...(state.modelDir !== undefined ? { model_dir: state.modelDir } : {}),
    ...(state.prometheusUrl !== undefined ? { prometheus_url: state.prometheusUrl } : {}),
    ...(state.limits
      ? {
          limits: {
            max_text_bytes: state.limits.maxTextBytes,
            max_image_bytes: state.limits.maxImageBytes,
            max_image_pixels: state.limits.maxImagePixels,
          },
        }
      : {}),
  };
}

/** What the service adds to the live stats' snapshot: the queue now and over the window, the alerts. */
export interface ServiceFigures {
  readonly queueDepth: number;
  /** Queue depth per second from `from` to `to` (epoch seconds, inclusive): the snapshot's seconds. */
  readonly queueDepthSeries: (from: number, to: number) => number[];
  readonly alerts: AlertStatus[];
}

/** GET /api/v1/stats, each SSE `stats` event and IPC stats:tick. */
export function statsDocument(snapshot: StatsSnapshot, figures: ServiceFigures): StatsDocument {
  const first = snapshot.series[0]?.t ?? Math.floor(Date.now() / 1000);
  const memory = process.memoryUsage();
  return {
    ...snapshot,
    queue_depth: figures.queueDepth,
    queue_depth_series: figures.queueDepthSeries(first, first + snapshot.series.length - 1),
    alerts: figures.alerts,
    process: { uptime_s: process.uptime(), rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
  };
}

/** GET /healthz: ok, or failing with why (`reason` fit for any caller). */
export function healthDocument(liveness: { readonly ok: boolean; readonly reason?: string }, version: string): HealthDocument {
  if (liveness.ok) return { status: 'ok', version };
  return { status: 'failing', version, reason: liveness.reason ?? 'the service cannot recover' };
}

/** GET /readyz: ready with the model it answers with, or not ready with why (`reason` fit for any caller). */
export function readinessDocument(
  readiness: { readonly ready: boolean; readonly reason?: string },
  model: ModelInfo | undefined,
): ReadinessDocument {
  if (readiness.ready && model) return { status: 'ready', model: model.name, provider: model.provider };
  return { status: 'not ready', error: { code: 'NOT_READY', message: readiness.reason ?? 'the model is loading' } };
}
