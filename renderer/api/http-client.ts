import type * as Wire from '../../preload/wire-types.ts';
import { CONSOLE_BATCH, runBatch } from './batch-runner.ts';
import {
  ClientError,
  SERVICE_UNAVAILABLE,
  serviceError,
  UNAUTHORIZED,
  type BatchHandlers,
  type ConsoleClient,
  type EndpointInfo,
  type ServiceLocation,
  type TimeSpan,
  type TokenAuth,
} from './console-client.ts';
import { readEvents } from './sse-reader.ts';
import { CONNECT_PARAM, parseServiceUrl } from '../../preload/service-url.ts';
import { abortableSleep } from './abortable-sleep.ts';

/** The token of the service that served the page; another service's has its own key (tokenKey). */
const TOKEN_KEY = 'ofa-ve-token';
/** Reconnect delays of the stats stream: from 1 s, doubling after each failure, at most 10 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;
/** The service sends a stats event every second; this long without one means the stream is dead. */
const STREAM_SILENCE_MS = 5000;

/** The page's origin, or undefined outside a browser (tests under Node). */
function pageOrigin(): string | undefined {
  return typeof location === 'undefined' ? undefined : location.origin;
}

/** The sessionStorage key of a service's token: one per service, so no token is ever sent to another. */
export function tokenKey(serviceOrigin: string, page: string | undefined = pageOrigin()): string {
  return serviceOrigin === page ? TOKEN_KEY : `${TOKEN_KEY}@${serviceOrigin}`;
}

/**
 * The token of a protected instance: given once as ?token=… in the page URL, then kept in
 * sessionStorage (not localStorage: it goes when the tab does) and removed from the address bar.
 * ?token= belongs to the service the page talks to: the one named by ?connect=, else its own.
 */
function takeToken(serviceOrigin: string): string | undefined {
  if (typeof location === 'undefined' || typeof sessionStorage === 'undefined') return undefined;
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  const connect = parseServiceUrl(url.searchParams.get(CONNECT_PARAM) ?? '');
  const target = connect.ok ? connect.origin : location.origin;
  if (fromUrl && target === serviceOrigin) {
    sessionStorage.setItem(tokenKey(serviceOrigin), fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.toString());
  }
  return sessionStorage.getItem(tokenKey(serviceOrigin)) ?? undefined;
}

function keepToken(serviceOrigin: string, token: string): void {
  if (typeof sessionStorage !== 'undefined') sessionStorage.setItem(tokenKey(serviceOrigin), token);
}

/**
 * fetch itself failed: connection refused or reset, DNS, offline. The service is not there, or
 * (for a service of another origin) it does not let this page call it: the browser hides which.
 */
export function unreachable(err: unknown, crossOrigin?: { page: string }): Wire.ApiError {
  const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
  const hint = crossOrigin ? `; if it is running, it must allow this page: ofa-ve serve --token … --cors-origin ${crossOrigin.page}` : '';
  return { code: SERVICE_UNAVAILABLE, message: `service unavailable: cannot reach it (${why})${hint}` };
}

/** What a 401 means to the person at the keyboard: no token yet, or the one they gave was refused. */
function unauthorized(tokenSent: boolean): Wire.ApiError {
  return {
    code: UNAUTHORIZED,
    message: tokenSent ? 'the access token was refused' : 'this service needs an access token (ofa-ve serve --token)',
  };
}

/**
 * The error a failed check (or request) reports, from its status and JSON body. NOT_READY from a
 * service whose model this client has seen loaded means the service is stopping or restarting, not
 * that the model is missing; a gateway error without the service's JSON (a proxy in front) means
 * it is unreachable. Both are SERVICE_UNAVAILABLE so the checker says so on the rows in flight.
 */
export function failureOf(
  status: number,
  statusText: string,
  body: { error?: Wire.ApiError } | undefined,
  context: { modelSeenReady: boolean; tokenSent: boolean },
): Wire.ApiError {
  const error = body?.error;
  if (status === 401) return unauthorized(context.tokenSent);
  const gone = error && serviceError(error, context.modelSeenReady);
  if (gone && gone !== error) return gone;
  if (!error && (status === 502 || status === 503 || status === 504)) {
    return { code: SERVICE_UNAVAILABLE, message: `service unavailable: the server answered ${status} ${statusText}`.trim() };
  }
  return error ?? { code: `HTTP_${status}`, message: `the service answered ${status} ${statusText}`.trim() };
}

/** The query of `GET /api/v1/compare` for two spans (epoch ms in plain digits, as the service wants them). */
export function compareQuery(a: TimeSpan, b: TimeSpan, attribute?: Wire.SliceAttribute, source?: Wire.FigureSource): string {
  const query = new URLSearchParams({
    a_from: Math.round(a.from_ms).toFixed(0),
    a_to: Math.round(a.to_ms).toFixed(0),
    b_from: Math.round(b.from_ms).toFixed(0),
    b_to: Math.round(b.to_ms).toFixed(0),
  });
  if (attribute) query.set('attribute', attribute);
  if (source === 'prometheus') query.set('source', source);
  return query.toString();
}

