/**
 * The desktop app's choice between its own model and a remote `ofa-ve serve`, free of Electron
 * imports so unit tests run it under plain Node (test/unit/electron-remote-*.test.ts): the start-up
 * choice (--connect, the saved choice), "Test connection", and switching with the token kept
 * through the TokenStore.
 */
import { fieldsOf } from './ipc-request.ts';
import { writeJsonAtomic } from './json-file.ts';
import { readFile } from 'node:fs/promises';
import type { ConnectionInfo, ConnectionState, ConnectRequest, RemoteServiceInfo } from '../../preload/api-contract.ts';
import { parseServiceUrl, type ServiceUrl } from '../../preload/service-url.ts';
import { CONNECTION_ERROR_CODES, type ModelDocument } from '../../preload/wire-types.ts';
import { APP_ORIGIN } from './app-origin.ts';
import { ConnectionError, fetchRemote, readRemoteJson } from './remote-fetch.ts';
import { TokenNotStoredError, type KeychainStatus } from './token-store.ts';

/** What is kept between runs: the last choice made in the connection dialog (never the token). */
export type ConnectionChoice = { mode: 'local' } | { mode: 'remote'; url: string };

/** The TokenStore as the connection logic uses it. */
export interface TokenKeeper {
  status(): KeychainStatus;
  save(origin: string, token: string): Promise<void>;
  load(origin: string): Promise<string | undefined>;
}

export async function loadConnectionChoice(file: string): Promise<ConnectionChoice> {
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<{ mode: string; url: string }>;
    if (saved.mode === 'remote' && typeof saved.url === 'string') {
      const url = parseServiceUrl(saved.url);
      if (url.ok) return { mode: 'remote', url: url.origin };
    }
  } catch {
    // No settings yet, or a damaged file: the local model.
  }
  return { mode: 'local' };
}

export async function saveConnectionChoice(file: string, choice: ConnectionChoice): Promise<void> {
  await writeJsonAtomic(file, choice, { mode: 0o600 });
}

type TokenSource = 'env' | 'keychain' | 'session' | 'none';

/**
 * A service address the window can reach. The window's origin (app://console) is a secure one, so
 * Chromium blocks plain http to another machine as mixed content (and the token would cross the
 * network in clear): such an address is refused with what to do instead. Loopback http is fine
 * (an SSH tunnel, or a service on this machine).
 */
export function desktopServiceUrl(input: string): Extract<ServiceUrl, { ok: true }> {
  const parsed = parseServiceUrl(input);
  if (!parsed.ok) throw new ConnectionError(CONNECTION_ERROR_CODES.BAD_URL, parsed.reason);
  if (parsed.insecure) {
    throw new ConnectionError(
      CONNECTION_ERROR_CODES.BAD_URL,
      `${parsed.origin} is plain http to another machine, which the app's window may not use (and the token would cross the ` +
        `network unencrypted): give its https address (a TLS proxy in front of ofa-ve serve), or tunnel it ` +
        `(ssh -L 7860:127.0.0.1:7860 HOST) and connect to http://127.0.0.1:7860`,
    );
  }
  return parsed;
}

function desktopServiceUrlOrUndefined(input: string): Extract<ServiceUrl, { ok: true }> | undefined {
  try {
    return desktopServiceUrl(input);
  } catch {
    return undefined;
  }
}

function remoteState(url: string, token: string | undefined, tokenSource: TokenSource): ConnectionState {
  const parsed = desktopServiceUrl(url);
  return {
    mode: 'remote',
    url: parsed.origin,
    host: parsed.host,
    ...(token ? { token, tokenSource: tokenSource === 'none' ? 'session' : tokenSource } : { tokenSource: 'none' as const }),
  };
}

/**
 * Where checks run at start-up: `--connect URL` (token from OFA_VE_TOKEN, else the keychain's for
 * that service) for this run only, else the choice saved from the dialog, else the local model.
 * A bad --connect address throws BAD_URL: the user asked for a remote, so falling back to loading
 * the local model would hide the mistake.
 */
export async function startupConnection(input: {
  connect?: string;
  envToken?: string;
  saved: ConnectionChoice;
  tokens: Pick<TokenKeeper, 'load'>;
}): Promise<ConnectionState> {
  if (input.connect !== undefined) {
    let parsed;
    try {
      parsed = desktopServiceUrl(input.connect);
    } catch (err) {
      throw new ConnectionError(CONNECTION_ERROR_CODES.BAD_URL, `--connect ${input.connect}: ${(err as Error).message}`);
    }
    const env = input.envToken === undefined ? undefined : checkedToken(input.envToken.trim(), 'OFA_VE_TOKEN: ');
    if (env) return remoteState(parsed.origin, env, 'env');
    return remoteState(parsed.origin, await input.tokens.load(parsed.origin), 'keychain');
  }
  // A saved address the window cannot use (a file edited by hand) falls back to the local model.
  if (input.saved.mode === 'remote' && desktopServiceUrlOrUndefined(input.saved.url)) {
    return remoteState(input.saved.url, await input.tokens.load(input.saved.url), 'keychain');
  }
  return { mode: 'local' };
}

