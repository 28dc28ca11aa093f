import type { AppEvent, OfaVeApi } from '../../preload/api-contract.ts';
import type * as Wire from '../../preload/wire-types.ts';
import type { BatchHandlers, ConsoleClient, EndpointInfo, ServiceLocation, TimeSpan } from './console-client.ts';
import { HttpConsoleClient } from './http-client.ts';
import { unwrap } from './ipc-client.ts';

/**
 * The desktop app connected to a remote `ofa-ve serve`: checks, stats, the slowest requests and
 * the model over HTTP to the service (the same client as the browser UI, with the token main read
 * from the keychain), and the window's own things over IPC (the native save dialog, the menu).
 * No `auth`: a refused token is fixed in the connection dialog, which keeps it in the keychain.
 */
export class DesktopRemoteClient implements ConsoleClient {
  readonly mode = 'desktop' as const;
  private readonly http: HttpConsoleClient;

  constructor(
    url: string,
    token: string | undefined,
    private readonly api: OfaVeApi,
  ) {
    this.http = new HttpConsoleClient(url, { token, tabStorage: false });
  }

  get location(): ServiceLocation {
    return this.http.location;
  }

  modelInfo(): Promise<Wire.ModelDocument> {
    return this.http.modelInfo();
  }

  endpoint(): Promise<EndpointInfo> {
    return this.http.endpoint();
  }

  check(input: Wire.NamedCheckPair<Blob>, signal?: AbortSignal): Promise<Wire.Outcome<Wire.CheckResult>> {
    return this.http.check(input, signal);
  }

  checkBatch(items: readonly Wire.NamedCheckPair<Blob>[], handlers: BatchHandlers, signal: AbortSignal): Promise<void> {
    return this.http.checkBatch(items, handlers, signal);
  }

  subscribeStats(windowS: number, onStats: (doc: Wire.StatsDocument) => void, onError: (error: Wire.ApiError) => void): () => void {
    return this.http.subscribeStats(windowS, onStats, onError);
  }

  slowest(signal?: AbortSignal): Promise<Wire.SlowRequest[]> {
    return this.http.slowest(signal);
  }

  trace(id: string, format: Wire.TraceFormat): Promise<Wire.TraceDocument> {
    return this.http.trace(id, format);
  }

  slices(windowS: number, attribute: Wire.SliceAttribute, signal?: AbortSignal): Promise<Wire.SlicesSnapshot> {
    return this.http.slices(windowS, attribute, signal);
  }

  marks(): Promise<Wire.Mark[]> {
    return this.http.marks();
  }

  addMark(name: string): Promise<Wire.Mark> {
    return this.http.addMark(name);
  }

  compare(a: TimeSpan, b: TimeSpan, attribute?: Wire.SliceAttribute, source?: Wire.FigureSource): Promise<Wire.PeriodComparison> {
    return this.http.compare(a, b, attribute, source);
  }

  fleet(window: string, signal?: AbortSignal): Promise<Wire.FleetDocument> {
    return this.http.fleet(window, signal);
  }

  async saveFile(suggestedName: string, content: string, mimeType: string): Promise<boolean> {
    return unwrap(await this.api.saveFile({ suggestedName, content, mimeType })).saved;
  }

  readonly onAppEvent = (listener: (event: AppEvent) => void): (() => void) => this.api.onAppEvent(listener);
}
