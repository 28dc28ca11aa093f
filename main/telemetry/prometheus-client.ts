/**
 * A small client of Prometheus' HTTP query API (/api/v1/query and /api/v1/query_range, and the scrape
 * intervals of /api/v1/targets), for the fleet
 * figures and the Prometheus comparison of `ofa-ve serve --prometheus-url`. Every failure (no
 * answer in time, refused connection, an HTTP error, an answer that is not Prometheus') is a
 * CheckError PROMETHEUS_UNAVAILABLE naming the URL and why; the service itself keeps serving.
 */
import { CheckError } from '../errors.ts';

/** How long one query may take: a dashboard refresh must not hang on a slow Prometheus. */
export const DEFAULT_PROMETHEUS_TIMEOUT_MS = 5000;

/** One series of an instant query: its labels and value (NaN and ±Inf as Prometheus writes them). */
export interface PromSample {
  labels: Record<string, string>;
  value: number;
}

/** One series of a range query. */
export interface PromSeries {
  labels: Record<string, string>;
  points: Array<[number, number]>;
}

/** One active scrape target (/api/v1/targets): its labels (job, instance) and how often it is scraped. */
export interface PromTarget {
  labels: Record<string, string>;
  /** Seconds between scrapes; null when this Prometheus does not say. */
  scrapeIntervalS: number | null;
}

interface ApiAnswer {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown; activeTargets?: unknown };
}

const DURATION_UNITS_S: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };

