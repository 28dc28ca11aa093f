/**
 * The JSON documents the app exchanges, identical over HTTP (browser mode) and IPC (desktop mode).
 * Self-contained (no imports) because both the Node and the web type-checks read it; main/ checks
 * its producers against these with `satisfies`.
 */
export const LABELS = ['YES', 'NO', 'MAYBE'] as const;
export type Label = (typeof LABELS)[number];
export type ResultType = Label | 'ERROR';
export const RESULT_TYPES: readonly ResultType[] = [...LABELS, 'ERROR'];
/** The pipeline stages of a check, in the order they run: every list of stages is this one. */
export const STAGE_NAMES = ['queue', 'decode_image', 'tokenize', 'inference', 'postprocess'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * One image–caption pair to check, however it travels: HTTP and IPC requests, the CLI, the bench,
 * the worker's batch items. `Image` is how the image is held: the file's bytes (main, IPC), a Blob
 * (the renderer), `unknown` before a structured request is validated.
 */
export interface CheckPair<Image = Uint8Array> {
  readonly image: Image;
  readonly text: string;
  readonly premise?: string;
}

/** A pair with a name (the file name) for messages and bench reports. */
export interface NamedCheckPair<Image = Uint8Array> extends CheckPair<Image> {
  readonly name: string;
}

/** What an operation answered: a value, or an error (`E`: ApiError on the wire, a narrower code inside main). */
export type Outcome<T, E = ApiError> = { ok: true; value: T } | { ok: false; error: E };

export interface ApiError {
  /** Stable code (INVALID_IMAGE, EMPTY_TEXT, OVERLOADED, ...); see main/errors.ts. */
  code: string;
  message: string;
}

/**
 * The error codes caused by what was sent: the same input gets the same refusal. `ofa-ve check`
 * exits 2 on them (3 on the rest: the model's or ours), and the checker does not send such a row
 * again until its text changes. Every one is a code of main/errors.ts.
 */
export const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'INVALID_IMAGE',
  'EMPTY_TEXT',
  'BAD_REQUEST',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'IMAGE_TOO_LARGE',
  'TEXT_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
]);

/**
 * The clients' own codes for a connection to a service that failed before the service could
 * answer for itself (a service never sends them: its codes are main/errors.ts'). Main's
 * ConnectionError (main/electron/remote-fetch.ts) and the renderer's clients use these.
 */
export const CONNECTION_ERROR_CODES = {
  /** An address the app cannot use (not a URL, or plain http to another machine). */
  BAD_URL: 'BAD_URL',
  /** A token with characters no bearer token has (a space, a newline, non-ASCII). */
  BAD_TOKEN: 'BAD_TOKEN',
  /** Something answered, but not as ofa-ve serve does (another service, a redirect elsewhere). */
  NOT_OFA_VE: 'NOT_OFA_VE',
  /** The service does not let the console's window call it (its --cors-origin). */
  CORS_NOT_ALLOWED: 'CORS_NOT_ALLOWED',
  /** An answer far larger than any document of ofa-ve serve: not read. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** Stopped, restarting or unreachable. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;

export type ConnectionErrorCode = (typeof CONNECTION_ERROR_CODES)[keyof typeof CONNECTION_ERROR_CODES];

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
  /** The dynamic batcher's settings (`ofa-ve serve --max-batch-size`, ...). */
  batching: BatchingSummary;
  /** Where the loaded model came from (desktop mode only; the HTTP API never shows server paths). */
  model_dir?: string;
  /** The Prometheus the service reads fleet figures from (`ofa-ve serve --prometheus-url`); absent without one. */
  prometheus_url?: string;
  /** What one check may send (`ofa-ve serve --max-text-bytes`, ...); beyond it the check is refused. Absent from older services. */
  limits?: InputLimitsSummary;
}

/** A service's batching settings, as GET /api/v1/model and IPC model:info give them. */
export interface BatchingSummary {
  max_batch_size: number;
  max_queue_delay_ms: number;
  max_queue_size: number;
  request_timeout_ms: number;
}

/** A service's input limits: UTF-8 bytes of a caption or premise (TEXT_TOO_LONG), image bytes and pixels (IMAGE_TOO_LARGE). */
export interface InputLimitsSummary {
  max_text_bytes: number;
  max_image_bytes: number;
  max_image_pixels: number;
}

/** GET /healthz: 200 ok, or 503 failing (restart me: the service cannot recover by itself). */
export type HealthDocument = { status: 'ok'; version: string } | { status: 'failing'; version: string; reason: string };

/** GET /readyz: 200 ready, or 503 not ready (send work elsewhere for now). */
export type ReadinessDocument = { status: 'ready'; model: string; provider: 'cuda' | 'cpu' } | { status: 'not ready'; error: ApiError };

