/**
 * Where the console's checks run and how to change it (the connection dialog): in the desktop app
 * through main (which keeps the token in the OS keychain and starts or stops the local model), in
 * the browser through the page's address (`?connect=ORIGIN`: the service that served the page
 * puts that origin, and only it, in the page's CSP connect-src).
 */
import type { ConnectionInfo, ConnectRequest, OfaVeApi, RemoteServiceInfo } from '../../preload/api-contract.ts';
import { CONNECT_PARAM, parseServiceUrl } from '../../preload/service-url.ts';
import { ClientError, type ConsoleClient } from './console-client.ts';
import { CONNECTION_ERROR_CODES } from '../../preload/wire-types.ts';
import { HttpConsoleClient, tokenKey } from './http-client.ts';
import { IpcConsoleClient, unwrap } from './ipc-client.ts';
import { DesktopRemoteClient } from './remote-desktop-client.ts';

export interface ConnectionSetup {
  /** The client every view uses. */
  client: ConsoleClient;
  /** Where it connects (for the dialog's initial choice). */
  target: { mode: 'local' } | { mode: 'remote'; url: string; host: string };
  /** A remote named by the page's address that this tab has not confirmed yet: ask first. */
  confirm?: { url: string; host: string };
  /** Something to tell the user (a bad ?connect= address, a token the keychain could not keep). */
  notice?: string;
  /** Whether a token can be kept, and where (shown under the token field). */
  tokenStorage: string;
}

export interface ConnectionControl {
  readonly kind: 'desktop' | 'browser';
  /** What "local" is here: the desktop app's own model, or the service that served the page. */
  readonly localLabel: string;
  /** The origin the service must allow (`ofa-ve serve --cors-origin`). */
  readonly pageOrigin: string;
  /** Resolves the client to use, once, at start. */
  setup(): Promise<ConnectionSetup>;
  /** Whether "Test connection" can reach this address from here (the browser: only the one in its CSP). */
  canTest(url: string): boolean;
  /** Reaches the service with this token (empty: the one kept for it) and says what it found. */
  test(url: string, token: string): Promise<RemoteServiceInfo>;
  /** Switches and reloads the page; rejects (ClientError) when the service cannot be used. */
  connect(request: ConnectRequest): Promise<void>;
}

/** The desktop app: main holds the connection (and the token, in the keychain). */
export class DesktopConnectionControl implements ConnectionControl {
  readonly kind = 'desktop' as const;
  readonly localLabel = 'Local model';
  readonly pageOrigin = location.origin;

  constructor(
    private readonly api: OfaVeApi,
    private readonly localClient: ConsoleClient,
  ) {}

  async setup(): Promise<ConnectionSetup> {
    const info: ConnectionInfo = unwrap(await this.api.connection());
    const tokenStorage = info.keychain.available
      ? 'Kept encrypted in the system keychain.'
      : `Not kept: ${info.keychain.reason ?? 'no system keychain'}. It is used until the app quits.`;
    const current = info.current;
    if (current.mode === 'local') return { client: this.localClient, target: { mode: 'local' }, notice: info.notice, tokenStorage };
    return {
      client: new DesktopRemoteClient(current.url, current.token, this.api),
      target: { mode: 'remote', url: current.url, host: current.host },
      notice: info.notice,
      tokenStorage,
    };
  }

  canTest(): boolean {
    return true;
  }

  async test(url: string, token: string): Promise<RemoteServiceInfo> {
    return unwrap(await this.api.testConnection({ url, token }));
  }

  async connect(request: ConnectRequest): Promise<void> {
    unwrap(await this.api.connect(request));
    // The page's CSP names the service it may reach: a new connection needs the page loaded again.
    location.reload();
  }
}

const CONFIRMED_KEY = 'ofa-ve-connect-confirmed';