export interface HttpClientOptions {
  /** The token to send; without it, the one kept for this service in the tab (or ?token=). */
  token?: string;
  /** Keep the token in sessionStorage and read ?token= (default true; the desktop app keeps it in main). */
  tabStorage?: boolean;
}

/**
 * The ConsoleClient over `ofa-ve serve`'s HTTP API and server-sent events: the browser UI against
 * the service that served it or another one (`?connect=`), and the desktop app in remote mode.
 */
export class HttpConsoleClient implements ConsoleClient {
  readonly mode = 'browser' as const;
  readonly location: ServiceLocation;
  private token: string | undefined;
  private readonly origin: string;
  private readonly tabStorage: boolean;
  /** Set once the model answered ready: a later NOT_READY then means the service is restarting. */
  private modelSeenReady = false;

  readonly auth: TokenAuth = {
    hasToken: () => this.token !== undefined,
    signIn: (token: string) => {
      this.token = token.trim() || undefined;
      if (this.token && this.tabStorage) keepToken(this.origin, this.token);
    },
  };

  constructor(
    private readonly baseUrl: string,
    options: HttpClientOptions = {},
  ) {
    const url = new URL(baseUrl);
    this.origin = url.origin;
    this.tabStorage = options.tabStorage ?? true;
    this.token = options.token ?? (this.tabStorage ? takeToken(this.origin) : undefined);
    this.location = { kind: 'http', origin: url.origin, host: url.host, sameOrigin: url.origin === pageOrigin() };
  }