/** What a bearer token can be: visible ASCII, no spaces (RFC 6750's b64token, and then some). */
const TOKEN_CHARACTERS = /^[\x21-\x7e]+$/;

/**
 * `token` when it can go in an Authorization header; else BAD_TOKEN. A newline, a space inside or
 * a character outside ASCII (a pasted quote, a non-breaking space) would make fetch refuse the
 * header, which reads as "cannot reach" the service. Empty is no token.
 */
export function checkedToken(token: string, context = ''): string {
  if (token === '' || TOKEN_CHARACTERS.test(token)) return token;
  throw new ConnectionError(
    CONNECTION_ERROR_CODES.BAD_TOKEN,
    `${context}the token has characters a token cannot have (only visible ASCII, no spaces or line breaks): check what was pasted`,
  );
}

/** A page's `connection:test` request, checked: the address as text, and the token as text if any. */
export function testRequestOf(request: unknown): { url: string; token?: string } {
  const { url, token } = fieldsOf(request);
  if (typeof url !== 'string')
    throw new ConnectionError(CONNECTION_ERROR_CODES.BAD_URL, "give the service's address (https://HOST[:PORT])");
  if (token !== undefined && typeof token !== 'string')
    throw new ConnectionError(CONNECTION_ERROR_CODES.BAD_TOKEN, 'the token must be text');
  return token === undefined ? { url } : { url, token };
}

/** A page's `connection:connect` request, checked. */
export function connectRequestOf(request: unknown): ConnectRequest {
  const { mode } = fieldsOf(request);
  if (mode === 'local') return { mode: 'local' };
  if (mode === 'remote') return { mode: 'remote', ...testRequestOf(request) };
  throw new ConnectionError(CONNECTION_ERROR_CODES.BAD_URL, 'choose the local model or a remote service');
}

export interface RemoteTestOptions {
  /** Each request's limit (default 5 s). */
  timeoutMs?: number;
  /** The Origin the window's requests carry (app://console); the service must allow it (CORS). */
  pageOrigin?: string;
}

/**
 * "Test connection": what the window will meet when it talks to the service. It is ofa-ve serve
 * (/healthz with a version), it lets the window's origin call it (a CORS preflight as Chromium
 * sends it, which fails with a plain network error in the page otherwise), and the token is
 * accepted (/api/v1/model). Run in main: the page's CSP allows only the service it is connected to.
 */
