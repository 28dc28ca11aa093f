import type { AppEvent } from '../../preload/api-contract.ts';
import type { ApiError, CheckResult, ModelDocument, SlowRequest, StatsDocument } from '../../preload/wire-types.ts';

/** One image/caption pair to check. `image` is the dropped or picked file (or any Blob). */
export interface CheckInput {
  name: string;
  image: Blob;
  text: string;
  premise?: string;
}

export type CheckOutcome = { ok: true; result: CheckResult } | { ok: false; error: ApiError };

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
  onResult(index: number, outcome: CheckOutcome): void;
  onProgress(progress: BatchProgress): void;
}

/** Where the app's HTTP endpoint is: the /metrics URL for the status bar, or why there is none. */
export interface EndpointInfo {
  metrics_url: string | null;
  error?: string;
  version: string;
}

/** An error from the app, with the stable code the UI shows. */
export class ClientError extends Error implements ApiError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/**
 * What the React app needs from the service, implemented over IPC (desktop: window.ofaVe) and over
 * HTTP + server-sent events (browser against `ofa-ve serve`). Components only see this interface,
 * so both modes have the same features.
 */
export interface ConsoleClient {
  readonly mode: 'desktop' | 'browser';
  modelInfo(): Promise<ModelDocument>;
  endpoint(): Promise<EndpointInfo>;
  check(input: CheckInput, signal?: AbortSignal): Promise<CheckOutcome>;
  /** Resolves when every item has finished or the signal aborted (items not started are dropped). */
  checkBatch(items: readonly CheckInput[], handlers: BatchHandlers, signal: AbortSignal): Promise<void>;
  /** A stats document now and then once a second; returns the unsubscribe function. */
  subscribeStats(windowS: number, onStats: (doc: StatsDocument) => void, onError: (error: ApiError) => void): () => void;
  slowest(): Promise<SlowRequest[]>;
  /** Saves a file the user asked for (export); resolves false when the user cancelled. */
  saveFile(suggestedName: string, content: string, mimeType: string): Promise<boolean>;
  /** Desktop only: lets the user pick another model directory and loads it. */
  readonly chooseModelDirectory?: () => Promise<ModelDocument>;
  /** Desktop only: events from the application menu (model changed, show a view). */
  readonly onAppEvent?: (listener: (event: AppEvent) => void) => () => void;
}