function confirmedOrigins(): string[] {
  try {
    const list = JSON.parse(sessionStorage.getItem(CONFIRMED_KEY) ?? '[]') as unknown;
    return Array.isArray(list) ? list.filter((o): o is string => typeof o === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The browser UI: the service that served the page, or the one `?connect=` names. A link can name
 * any service, so one this tab has not connected to before is confirmed in the dialog first (a
 * reviewer's images would otherwise go wherever a link pointed); its token is kept for the tab,
 * under that service's own key.
 */
export class BrowserConnectionControl implements ConnectionControl {
  readonly kind = 'browser' as const;
  readonly pageOrigin = location.origin;
  readonly localLabel = `This service (${location.host})`;
  private readonly connectParam = new URL(location.href).searchParams.get(CONNECT_PARAM);

  constructor(private readonly pageClient: ConsoleClient) {}

  async setup(): Promise<ConnectionSetup> {
    const tokenStorage = 'Kept for this tab only.';
    if (this.connectParam === null) return { client: this.pageClient, target: { mode: 'local' }, tokenStorage };
    const parsed = parseServiceUrl(this.connectParam);
    if (!parsed.ok) {
      const notice = `Not connected to ${this.connectParam}: ${parsed.reason}`;
      return { client: this.pageClient, target: { mode: 'local' }, notice, tokenStorage };
    }
    if (parsed.origin === location.origin) return { client: this.pageClient, target: { mode: 'local' }, tokenStorage };
    const target = { mode: 'remote' as const, url: parsed.origin, host: parsed.host };
    const client = new HttpConsoleClient(parsed.origin);
    if (confirmedOrigins().includes(parsed.origin)) return { client, target, tokenStorage };
    return { client, target, confirm: { url: parsed.origin, host: parsed.host }, tokenStorage };
  }

  /** Only the service in the page's CSP (the one ?connect= names) can be reached before a reload. */
  canTest(url: string): boolean {
    const parsed = parseServiceUrl(url);
    const current = parseServiceUrl(this.connectParam ?? '');
    return parsed.ok && current.ok && parsed.origin === current.origin;
  }

  async test(url: string, token: string): Promise<RemoteServiceInfo> {
    const parsed = parseServiceUrl(url);
    if (!parsed.ok) throw new ClientError(CONNECTION_ERROR_CODES.BAD_URL, parsed.reason);
    const kept = sessionStorage.getItem(tokenKey(parsed.origin)) ?? undefined;
    const client = new HttpConsoleClient(parsed.origin, { token: token.trim() || kept, tabStorage: false });
    const [health, model] = [await client.endpoint(), await client.modelInfo()];
    return { url: parsed.origin, host: parsed.host, version: health.version, model };
  }

  async connect(request: ConnectRequest): Promise<void> {
    const url = new URL(location.href);
    url.searchParams.delete('token');
    if (request.mode === 'local') {
      url.searchParams.delete(CONNECT_PARAM);
    } else {
      const parsed = parseServiceUrl(request.url);
      if (!parsed.ok) throw new ClientError(CONNECTION_ERROR_CODES.BAD_URL, parsed.reason);
      if (parsed.insecure && location.protocol === 'https:') {
        const why = `this page is https: the browser blocks plain http to another machine; give ${parsed.host}'s https address`;
        throw new ClientError(CONNECTION_ERROR_CODES.BAD_URL, why);
      }
      if (request.token?.trim()) sessionStorage.setItem(tokenKey(parsed.origin), request.token.trim());
      sessionStorage.setItem(CONFIRMED_KEY, JSON.stringify([...new Set([...confirmedOrigins(), parsed.origin])]));
      if (parsed.origin === location.origin) url.searchParams.delete(CONNECT_PARAM);
      else url.searchParams.set(CONNECT_PARAM, parsed.origin);
    }
    // A new address: the service that serves the page sets the CSP for the new connection.
    if (url.toString() === location.href) location.reload();
    else location.assign(url.toString());
  }
}

/** The connection control for the client the page started with (desktop over IPC, or the browser). */
export function connectionControlFor(client: ConsoleClient): ConnectionControl {
  return client instanceof IpcConsoleClient ? new DesktopConnectionControl(client.api, client) : new BrowserConnectionControl(client);
}
