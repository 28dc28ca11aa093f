/**
 * The typed contract between the renderer and the main process: one entry per operation, with
 * its request and response. The preload exposes exactly these functions (never raw ipcRenderer),
 * and main registers one handler per channel.
 */
export type Label = 'YES' | 'NO' | 'MAYBE';

export interface ModelSummary {
  name: string;
  version: string;
  demo: boolean;
  provider: 'cuda' | 'cpu';
  imageSize: number;
}

export interface CheckRequest {
  /** The image file's bytes, as dropped or picked. */
  image: Uint8Array;
  text: string;
  premise?: string;
}

export interface CheckResponse {
  label: Label;
  score: number;
  scores: Record<Label, number>;
  stages: Record<string, number>;
  latency_ms: number;
}

export interface ApiError {
  code: string;
  message: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export interface IpcContract {
  'model:info': { request: void; response: Outcome<ModelSummary> };
  'check:run': { request: CheckRequest; response: Outcome<CheckResponse> };
}

export type IpcChannel = keyof IpcContract;

/** What `window.ofaVe` offers the renderer. */
export interface OfaVeApi {
  modelInfo(): Promise<Outcome<ModelSummary>>;
  check(request: CheckRequest): Promise<Outcome<CheckResponse>>;
}