export async function testRemoteService(
  url: string,
  token: string | undefined,
  options: RemoteTestOptions = {},
): Promise<RemoteServiceInfo> {
  const parsed = desktopServiceUrl(url);
  const timeoutMs = options.timeoutMs ?? 5000;
  const pageOrigin = options.pageOrigin ?? APP_ORIGIN;
  const { origin, host } = parsed;
  const request = (pathname: string, init?: RequestInit) => fetchRemote(origin, pathname, timeoutMs, init);

  const health = await request('/healthz');
  const version = ((await readRemoteJson(health, host)) as { version?: unknown } | undefined)?.version;
  if (typeof version !== 'string') {
    throw new ConnectionError(
      CONNECTION_ERROR_CODES.NOT_OFA_VE,
      `${host} answered /healthz with ${health.status} but not as ofa-ve serve does: is this the right address?`,
    );
  }

  const preflight = await request('/api/v1/model', {
    method: 'OPTIONS',
    headers: { origin: pageOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  if (preflight.headers.get('access-control-allow-origin') !== pageOrigin) {
    throw new ConnectionError(
      CONNECTION_ERROR_CODES.CORS_NOT_ALLOWED,
      `${host} does not accept requests from the console's window (${pageOrigin}): start it with ` +
        `--cors-origin ${pageOrigin} (and a --token); ofa-ve ${version} there`,
    );
  }

  const headers: Record<string, string> = { origin: pageOrigin, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const res = await request('/api/v1/model', { headers });
  if (res.status === 401) {
    throw new ConnectionError('UNAUTHORIZED', token ? `${host} refused the token` : `${host} needs an access token (its --token)`);
  }
  const model = (await readRemoteJson(res, host)) as (ModelDocument & { error?: unknown }) | undefined;
  if (!res.ok || typeof model?.ready !== 'boolean') {
    throw new ConnectionError(CONNECTION_ERROR_CODES.NOT_OFA_VE, `${host} answered /api/v1/model with ${res.status}, not a model document`);
  }
  return { url: origin, host, version, model };
}

export interface ConnectionManagerOptions {
  tokens: TokenKeeper;
  /** Where the choice is kept (userData/connection.json). */
  settingsFile: string;
  /** Starts the local model and its HTTP endpoint (remote → local). */
  startLocal(): Promise<void>;
  /** Stops them, freeing the model's memory and CPU (local → remote). */
  stopLocal(): Promise<void>;
  test?: RemoteTestOptions;
}

/**
 * The connection in use and the switch between local and remote. Connecting to a remote first
 * tests it (a window pointed at a service it cannot use would only show "unavailable"), then
 * keeps the token, encrypted, in the keychain (or, where there is none, for this run only, and
 * says so), then stops the local model. Connecting to the local model starts it again.
 */
export class ConnectionManager {
  private notice: string | undefined;
  /** The switch in progress (settled when none): the next waits for it. */
  private switching: Promise<unknown> = Promise.resolve();

  constructor(
    private state: ConnectionState,
    private readonly options: ConnectionManagerOptions,
  ) {}

  get current(): ConnectionState {
    return this.state;
  }

  /** The origins the window may fetch besides its own (its CSP's connect-src). */
  connectSources(): string[] {
    return this.state.mode === 'remote' ? [this.state.url] : [];
  }

  info(): ConnectionInfo {
    const keychain = this.options.tokens.status();
    return {
      current: this.state,
      keychain: keychain.available ? { available: true } : { available: false, reason: keychain.reason },
      ...(this.notice ? { notice: this.notice } : {}),
    };
  }

  /** Test connection; no token given means the one this app holds for that service, if any. */
  async test(request: { url: string; token?: string }): Promise<RemoteServiceInfo> {
    const parsed = desktopServiceUrl(String(request?.url ?? ''));
    const token = await this.tokenFor(parsed.origin, request.token);
    return testRemoteService(parsed.origin, token.value, this.options.test);
  }

  /**
   * Switches to `request`. Switches run one after another, each to its end (the local model started
   * or stopped) before the next begins: a switch started while another was on its way (local → remote
   * asked while the local model was still starting) would otherwise act on a half-made state, and
   * the app would say remote while a local model kept running.
   */
  connect(request: ConnectRequest): Promise<ConnectionInfo> {
    const next = this.switching.then(() => this.switchTo(request));
    this.switching = next.catch(() => undefined);
    return next;
  }

  private async switchTo(request: ConnectRequest): Promise<ConnectionInfo> {
    this.notice = undefined;
    if (request?.mode === 'local') {
      const wasRemote = this.state.mode === 'remote';
      await saveConnectionChoice(this.options.settingsFile, { mode: 'local' });
      this.state = { mode: 'local' };
      if (wasRemote) await this.options.startLocal();
      return this.info();
    }
    if (request?.mode !== 'remote') throw new ConnectionError(CONNECTION_ERROR_CODES.BAD_URL, 'choose the local model or a remote service');
    const parsed = desktopServiceUrl(String(request.url ?? ''));
    const token = await this.tokenFor(parsed.origin, request.token);
    await testRemoteService(parsed.origin, token.value, this.options.test);
    let source = token.source;
    if (token.value && token.given) {
      try {
        await this.options.tokens.save(parsed.origin, token.value);
        source = 'keychain';
      } catch (err) {
        if (!(err instanceof TokenNotStoredError)) throw err;
        source = 'session';
        this.notice = err.message;
      }
    }
    await saveConnectionChoice(this.options.settingsFile, { mode: 'remote', url: parsed.origin });
    const wasLocal = this.state.mode === 'local';
    this.state = remoteState(parsed.origin, token.value, source);
    if (wasLocal) await this.options.stopLocal();
    return this.info();
  }

  /** A token typed now, else the one in use for that service, else the keychain's. */
  private async tokenFor(
    origin: string,
    typed: string | undefined,
  ): Promise<{ value: string | undefined; given: boolean; source: TokenSource }> {
    const token = typeof typed === 'string' ? checkedToken(typed.trim()) : '';
    if (token) return { value: token, given: true, source: 'session' };
    if (this.state.mode === 'remote' && this.state.url === origin && this.state.token) {
      return { value: this.state.token, given: false, source: this.state.tokenSource };
    }
    const stored = await this.options.tokens.load(origin);
    return stored ? { value: stored, given: false, source: 'keychain' } : { value: undefined, given: false, source: 'none' };
  }
}
