import type { AppEvent, OfaVeApi } from '../../preload/api-contract.ts';
import type * as Wire from '../../preload/wire-types.ts';
import { CONSOLE_BATCH, runBatch } from './batch-runner.ts';
import {
  ClientError,
  PROMETHEUS_NOT_CONFIGURED,
  serviceError,
  type BatchHandlers,
  type ConsoleClient,
  type EndpointInfo,
  type ServiceLocation,
  type TimeSpan,
} from './console-client.ts';

export function unwrap<T>(outcome: Wire.Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw new ClientError(outcome.error.code, outcome.error.message);
}

/**
 * An IPC call's answer, or the signal's reason (an AbortError, as fetch rejects) as soon as it
 * aborts: the renderer stops waiting and drops the answer when it comes (a check is also cancelled
 * in main, by check:cancel; other calls run to their end there). Nothing is sent when the signal
 * has already aborted.
 */
export function untilAborted<T>(send: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return send();
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    send()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * An OVERLOADED answer over IPC carries no Retry-After header: wait what the service asks over
 * HTTP (RETRY_AFTER_SECONDS in main/service/check-service.ts).
 */
const OVERLOAD_RETRY_AFTER_S = 1;

/** The ids check:cancel names this window's checks by: unique within the page, which is all main asks. */
let checksSent = 0;
const nextCheckId = (): string => `check-${++checksSent}`;

/**
 * The desktop app's own model is one process with no Prometheus (its model document never names
 * one, so the dashboard does not ask): fleet figures come from `ofa-ve serve --prometheus-url`.
 */
function noPrometheus(): ClientError {
  return new ClientError(
    PROMETHEUS_NOT_CONFIGURED,
    'fleet figures need a service started with ofa-ve serve --prometheus-url; connect the console to it (File > Connection…)',
  );
}

/** Desktop mode: the ConsoleClient over the preload's typed API (IPC to the main process). */
export class IpcConsoleClient implements ConsoleClient {
  readonly mode = 'desktop' as const;
  readonly location: ServiceLocation = { kind: 'local' };
  /** Whether this window has seen the model loaded (a model document saying ready, or a check answered). */
  private modelSeenReady = false;

  /** `api` is public for the connection dialog (renderer/connection/), which uses the same preload API. */
  constructor(readonly api: OfaVeApi) {}

  async modelInfo(): Promise<Wire.ModelDocument> {
    const doc = this.unwrap(await this.api.modelInfo());
    if (doc.ready) this.modelSeenReady = true;
    return doc;
  }

  async endpoint(): Promise<EndpointInfo> {
    return this.unwrap(await this.api.endpoint());
  }

  async check(input: Wire.NamedCheckPair<Blob>): Promise<Wire.Outcome<Wire.CheckResult>> {
    const image = new Uint8Array(await input.image.arrayBuffer());
    return this.send(input, image);
  }

  /**
   * The same loop as the browser's (batch-runner.ts), one `check` call over IPC per item. Each
   * image is read when its turn comes, so a large batch is never all in memory at once; a file
   * that cannot be read (removed after it was dropped) fails alone, as a bad image.
   */
  checkBatch(items: readonly Wire.NamedCheckPair<Blob>[], handlers: BatchHandlers, signal: AbortSignal): Promise<void> {
    const checkOne = async (item: Wire.NamedCheckPair<Blob>): Promise<Wire.Outcome<Wire.CheckResult> & { retryAfterS?: number }> => {
      let image: Uint8Array;
      try {
        image = new Uint8Array(await item.image.arrayBuffer());
      } catch (err) {
        return { ok: false, error: { code: 'INVALID_IMAGE', message: `${item.name}: the file could not be read (${String(err)})` } };
      }
      const outcome = await this.send(item, image, signal);
      return outcome.ok ? outcome : { ...outcome, retryAfterS: OVERLOAD_RETRY_AFTER_S };
    };
    return runBatch(items, checkOne, handlers, signal, CONSOLE_BATCH);
  }

  /**
   * One check over IPC. An abort of `signal` rejects at once (as fetch does) and cancels the check in
   * main: dropped if it is still queued, so a removed row or a cancelled batch leaves no work behind.
   */
  private async send(input: Wire.NamedCheckPair<Blob>, image: Uint8Array, signal?: AbortSignal): Promise<Wire.Outcome<Wire.CheckResult>> {
    const checkId = nextCheckId();
    const cancel = () => void this.api.cancelCheck(checkId).catch(() => undefined);
    signal?.addEventListener('abort', cancel, { once: true });
    let outcome: Wire.Outcome<Wire.CheckResult>;
    try {
      // The IPC answer is the same Outcome the console uses, its error as the HTTP client would report it.
      outcome = await untilAborted(
        () => this.api.check({ image, name: input.name, text: input.text, premise: input.premise, checkId }),
        signal,
      );
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
    if (outcome.ok) {
      this.modelSeenReady = true;
      return outcome;
    }
    return { ok: false, error: serviceError(outcome.error, this.modelSeenReady) };
  }

  /** unwrap(), with the error as serviceError() reports it. */
  private unwrap<T>(outcome: Wire.Outcome<T>): T {
    return unwrap(outcome.ok ? outcome : { ok: false, error: serviceError(outcome.error, this.modelSeenReady) });
  }

  subscribeStats(windowS: number, onStats: (doc: Wire.StatsDocument) => void, onError: (error: Wire.ApiError) => void): () => void {
    return this.api.subscribeStats(windowS, onStats, onError);
  }

  async slowest(signal?: AbortSignal): Promise<Wire.SlowRequest[]> {
    return this.unwrap(await untilAborted(() => this.api.slowest(), signal));
  }

  async trace(id: string, format: Wire.TraceFormat): Promise<Wire.TraceDocument> {
    return this.unwrap(await this.api.trace(id, format));
  }

  async slices(windowS: number, attribute: Wire.SliceAttribute, signal?: AbortSignal): Promise<Wire.SlicesSnapshot> {
    return this.unwrap(await untilAborted(() => this.api.slices(windowS, attribute), signal));
  }

  async marks(): Promise<Wire.Mark[]> {
    return this.unwrap(await this.api.marks());
  }

  async addMark(name: string): Promise<Wire.Mark> {
    return this.unwrap(await this.api.addMark(name));
  }

  async compare(a: TimeSpan, b: TimeSpan, attribute?: Wire.SliceAttribute, source?: Wire.FigureSource): Promise<Wire.PeriodComparison> {
    if (source === 'prometheus') throw noPrometheus();
    return this.unwrap(await this.api.compare({ a, b, ...(attribute ? { attribute } : {}) }));
  }

  async fleet(): Promise<Wire.FleetDocument> {
    throw noPrometheus();
  }

  async saveFile(suggestedName: string, content: string, mimeType: string): Promise<boolean> {
    return this.unwrap(await this.api.saveFile({ suggestedName, content, mimeType })).saved;
  }

  readonly onAppEvent = (listener: (event: AppEvent) => void): (() => void) => this.api.onAppEvent(listener);

  readonly chooseModelDirectory = async (): Promise<Wire.ModelDocument> => {
    const doc = this.unwrap(await this.api.chooseModelDirectory());
    if (doc?.ready) this.modelSeenReady = true;
    return doc ?? this.modelInfo();
  };
}
