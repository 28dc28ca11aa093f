/**
 * The JSON documents the app exchanges, identical over HTTP (browser mode) and IPC (desktop mode).
 * Self-contained (no imports) because both the Node and the web type-checks read it; main/ checks
 * its producers against these with `satisfies`.
 */
export type Label = 'YES' | 'NO' | 'MAYBE';
export type ResultType = Label | 'ERROR';
export type StageName = 'queue' | 'decode_image' | 'tokenize' | 'inference' | 'postprocess';
export const STAGE_NAMES: readonly StageName[] = ['queue', 'decode_image', 'tokenize', 'inference', 'postprocess'];

export interface ApiError {
  /** Stable code (INVALID_IMAGE, EMPTY_TEXT, OVERLOADED, ...); see main/errors.ts. */
  code: string;
  message: string;
}

export interface ModelSummary {
  name: string;
  version: string;
  demo: boolean;
  provider: 'cuda' | 'cpu';
  provider_fallback_reason?: string;
  image_size: number;
  max_words: number;
}

/** GET /api/v1/model, IPC model:info. */
export interface ModelDocument {
  ready: boolean;
  /** Why the model is not loaded (missing or corrupt directory, ...). */
  error?: string;
  model?: ModelSummary;
  /** Set when the demo model is loaded: its answers are not meaningful. */
  warning?: string;
  batching: { maxBatchSize: number; maxQueueDelayMs: number; maxQueueSize: number; requestTimeoutMs: number };
  /** Where the loaded model came from (desktop mode only; the HTTP API never shows server paths). */
  model_dir?: string;
}

/** POST /api/v1/check, IPC check:run. */
export interface CheckResult {
  id: string;
  label: Label;
  score: number;
  scores: Record<Label, number>;
  latency_ms: number;
  stages: Partial<Record<StageName, number>>;
  model: { name: string; version: string; demo: boolean; provider: string };
  warning?: string;
}

export interface SeriesPoint {
  /** Epoch seconds. */
  t: number;
  requests: number;
  YES: number;
  NO: number;
  MAYBE: number;
  ERROR: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  error_rate: number;
}

export interface StageStats {
  p50_ms: number | null;
  p90_ms: number | null;
  mean_ms: number | null;
}

export type AlertState = 'inactive' | 'pending' | 'firing';

/** One of the two deploy/ rules, evaluated in the app over its live stats. */
export interface AlertStatus {
  name: 'OfaVeHighLatencyP95' | 'OfaVeHighErrorRate';
  severity: 'warning' | 'critical';
  state: AlertState;
  /** The rule's expression in words, e.g. "P95 latency over 5 min > 2 s for 5 min". */
  summary: string;
  /** The evaluated value now (seconds for latency, a ratio for the error rate); null without traffic. */
  value: number | null;
  threshold: number;
  /** ISO time the current state began (pending or firing); null when inactive. */
  active_since: string | null;
}

export interface ProcessStatus {
  uptime_s: number;
  rss_bytes: number;
  heap_used_bytes: number;
}

/** GET /api/v1/stats?window=, each SSE `stats` event, IPC stats:tick. */
export interface StatsDocument {
  window_s: number;
  /** ISO. */
  generated_at: string;
  /** All requests (successful and failed) per second over the window: count / window_s. */
  qps: number;
  /** Latency quantiles over successful (status 200) requests only. */
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  /** Errors / all requests in the window (0 when none). */
  error_rate: number;
  totals: { requests: number; YES: number; NO: number; MAYBE: number; ERROR: number; by_status: Record<string, number> };
  /** Over the requests that reported a batch size; null when none did. */
  mean_batch_size: number | null;
  /** One point per second, oldest first, zero-filled, exactly window_s points ending at the current second. */
  series: SeriesPoint[];
  /** Stage timings of successful requests. */
  stages: Record<StageName, StageStats>;
  queue_depth: number;
  /** Queue depth sampled once a second, aligned with `series` (same length, same seconds). */
  queue_depth_series: number[];
  alerts: AlertStatus[];
  process: ProcessStatus;
}

export interface SlowRequest {
  id: string;
  ended_at: string;
  latency_ms: number;
  result_type: Label;
  status_code: number;
  batch_size: number | null;
  stages: Partial<Record<StageName, number>>;
}