/** POST /api/v1/check, IPC check:run. */
export interface CheckResult {
  id: string;
  label: Label;
  score: number;
  scores: Record<Label, number>;
  latency_ms: number;
  stages: Partial<Record<StageName, number>>;
  model: { name: string; version: string; demo: boolean; provider: string };
  /** Set when the demo model answered: its labels are not meaningful. */
  warning?: string;
  /** What the model did not see as the reviewer meant it; empty when there is nothing to say. */
  warnings: CheckWarning[];
}

export type CheckWarningCode = 'CAPTION_TRUNCATED' | 'NOT_ENGLISH';
export const CHECK_WARNING_CODES: readonly CheckWarningCode[] = ['CAPTION_TRUNCATED', 'NOT_ENGLISH'];

export interface CheckWarning {
  code: CheckWarningCode;
  message: string;
}

/** Requests by result: per second (SeriesPoint) and over a window (StatsDocument.totals). */
export interface ResultCounts {
  requests: number;
  YES: number;
  NO: number;
  MAYBE: number;
  /** Every failed check (client_errors + server_errors). */
  ERROR: number;
  /** Checks refused for the client's mistake (4xx). */
  client_errors: number;
  /** Checks the service failed (5xx). */
  server_errors: number;
}

export interface SeriesPoint extends ResultCounts {
  /** Epoch seconds. */
  t: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  /** server_errors / (requests − client_errors), 0 when none: what alerts and the SLO count. */
  error_rate: number;
  /** client_errors / requests (0 without requests): shown, never alerted on. */
  client_error_rate: number;
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

/**
 * The thresholds of the seed's two rules (deploy/rules/ofa-ve-alerts.rules.yml): seconds of P95
 * latency, and the ratio of server errors. Here, not in main/, so the renderer can read them too.
 */
export const SEED_ALERT_THRESHOLDS: Readonly<Record<AlertStatus['name'], number>> = {
  OfaVeHighLatencyP95: 2,
  OfaVeHighErrorRate: 0.03,
};

export interface ProcessStatus {
  uptime_s: number;
  rss_bytes: number;
  heap_used_bytes: number;
}

/** GET /api/v1/stats?window=, each SSE `stats` event, IPC stats:tick. */
export interface StatsDocument {
  window_s: number;
  /**
   * Seconds of the window the service has existed: window_s, or fewer in its first minutes.
   * Absent from services before this field (read it as window_s).
   */
  covered_s?: number;
  /** ISO. */
  generated_at: string;
  /** All requests (successful and failed) per second over the window: count / covered_s (window_s when absent). */
  qps: number;
  /** Latency quantiles over successful (status 200) requests only. */
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  /** Mean latency of successful requests; the stage means plus the untimed remainder add up to it. */
  mean_ms: number | null;
  /** Server-side failures (5xx) / checks that were not the client's mistake (requests − 4xx), 0 when
   *  none: the ratio the deploy/ error-rate alert and availability SLO use. */
  error_rate: number;
  /** Client mistakes (4xx) / all requests in the window (0 when none): never pages anyone. */
  client_error_rate: number;
  totals: ResultCounts & { by_status: Record<string, number> };
  /** Mean pairs per model run over the batches run in the window (as Prometheus computes it from
   *  ofa_ve_batch_size: sum / count); null when no batch ran. */
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

/** GET /api/v1/requests/slowest: the slowest recent checks, failed ones included. */
export interface SlowRequest {
  id: string;
  ended_at: string;
  latency_ms: number;
  result_type: ResultType;
  status_code: number;
  /** The error code of a failed check (INVALID_IMAGE, TIMEOUT, ...). */
  error_code?: string;
  batch_size: number | null;
  stages: Partial<Record<StageName, number>>;
}

/** `GET /api/v1/requests/{id}/trace?format=`: Chrome Trace Event JSON, or OTLP/JSON. */
export type TraceFormat = 'chrome' | 'otlp';
export const TRACE_FORMATS: readonly TraceFormat[] = ['chrome', 'otlp'];

/**
 * One event of the Trace Event Format (Perfetto, chrome://tracing): a complete event (`ph` "X",
 * `ts` and `dur` in microseconds) or a metadata event (`ph` "M": process_name, thread_name).
 */
export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'M';
  cat?: string;
  /** Microseconds since the Unix epoch (X events). */
  ts?: number;
  /** Microseconds (X events). */
  dur?: number;
  pid: number;
  tid: number;
  args: Record<string, string | number | boolean | null>;
}

/** `format=chrome`: the JSON Object Format of the Trace Event Format. */
export interface ChromeTraceDocument {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, string>;
}

/** OTLP/JSON AnyValue: 64-bit integers are decimal strings. */
export type OtlpAnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** OTLP/JSON Span (lowerCamelCase, hex ids, times as decimal strings of Unix nanoseconds, enums as numbers). */
export interface OtlpSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** Absent on the root span. */
  parentSpanId?: string;
  name: string;
  /** SpanKind: 1 internal, 2 server. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  /** StatusCode: 0 unset, 2 error (a 5xx). */
  status: { code: number; message?: string };
}