  /** fetch failed: see unreachable(). */
  private unreachable(err: unknown): Wire.ApiError {
    const page = pageOrigin();
    return unreachable(err, page && page !== this.origin ? { page } : undefined);
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private failure(res: Response, body: { error?: Wire.ApiError } | undefined): Wire.ApiError {
    return failureOf(res.status, res.statusText, body, { modelSeenReady: this.modelSeenReady, tokenSent: this.token !== undefined });
  }

  /** GET (or, with `post`, POST a JSON body) and the JSON answer; a failure throws a ClientError. */
  private async getJson<T>(path: string, signal?: AbortSignal, post?: unknown): Promise<T> {
    let res: Response;
    try {
      const init: RequestInit =
        post === undefined
          ? { headers: this.headers(), signal }
          : { method: 'POST', headers: { ...this.headers(), 'content-type': 'application/json' }, body: JSON.stringify(post), signal };
      res = await fetch(`${this.baseUrl}${path}`, init);
    } catch (err) {
      // The caller gave up (a superseded poll): its AbortError as it is, not "service unavailable".
      if (signal?.aborted) throw err;
      const e = this.unreachable(err);
      throw new ClientError(e.code, e.message);
    }
    const body = (await res.json().catch(() => undefined)) as (T & { error?: Wire.ApiError }) | undefined;
    // The same while the answer was being read (the body read fails, the fetch is cancelled).
    signal?.throwIfAborted();
    if (!res.ok || body === undefined) {
      const e = this.failure(res, body);
      throw new ClientError(e.code, e.message);
    }
    return body;
  }

  async modelInfo(): Promise<Wire.ModelDocument> {
    const doc = await this.getJson<Wire.ModelDocument>('/api/v1/model');
    if (doc.ready) this.modelSeenReady = true;
    return doc;
  }

  async endpoint(): Promise<EndpointInfo> {
    const health = await this.getJson<{ version?: string }>('/healthz');
    return { metrics_url: `${this.baseUrl}/metrics`, version: health.version ?? '' };
  }

  check(input: Wire.NamedCheckPair<Blob>, signal?: AbortSignal): Promise<Wire.Outcome<Wire.CheckResult>> {
    return this.checkWithRetryAfter(input, signal);
  }

  private async checkWithRetryAfter(
    input: Wire.NamedCheckPair<Blob>,
    signal?: AbortSignal,
  ): Promise<Wire.Outcome<Wire.CheckResult> & { retryAfterS?: number }> {
    const form = new FormData();
    form.append('image', input.image, input.name);
    form.append('text', input.text);
    if (input.premise) form.append('premise', input.premise);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1/check`, { method: 'POST', body: form, headers: this.headers(), signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      return { ok: false, error: this.unreachable(err) };
    }
    let body: (Wire.CheckResult & { error?: Wire.ApiError }) | undefined;
    try {
      body = (await res.json()) as Wire.CheckResult & { error?: Wire.ApiError };
    } catch (err) {
      if (signal?.aborted) throw err;
      // The connection dropped mid-answer (the service died); a body that is not JSON is the proxy's.
      if (res.ok) return { ok: false, error: this.unreachable(err) };
    }
    if (res.ok && body && !body.error) {
      this.modelSeenReady = true;
      return { ok: true, value: body };
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      ok: false,
      error: this.failure(res, body),
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
    };
  }

  checkBatch(items: readonly Wire.NamedCheckPair<Blob>[], handlers: BatchHandlers, signal: AbortSignal): Promise<void> {
    return runBatch(items, (input, s) => this.checkWithRetryAfter(input, s), handlers, signal, CONSOLE_BATCH);
  }

  /**
   * The stats stream, reconnected for as long as the subscription lives: after a stream that ended
   * cleanly (the service closed it) at most once a second, after a failure with a doubling delay.
   * A clean end is not reported (the service may be back at once); failing to reconnect is. A 401
   * stops it: only a new token helps, and the app subscribes again after signing in.
   */
  subscribeStats(windowS: number, onStats: (doc: Wire.StatsDocument) => void, onError: (error: Wire.ApiError) => void): () => void {
    const controller = new AbortController();
    const { signal } = controller;
    const run = async () => {
      let delay = RETRY_MIN_MS;
      while (!signal.aborted) {
        const connectedAt = Date.now();
        const { received, error } = await this.readStatsStream(windowS, onStats, signal);
        if (signal.aborted) return;
        if (received > 0) delay = RETRY_MIN_MS;
        if (error) {
          onError(error);
          if (error.code === UNAUTHORIZED) return;
          await abortableSleep(delay, signal);
          delay = Math.min(delay * 2, RETRY_MAX_MS);
        } else {
          await abortableSleep(RETRY_MIN_MS - (Date.now() - connectedAt), signal);
        }
      }
    };
    void run();
    return () => controller.abort();
  }

  /** One connection to /api/v1/events: how many documents it delivered, and why it stopped if not cleanly. */
  private async readStatsStream(
    windowS: number,
    onStats: (doc: Wire.StatsDocument) => void,
    signal: AbortSignal,
  ): Promise<{ received: number; error?: Wire.ApiError }> {
    const connection = new AbortController();
    const abort = () => connection.abort();
    signal.addEventListener('abort', abort, { once: true });
    let silent = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        silent = true;
        connection.abort();
      }, STREAM_SILENCE_MS);
    };
    let received = 0;
    try {
      arm();
      const res = await fetch(`${this.baseUrl}/api/v1/events?window=${windowS}`, { headers: this.headers(), signal: connection.signal });
      if (!res.ok || !res.body) {
        const body = (await res.json().catch(() => undefined)) as { error?: Wire.ApiError } | undefined;
        return { received, error: this.failure(res, body) };
      }
      await readEvents(res.body, (event, data) => {
        if (event !== 'stats') return;
        arm();
        received += 1;
        onStats(JSON.parse(data) as Wire.StatsDocument);
      });
      if (received === 0)
        return { received, error: { code: SERVICE_UNAVAILABLE, message: 'service unavailable: the stats stream closed at once' } };
      return { received };
    } catch (err) {
      if (silent)
        return {
          received,
          error: { code: SERVICE_UNAVAILABLE, message: `service unavailable: no stats for ${STREAM_SILENCE_MS / 1000} s` },
        };
      return { received, error: this.unreachable(err) };
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', abort);
    }
  }

  async slowest(signal?: AbortSignal): Promise<Wire.SlowRequest[]> {
    return (await this.getJson<{ requests: Wire.SlowRequest[] }>('/api/v1/requests/slowest', signal)).requests;
  }

  trace(id: string, format: Wire.TraceFormat): Promise<Wire.TraceDocument> {
    return this.getJson<Wire.TraceDocument>(`/api/v1/requests/${encodeURIComponent(id)}/trace?${new URLSearchParams({ format })}`);
  }

  slices(windowS: number, attribute: Wire.SliceAttribute, signal?: AbortSignal): Promise<Wire.SlicesSnapshot> {
    const query = new URLSearchParams({ window: String(windowS), attribute });
    return this.getJson<Wire.SlicesSnapshot>(`/api/v1/slices?${query}`, signal);
  }

  async marks(): Promise<Wire.Mark[]> {
    return (await this.getJson<{ marks: Wire.Mark[] }>('/api/v1/marks')).marks;
  }

  addMark(name: string): Promise<Wire.Mark> {
    return this.getJson<Wire.Mark>('/api/v1/marks', undefined, { name });
  }

  compare(a: TimeSpan, b: TimeSpan, attribute?: Wire.SliceAttribute, source?: Wire.FigureSource): Promise<Wire.PeriodComparison> {
    return this.getJson<Wire.PeriodComparison>(`/api/v1/compare?${compareQuery(a, b, attribute, source)}`);
  }

  fleet(window: string, signal?: AbortSignal): Promise<Wire.FleetDocument> {
    return this.getJson<Wire.FleetDocument>(`/api/v1/fleet?${new URLSearchParams({ window })}`, signal);
  }

  async saveFile(suggestedName: string, content: string, mimeType: string): Promise<boolean> {
    const url = URL.createObjectURL(new Blob([content], { type: mimeType }));
    try {
      const a = document.createElement('a');
      a.href = url;
      a.download = suggestedName;
      a.rel = 'noopener';
      document.body.append(a);
      a.click();
      a.remove();
    } finally {
      // Revoke after the click has been handled; the download keeps its own reference.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
    return true;
  }
}
