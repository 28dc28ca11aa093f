import type { ApiError, CheckResult, ModelDocument, SlowRequest, StatsDocument } from '../../preload/wire-types.ts';
import { runBatch } from './batch-runner.ts';
import {
  ClientError,
  type BatchHandlers,
  type CheckInput,
  type CheckOutcome,
  type ConsoleClient,
  type EndpointInfo,
} from './console-client.ts';
import { readEvents } from './sse-reader.ts';

const TOKEN_KEY = 'ofa-ve-token';
const RECONNECT_MS = 2000;
/** Requests a browser batch keeps in flight: enough to fill the service's dynamic batches. */
const BATCH_CONCURRENCY = 4;

/**
 * The token of a protected instance: given once as ?token=… in the page URL, then kept in
 * sessionStorage (not localStorage: it goes when the tab does) and removed from the address bar.
 */
function takeToken(): string | undefined {
  if (typeof location === 'undefined' || typeof sessionStorage === 'undefined') return undefined;
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.toString());
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

function networkError(err: unknown): ApiError {
  return { code: 'NETWORK', message: `cannot reach the service: ${err instanceof Error ? err.message : String(err)}` };
}

/** Browser mode: the ConsoleClient over `ofa-ve serve`'s HTTP API and server-sent events. */
export class HttpConsoleClient implements ConsoleClient {
  readonly mode = 'browser' as const;
  private readonly token: string | undefined;

  constructor(
    private readonly baseUrl: string,
    options: { token?: string } = {},
  ) {
    this.token = options.token ?? takeToken();
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { headers: this.headers(), signal });
    } catch (err) {
      const e = networkError(err);
      throw new ClientError(e.code, e.message);
    }
    const body = (await res.json().catch(() => ({}))) as T & { error?: ApiError };
    if (!res.ok) {
      throw new ClientError(body.error?.code ?? `HTTP_${res.status}`, body.error?.message ?? `${path} answered ${res.status}`);
    }
    return body;
  }

  modelInfo(): Promise<ModelDocument> {
    return this.getJson<ModelDocument>('/api/v1/model');
  }

  async endpoint(): Promise<EndpointInfo> {
    const health = await this.getJson<{ version?: string }>('/healthz');
    return { metrics_url: `${this.baseUrl}/metrics`, version: health.version ?? '' };
  }

  check(input: CheckInput, signal?: AbortSignal): Promise<CheckOutcome> {
    return this.checkWithRetryAfter(input, signal);
  }

  private async checkWithRetryAfter(input: CheckInput, signal?: AbortSignal): Promise<CheckOutcome & { retryAfterS?: number }> {
    const form = new FormData();
    form.append('image', input.image, input.name);
    form.append('text', input.text);
    if (input.premise) form.append('premise', input.premise);
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/api/v1/check`, { method: 'POST', body: form, headers: this.headers(), signal });
    } catch (err) {
      if (signal?.aborted) throw err;
      return { ok: false, error: networkError(err) };
    }
    const body = (await res.json().catch(() => undefined)) as (CheckResult & { error?: ApiError }) | undefined;
    if (res.ok && body && !body.error) return { ok: true, result: body };
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      ok: false,
      error: body?.error ?? { code: `HTTP_${res.status}`, message: `the service answered ${res.status} ${res.statusText}` },
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterS: retryAfter } : {}),
    };
  }

  checkBatch(items: readonly CheckInput[], handlers: BatchHandlers, signal: AbortSignal): Promise<void> {
    return runBatch(items, (input, s) => this.checkWithRetryAfter(input, s), handlers, signal, {
      concurrency: BATCH_CONCURRENCY,
      overloadRetries: 5,
    });
  }

  subscribeStats(windowS: number, onStats: (doc: StatsDocument) => void, onError: (error: ApiError) => void): () => void {
    const controller = new AbortController();
    const connect = async () => {
      while (!controller.signal.aborted) {
        try {
          const res = await fetch(`${this.baseUrl}/api/v1/events?window=${windowS}`, { headers: this.headers(), signal: controller.signal });
          if (!res.ok || !res.body) {
            const body = (await res.json().catch(() => ({}))) as { error?: ApiError };
            onError(body.error ?? { code: `HTTP_${res.status}`, message: `the stats stream answered ${res.status}` });
          } else {
            await readEvents(res.body, (event, data) => {
              if (event === 'stats') onStats(JSON.parse(data) as StatsDocument);
            });
            if (!controller.signal.aborted) onError({ code: 'DISCONNECTED', message: 'the stats stream ended; reconnecting' });
          }
        } catch (err) {
          if (controller.signal.aborted) return;
          onError(networkError(err));
        }
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    };
    void connect();
    return () => controller.abort();
  }

  async slowest(): Promise<SlowRequest[]> {
    return (await this.getJson<{ requests: SlowRequest[] }>('/api/v1/requests/slowest')).requests;
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