/** `format=otlp`: an ExportTraceServiceRequest in OTLP/JSON (Jaeger UI, Grafana Tempo, an OTLP/HTTP collector). */
export interface OtlpTraceDocument {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

/** A request's trace in either format: the body of `GET /api/v1/requests/{id}/trace` (and of IPC `stats:trace`). */
export type TraceDocument = ChromeTraceDocument | OtlpTraceDocument;

/** The input attributes every check is sliced by (main/telemetry/input-slices.ts classifies). */
export const SLICE_ATTRIBUTES = ['caption_script', 'caption_tokens', 'image_size', 'image_format', 'premise'] as const;
export type SliceAttribute = (typeof SLICE_ATTRIBUTES)[number];
/** The attributes `compare?source=prometheus` slices by: the stage histogram's `script` label; the rest stay in-app. */
export const PROMETHEUS_SLICE_ATTRIBUTES = ['caption_script'] as const satisfies readonly SliceAttribute[];

/** One slice's figures over a window: the stats document's headline figures, per slice. */
export interface SliceStats {
  slice: string;
  /** All requests (successful and failed). */
  requests: number;
  qps: number;
  /** Successful requests only, as in the stats document. */
  p50_ms: number | null;
  p90_ms: number | null;
  mean_ms: number | null;
  /** 5xx / (requests − 4xx), and 4xx / requests, as in the stats document. */
  error_rate: number;
  client_error_rate: number;
  stages: Record<StageName, StageStats>;
}

/** `GET /api/v1/slices`: every slice of one attribute that saw a request, in SLICE_VALUES order. */
export interface SlicesSnapshot {
  attribute: SliceAttribute;
  window_s: number;
  /** Slices are kept per 10 s: the window read is the whole 10 s periods it touches, from `from` to now. */
  from: string;
  covered_s: number;
  generated_at: string;
  slices: SliceStats[];
}

export type MarkKind = 'user' | 'model-change';

/** A named point in time ("before deploy"; "model: ofa-ve-large 1.0" set on a model change). */
export interface Mark {
  name: string;
  at_ms: number;
  kind: MarkKind;
}

/** `GET /api/v1/compare` (main/telemetry/period-compare.ts computes it; its header says the method). */
export type ComparedStage = 'end_to_end' | StageName;

export interface QuantileEstimate {
  value_ms: number | null;
  low_ms: number | null;
  high_ms: number | null;
}

export interface QuantileChange {
  quantile: number;
  a: QuantileEstimate;
  b: QuantileEstimate;
  /** b − a. */
  difference_ms: number | null;
  /** Family-wise (Bonferroni) interval of the difference. */
  low_ms: number | null;
  high_ms: number | null;
  /** False when a period has too few values for this quantile's interval: then never significant. */
  testable: boolean;
  significant: boolean;
}

export interface MeanChange {
  a_ms: number | null;
  b_ms: number | null;
  difference_ms: number | null;
  low_ms: number | null;
  high_ms: number | null;
  testable: boolean;
  significant: boolean;
}

export interface StageChange {
  stage: ComparedStage;
  /** Values (successful checks that timed this stage) in each period. */
  count_a: number;
  count_b: number;
  mean: MeanChange;
  quantiles: QuantileChange[];
  /** This stage's mean change / the end-to-end mean change (1 for end_to_end); null without a change. */
  share_of_change: number | null;
  /** Any of its tests. */
  significant: boolean;
}

/** One period as the comparison reports it. */
export interface ComparedRange {
  /** ISO times: the whole periods actually read (the range asked for, rounded inward to `resolution_s`). */
  from: string;
  to: string;
  /** Seconds per period read: in-app its stats' periods; from Prometheus the scrape interval, null when Prometheus does not say. */
  resolution_s: number | null;
  requests: number;
  /** Successful checks (what the latency figures are over). */
  successes: number;
  error_rate: number;
  client_error_rate: number;
}

export interface SliceChange {
  slice: string;
  a: { requests: number; successes: number; error_rate: number };
  b: { requests: number; successes: number; error_rate: number };
  end_to_end: StageChange;
  /** Most of the slice's own mean change first. */
  stages: StageChange[];
  /**
   * This slice's part of the change of the overall mean (ms); the slices' parts add up to it. Null
   * when a period has no successful checks: there is no change to split.
   */
  contribution_ms: number | null;
  /** The part from the slice getting slower or faster, and the part from its share of checks changing (null as above). */
  within_ms: number | null;
  mix_ms: number | null;
  significant: boolean;
}

export interface SliceCause {
  slice: string;
  /** within: the slice itself got slower/faster; mix: it became more/less frequent. */
  kind: 'within' | 'mix';
  /** For `within`: the stage with the largest share of the slice's own change. */
  stage: StageName | 'untimed' | null;
  contribution_ms: number;
  share_of_change: number;
  significant: boolean;
}

export interface PeriodComparison {
  a: ComparedRange;
  b: ComparedRange;
  interval_confidence: number;
  family_error_rate: number;
  /** Tests in the family (the Bonferroni m). */
  tests: number;
  method: string;
  end_to_end: StageChange;
  /** Largest share of the end-to-end mean change first. */
  stages: StageChange[];
  /** The mean latency no stage timed (end-to-end mean − the stage means). */
  untimed: { a_ms: number | null; b_ms: number | null; difference_ms: number | null; share_of_change: number | null };
  /** The stage (or the untimed remainder) with the largest share of the change; null when end to end nothing changed significantly. */
  explained_by: { stage: StageName | 'untimed'; share_of_change: number } | null;
  slices: { attribute: SliceAttribute; slices: SliceChange[]; cause: SliceCause | null } | null;
  /** Where the figures come from: absent or 'in-app' (this replica's live stats), or 'prometheus' (`?source=prometheus`). */
  source?: FigureSource;
  /** With source 'prometheus': the Prometheus read and the PromQL of every figure (main/telemetry/prometheus-queries.ts). */
  prometheus?: { url: string; queries: string[] };
  /** True when the counts (requests, successes, count_a/b) are estimates: Prometheus' increase() extrapolates to the range ends. */
  counts_estimated?: boolean;
}

/** `in-app`: this replica's own live stats; `prometheus`: a Prometheus over every replica (`ofa-ve serve --prometheus-url`). */
export type FigureSource = 'in-app' | 'prometheus';

/** One fleet figure read from Prometheus, with the PromQL that produced it (null: no sample, e.g. no traffic). */
export interface PrometheusFigure {
  value: number | null;
  query: string;
}

/** One scrape target of the fleet (`instance` label) as Prometheus sees it over the window. */
export interface FleetReplica {
  job: string;
  instance: string;
  /** Its last scrape succeeded (`up` 1); null when Prometheus has no `up` for it. */
  up: boolean | null;
  qps: number | null;
  p90_ms: number | null;
  /** 5xx / (checks − 4xx), as the availability SLO counts; null without such checks. */
  error_rate: number | null;
  /**
   * Its P90 / the P90 of the replicas up (skew.compared_p90_ms: the set the slowest is picked among;
   * the fleet P90 while every replica is up); 1 = even. Null without latencies, and for a replica down.
   */
  p90_skew: number | null;
  /** The replica with the largest P90 skew, of two or more replicas up, at 1× or more. */
  slowest: boolean;
  /**
   * It is down now (`up` 0), or gone from discovery (`up` null: a deleted pod whose requests are still
   * in the window): its QPS, P90 and error rate are of the requests it answered in the window up to its
   * last successful scrape, not current figures.
   */
  as_of_last_scrape: boolean;
}

/** A line of a fleet chart: `[epoch seconds, value]` points from /api/v1/query_range. */
export interface FleetSeries {
  name: string;
  points: Array<[number, number | null]>;
  query: string;
}

/** `GET /api/v1/fleet?window=5m`: fleet figures from the Prometheus the service was pointed at. */
export interface FleetDocument {
  source: 'prometheus';
  prometheus_url: string;
  /** The window as asked (a Prometheus duration, e.g. 5m) and in seconds. */
  window: string;
  window_s: number;
  /** ISO: the evaluation time of every instant query. */
  generated_at: string;
  /** All requests per second over the window, summed over the replicas. */
  qps: PrometheusFigure;
  /** Quantiles of successful checks' latency, from the bucket rates summed over the replicas (`sum by (le)`). */
  p50_ms: PrometheusFigure;
  p90_ms: PrometheusFigure;
  p99_ms: PrometheusFigure;
  error_rate: PrometheusFigure;
  replicas: FleetReplica[];
  /** The PromQL of the per-replica columns. */
  replica_queries: { qps: string; p90_ms: string; error_rate: string; up: string };
  /**
   * The slowest replica's P90 / the P90 of the replicas up, and which replica that is (null without
   * two replicas up with latencies); compared_p90_ms is that P90 (their bucket rates summed by le),
   * compared_replicas how many replicas up it is of.
   */
  skew: { slowest_instance: string | null; ratio: number | null; compared_p90_ms: number | null; compared_replicas: number };
  /** Chart lines over the window: fleet QPS, P50/P90/P99 (ms), error rate, and QPS per replica. */
  series: { step_s: number; rate_window: string; lines: FleetSeries[] };
}
