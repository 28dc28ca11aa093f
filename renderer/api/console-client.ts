import type { AppEvent } from '../../preload/api-contract.ts';
import { CONNECTION_ERROR_CODES } from '../../preload/wire-types.ts';
import type * as Wire from '../../preload/wire-types.ts';

/** A span of time to compare: epoch ms, `to_ms` exclusive. */
export interface TimeSpan {
  from_ms: number;
  to_ms: number;
}

export interface BatchProgress {
  done: number;
  total: number;
  failed: number;
  /** Checks per second since the batch started. */
  rate: number;
  /** Estimated seconds left; null until the first result. */
  eta_s: number | null;
}

export interface BatchHandlers {
  /** Called once per item, as soon as it finishes, in completion order. */
  onResult(index: number, outcome: Wire.Outcome<Wire.CheckResult>): void;
  onProgress(progress: BatchProgress): void;
}

/** Where the app's HTTP endpoint is: the /metrics URL for the status bar, or why there is none. */
export interface EndpointInfo {
  metrics_url: string | null;
  error?: string;
  version: string;
}

/**
 * The client's own code for a check or stream that failed because the service is gone: stopped,
 * restarting or unreachable (connection refused, network error, a proxy's 502, or NOT_READY from a
 * service whose model this client saw loaded). The checker shows it as "service unavailable".
 */
export const SERVICE_UNAVAILABLE = CONNECTION_ERROR_CODES.SERVICE_UNAVAILABLE;

/**
 * A service's error as this client reports it: NOT_READY from a service whose model this client
 * has seen loaded means the service is stopping or restarting, not that the model is missing, so
 * it is SERVICE_UNAVAILABLE (the checker says so on the rows in flight, and a batch stops sending).
 * Every client (HTTP and IPC) decides this here.
 */
export function serviceError(error: Wire.ApiError, modelSeenReady: boolean): Wire.ApiError {
  if (error.code === 'NOT_READY' && modelSeenReady) {
    return { code: SERVICE_UNAVAILABLE, message: `service unavailable: ${error.message} (restarting?)` };
  }
  return error;
}

/**
 * A SERVICE_UNAVAILABLE message without its leading "service unavailable:", for a place that
 * already says those words (a row's bold label, the app's banner): said once.
 */
export function unavailableReason(message: string): string {
  return message.replace(/^service unavailable:\s*/i, '');
}

/** The server's code for a missing or wrong bearer token (main/errors.ts). */
export const UNAUTHORIZED = 'UNAUTHORIZED';

/** The server's code for a trace that is not (or no longer) in the service's ring of recent requests (main/errors.ts). */
export const NOT_FOUND = 'NOT_FOUND';

/** The server's code for fleet figures asked of a service without `--prometheus-url` (main/errors.ts). */
export const PROMETHEUS_NOT_CONFIGURED = 'PROMETHEUS_NOT_CONFIGURED';

/** The access token of a protected `ofa-ve serve --token` instance (browser mode only). */
export interface TokenAuth {
  /** Whether a token is being sent (so a 401 means it was refused, not missing). */
  hasToken(): boolean;
  /** Sends this token from now on and keeps it for the tab (sessionStorage). */
  signIn(token: string): void;
}

/**
 * Where checks run, for the status bar: the desktop app's own model (IPC), or an `ofa-ve serve`
 * over HTTP, the one that served the page (`sameOrigin`) or another one the console connected to.
 */
export type ServiceLocation = { kind: 'local' } | { kind: 'http'; origin: string; host: string; sameOrigin: boolean };

/** An error from the app, with the stable code the UI shows. */
export class ClientError extends Error implements Wire.ApiError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** Whatever a call threw, as the `{code, message}` the UI shows (CLIENT_ERROR when it carries no code). */
export function toApiError(err: unknown): Wire.ApiError {
  if (typeof err === 'object' && err !== null && 'code' in err && 'message' in err) {
    const { code, message } = err as { code: unknown; message: unknown };
    if (typeof code === 'string' && typeof message === 'string') return { code, message };
  }
  return { code: 'CLIENT_ERROR', message: err instanceof Error ? err.message : String(err) };
}

/**
 * What the React app needs from the service, implemented over IPC (desktop: window.ofaVe) and over
 * HTTP + server-sent events (browser against `ofa-ve serve`). Components only see this interface,
 * so both modes have the same features.
 */
export interface ConsoleClient {
  readonly mode: 'desktop' | 'browser';
  readonly location: ServiceLocation;
  modelInfo(): Promise<Wire.ModelDocument>;
  endpoint(): Promise<EndpointInfo>;
  check(input: Wire.NamedCheckPair<Blob>, signal?: AbortSignal): Promise<Wire.Outcome<Wire.CheckResult>>;
  /** Resolves when every item has finished or the signal aborted (items not started are dropped). */
  checkBatch(items: readonly Wire.NamedCheckPair<Blob>[], handlers: BatchHandlers, signal: AbortSignal): Promise<void>;
  /**
   * A stats document now and then once a second; returns the unsubscribe function. Reconnects by
   * itself (with backoff) after errors, which it reports through onError until a document comes again.
   */
  subscribeStats(windowS: number, onStats: (doc: Wire.StatsDocument) => void, onError: (error: Wire.ApiError) => void): () => void;
  /**
   * The polled reads (slowest, slices, fleet) take the poll's AbortSignal (renderer/api/poll-loop.ts):
   * once it aborts the call rejects at once, as fetch does, with the signal's reason (an AbortError),
   * never as a ClientError; over HTTP the request is cancelled, over IPC the answer is dropped.
   */
  slowest(signal?: AbortSignal): Promise<Wire.SlowRequest[]>;
  /**
   * A recent request's trace as the service builds it (`GET /api/v1/requests/{id}/trace`), with
   * onnxruntime's operator events where profiling sampled its batch; NOT_FOUND once it left the ring.
   */
  trace(id: string, format: Wire.TraceFormat): Promise<Wire.TraceDocument>;
  /** Per-slice figures of one input attribute over the last `windowS` seconds. */
  slices(windowS: number, attribute: Wire.SliceAttribute, signal?: AbortSignal): Promise<Wire.SlicesSnapshot>;
  /** The marks on the timeline, oldest first. */
  marks(): Promise<Wire.Mark[]>;
  /** Sets a mark now; resolves with the mark as kept. */
  addMark(name: string): Promise<Wire.Mark>;
  /**
   * Period b against period a (differences b − a), per stage and, with `attribute`, per slice; from
   * this replica's live stats, or with `source` 'prometheus' from the service's Prometheus (no slices).
   */
  compare(a: TimeSpan, b: TimeSpan, attribute?: Wire.SliceAttribute, source?: Wire.FigureSource): Promise<Wire.PeriodComparison>;
  /** Fleet figures over `window` (a Prometheus duration: 5m) from the service's Prometheus (`--prometheus-url`). */
  fleet(window: string, signal?: AbortSignal): Promise<Wire.FleetDocument>;
  /** Saves a file the user asked for (export); resolves false when the user cancelled. */
  saveFile(suggestedName: string, content: string, mimeType: string): Promise<boolean>;
  /** Desktop only: lets the user pick another model directory and loads it. */
  readonly chooseModelDirectory?: () => Promise<Wire.ModelDocument>;
  /** Browser only: the token a protected instance needs (the sign-in prompt sets it). */
  readonly auth?: TokenAuth;
  /** Desktop only: events from the application menu (model changed, show a view). */
  readonly onAppEvent?: (listener: (event: AppEvent) => void) => () => void;
}