/** A Prometheus duration ("15s", "1m30s", "500ms") in seconds; null when it is not one. */
export function parsePromDuration(raw: unknown): number | null {
  if (typeof raw !== 'string' || !/^(\d+(ms|s|m|h|d|w|y))+$/.test(raw)) return null;
  let total = 0;
  for (const [, n, unit] of raw.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(n) * DURATION_UNITS_S[unit!]!;
  return total > 0 ? total : null;
}

/** `--prometheus-url`: an http(s) URL without query or credentials; the base the API paths go under (a path prefix is kept). */
export function parsePrometheusUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError(`--prometheus-url must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError('--prometheus-url must start with http:// or https://');
  if (url.username || url.password) throw new RangeError('--prometheus-url must not carry credentials');
  if (url.search || url.hash) throw new RangeError('--prometheus-url must not have a query or fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

const sampleValue = (raw: unknown): number => Number(raw); // "NaN", "+Inf" and "-Inf" parse as such

/** The failures where no answer came (refused connection, timeout): as opposed to Prometheus refusing one call. */
const NO_ANSWER = new WeakSet<CheckError>();

/** The call got no answer at all (Prometheus down or hung): a next call would fail the same way. */
export function gotNoAnswer(err: unknown): boolean {
  return err instanceof CheckError && NO_ANSWER.has(err);
}

const noAnswer = (err: CheckError): CheckError => (NO_ANSWER.add(err), err);

export class PrometheusClient {
  constructor(
    /** As parsePrometheusUrl returns it: no trailing slash. */
    readonly url: string,
    private readonly timeoutMs = DEFAULT_PROMETHEUS_TIMEOUT_MS,
    /** Cancels every query of this client (cancelledBy). */
    private readonly cancel?: AbortSignal,
  ) {}

  /**
   * This client with its queries also cancelled by `signal`: the HTTP client that asked for them
   * hung up, so Prometheus need not finish them (a query cancelled fails CLIENT_CLOSED_REQUEST).
   */
  cancelledBy(signal: AbortSignal | undefined): PrometheusClient {
    return signal ? new PrometheusClient(this.url, this.timeoutMs, signal) : this;
  }

  /** An instant query at `timeS` (epoch seconds; default: Prometheus' now). */
  async query(expr: string, timeS?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (timeS !== undefined) params.set('time', timeS.toFixed(3));
    const result = await this.result('/api/v1/query', params, 'vector');
    return result.map((r) => {
      const { metric, value } = r as { metric?: Record<string, string>; value?: [number, string] };
      if (!Array.isArray(value)) throw this.badAnswer('a vector sample without a value');
      return { labels: metric ?? {}, value: sampleValue(value[1]) };
    });
  }

  /** A range query from `startS` to `endS` (epoch seconds) every `stepS` seconds. */
  async queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<PromSeries[]> {
    const params = new URLSearchParams({ query: expr, start: startS.toFixed(3), end: endS.toFixed(3), step: String(stepS) });
    const result = await this.result('/api/v1/query_range', params, 'matrix');
    return result.map((r) => {
      const { metric, values } = r as { metric?: Record<string, string>; values?: Array<[number, string]> };
      if (!Array.isArray(values)) throw this.badAnswer('a matrix series without values');
      return { labels: metric ?? {}, points: values.map(([t, v]) => [Number(t), sampleValue(v)] as [number, number]) };
    });
  }

  /**
   * The active scrape targets and their scrape intervals (`scrapeInterval`, or the older
   * `__scrape_interval__` discovered label). Prometheus only: Thanos or Mimir may refuse it.
   */
  async activeTargets(): Promise<PromTarget[]> {
    const data = await this.call('/api/v1/targets', new URLSearchParams({ state: 'active' }), 'GET');
    if (!Array.isArray(data.activeTargets)) throw this.badAnswer('targets without activeTargets');
    return data.activeTargets.map((t) => {
      const { labels, scrapeInterval, discoveredLabels } = (t ?? {}) as {
        labels?: Record<string, string>;
        scrapeInterval?: unknown;
        discoveredLabels?: Record<string, string>;
      };
      return { labels: labels ?? {}, scrapeIntervalS: parsePromDuration(scrapeInterval ?? discoveredLabels?.__scrape_interval__) };
    });
  }

  private badAnswer(why: string): CheckError {
    return new CheckError('PROMETHEUS_UNAVAILABLE', `Prometheus at ${this.url} gave an answer this service cannot read (${why})`);
  }

  /** The caller hung up: not Prometheus' failure, and no one is left to tell. */
  private cancelled(err: unknown): CheckError {
    return new CheckError(
      'CLIENT_CLOSED_REQUEST',
      `the client closed the connection; its queries to Prometheus at ${this.url} were cancelled`,
      {
        cause: err,
      },
    );
  }

  private async result(path: string, params: URLSearchParams, resultType: 'vector' | 'matrix'): Promise<unknown[]> {
    const data = await this.call(path, params, 'POST');
    if (data.resultType !== resultType || !Array.isArray(data.result)) throw this.badAnswer(`expected a ${resultType}`);
    return data.result;
  }

  /** One API call; its `data` once Prometheus said success. */
  private async call(path: string, params: URLSearchParams, method: 'GET' | 'POST'): Promise<NonNullable<ApiAnswer['data']>> {
    if (this.cancel?.aborted) throw this.cancelled(this.cancel.reason);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      // Queries POST a form body: long PromQL does not run into URL length limits (the API takes both).
      res = await fetch(method === 'POST' ? `${this.url}${path}` : `${this.url}${path}?${params}`, {
        method,
        body: method === 'POST' ? params : undefined,
        headers: { accept: 'application/json' },
        signal: this.cancel ? AbortSignal.any([timeout, this.cancel]) : timeout,
      });
    } catch (err) {
      if (this.cancel?.aborted) throw this.cancelled(err);
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw noAnswer(new CheckError('PROMETHEUS_UNAVAILABLE', `cannot reach Prometheus at ${this.url}: ${why}`, { cause: err }));
    }
    let body: ApiAnswer | undefined;
    try {
      body = (await res.json()) as ApiAnswer;
    } catch (err) {
      // The body is read under the same signal: a hang-up while it arrives cancels it too.
      if (this.cancel?.aborted) throw this.cancelled(err);
      if (timeout.aborted) {
        throw noAnswer(
          new CheckError('PROMETHEUS_UNAVAILABLE', `Prometheus at ${this.url} sent no whole answer within ${this.timeoutMs / 1000} s`, {
            cause: err,
          }),
        );
      }
      body = undefined;
    }
    if (!body || typeof body !== 'object') {
      throw new CheckError(
        'PROMETHEUS_UNAVAILABLE',
        `Prometheus at ${this.url} answered ${res.status} ${res.statusText} without its JSON (is it Prometheus?)`.trim(),
      );
    }
    if (body.status !== 'success') {
      const why = body.error ? `${body.errorType ?? 'error'}: ${body.error}` : `${res.status} ${res.statusText}`;
      throw new CheckError('PROMETHEUS_UNAVAILABLE', `Prometheus at ${this.url} refused the query (${why.trim()})`);
    }
    if (!body.data || typeof body.data !== 'object') throw this.badAnswer('no data');
    return body.data;
  }
}
