/**
 * The typed contract between the renderer and the main process: one entry per operation, with
 * its request and response. The preload exposes exactly the OfaVeApi functions (never raw
 * ipcRenderer), and main registers one handler per channel, each checking its sender frame.
 */
import type {
  ApiError,
  CheckResult,
  Mark,
  ModelDocument,
  NamedCheckPair,
  Outcome,
  PeriodComparison,
  SliceAttribute,
  SlicesSnapshot,
  SlowRequest,
  StatsDocument,
  TraceDocument,
  TraceFormat,
} from './wire-types.ts';

export interface EndpointDocument {
  /** http://127.0.0.1:PORT/metrics, or null when the HTTP server could not start. */
  metrics_url: string | null;
  /** Why there is no HTTP endpoint (port taken, ...). */
  error?: string;
  version: string;
}

/** Two periods to compare (epoch ms, each `to` exclusive) and maybe the attribute whose slices to compare. */
export interface CompareRequest {
  a: { from_ms: number; to_ms: number };
  b: { from_ms: number; to_ms: number };
  attribute?: SliceAttribute;
}

export interface SaveFileRequest {
  /** A file name only; main shows a save dialog and writes where the user chooses. */
  suggestedName: string;
  content: string;
  mimeType: string;
}

/**
 * Where the desktop app's checks run: its own model in this process tree, or a remote `ofa-ve
 * serve` the renderer talks to over HTTP (with the token, which main keeps in the OS keychain):
 * https, or http on loopback (an SSH tunnel), since the window's origin is a secure one.
 */
export type ConnectionState =
  | { mode: 'local' }
  | {
      mode: 'remote';
      /** The service's origin (scheme://host[:port]). */
      url: string;
      /** host[:port], for the status bar. */
      host: string;
      /** The bearer token, when the service needs one. */
      token?: string;
      /** Where the token came from: OFA_VE_TOKEN, the keychain, or given for this session only. */
      tokenSource: 'env' | 'keychain' | 'session' | 'none';
    };

export interface ConnectionInfo {
  current: ConnectionState;
  /** Whether tokens can be kept (encrypted by the OS keychain); if not, why. */
  keychain: { available: boolean; reason?: string };
  /** Something the user should know about the last connect (a token that could not be stored). */
  notice?: string;
}

export type ConnectRequest = { mode: 'local' } | { mode: 'remote'; url: string; token?: string };

/** What "Test connection" found at a remote service. */
export interface RemoteServiceInfo {
  url: string;
  host: string;
  /** The app version the service reports (/healthz). */
  version: string;
  model: ModelDocument;
}

/** A check sent over IPC: the pair, and optionally the id (1–64 characters, the page's choice) that check:cancel names it by. */
export interface IpcCheckRequest extends NamedCheckPair {
  readonly checkId?: string;
}

/** Invoke channels: request → response. */
export interface IpcContract {
  'app:endpoint': { request: void; response: Outcome<EndpointDocument> };
  'model:info': { request: void; response: Outcome<ModelDocument> };
  /** Shows a folder dialog and loads the chosen model; null when the user cancelled. */
  'model:choose-directory': { request: void; response: Outcome<ModelDocument | null> };
  /** The image file's bytes, as dropped or picked; its name for error messages. */
  'check:run': { request: IpcCheckRequest; response: Outcome<CheckResult> };
  /** Cancels this window's check sent with `checkId`: dropped if still queued (499), as an aborted fetch is. */
  'check:cancel': { request: { checkId: string }; response: Outcome<{ cancelled: boolean }> };
  'stats:subscribe': { request: { windowS: number }; response: Outcome<{ subscriptionId: string }> };
  'stats:unsubscribe': { request: { subscriptionId: string }; response: Outcome<null> };
  'stats:slowest': { request: void; response: Outcome<SlowRequest[]> };
  'stats:slices': { request: { windowS: number; attribute: SliceAttribute }; response: Outcome<SlicesSnapshot> };
  'stats:marks': { request: void; response: Outcome<Mark[]> };
  /** Sets a mark now (kind 'user'). */
  'stats:add-mark': { request: { name: string }; response: Outcome<Mark> };
  'stats:compare': { request: CompareRequest; response: Outcome<PeriodComparison> };
  /** A recent request's trace, as `GET /api/v1/requests/{id}/trace?format=` answers it (NOT_FOUND once it left the ring). */
  'stats:trace': { request: { id: string; format: TraceFormat }; response: Outcome<TraceDocument> };
  'file:save': { request: SaveFileRequest; response: Outcome<{ saved: boolean }> };
  'connection:get': { request: void; response: Outcome<ConnectionInfo> };
  /** Reaches the service from main (the page's CSP allows only the service it is connected to). An
   *  empty token means the one in the keychain for that service, if any. */
  'connection:test': { request: { url: string; token?: string }; response: Outcome<RemoteServiceInfo> };
  /** Switches local ↔ remote (stopping or starting the local model) and keeps the choice; the page reloads after. */
  'connection:connect': { request: ConnectRequest; response: Outcome<ConnectionInfo> };
}

export type IpcChannel = keyof IpcContract;

/** Events main sends to the renderer (webContents.send), by channel. */
export interface IpcEvents {
  'stats:tick': { subscriptionId: string; stats: StatsDocument };
  /** From the application menu: another model was loaded, or a view was asked for. */
  'app:event': AppEvent;
}

export type AppEvent =
  | { type: 'model-changed'; model: ModelDocument }
  | { type: 'show-view'; view: 'checker' | 'dashboard' }
  /** File > Connection…: open the connection dialog. */
  | { type: 'show-connection' };

/** What `window.ofaVe` offers the renderer. */
export interface OfaVeApi {
  endpoint(): Promise<Outcome<EndpointDocument>>;
  modelInfo(): Promise<Outcome<ModelDocument>>;
  chooseModelDirectory(): Promise<Outcome<ModelDocument | null>>;
  check(request: IpcCheckRequest): Promise<Outcome<CheckResult>>;
  cancelCheck(checkId: string): Promise<Outcome<{ cancelled: boolean }>>;
  /** Calls `onStats` once a second; returns the unsubscribe function. */
  subscribeStats(windowS: number, onStats: (stats: StatsDocument) => void, onError: (error: ApiError) => void): () => void;
  slowest(): Promise<Outcome<SlowRequest[]>>;
  slices(windowS: number, attribute: SliceAttribute): Promise<Outcome<SlicesSnapshot>>;
  marks(): Promise<Outcome<Mark[]>>;
  addMark(name: string): Promise<Outcome<Mark>>;
  compare(request: CompareRequest): Promise<Outcome<PeriodComparison>>;
  trace(id: string, format: TraceFormat): Promise<Outcome<TraceDocument>>;
  saveFile(request: SaveFileRequest): Promise<Outcome<{ saved: boolean }>>;
  /** Local model or remote service, and whether tokens can be kept in the keychain. */
  connection(): Promise<Outcome<ConnectionInfo>>;
  testConnection(request: { url: string; token?: string }): Promise<Outcome<RemoteServiceInfo>>;
  connect(request: ConnectRequest): Promise<Outcome<ConnectionInfo>>;
  /** Menu-driven events from main; returns the unsubscribe function. */
  onAppEvent(listener: (event: AppEvent) => void): () => void;
}
