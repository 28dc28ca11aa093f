import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CheckError, toCheckError } from '../errors.ts';
import type { Logger } from '../logging/json-logger.ts';
import { RETRY_AFTER_SECONDS, type CheckContext, type CheckService } from '../service/check-service.ts';
import { appVersion, checkResultDocument, type ServiceRuntime } from '../service/service-runtime.ts';
import type { LiveStats } from '../telemetry/live-stats.ts';
import type { ServiceMetrics } from '../telemetry/service-metrics.ts';
import { bearerAuthorizer } from './bearer-auth.ts';
import { parseCheckBody, type BodyLimits } from './check-body-parser.ts';
import { isCrossSiteRequest, loopbackHostAllowed } from './request-origin.ts';
import { StaticUi } from './static-ui.ts';

export interface HttpServerOptions {
  readonly token?: string;
  readonly bodyLimits: BodyLimits;
  readonly logger: Logger;
  /** The built browser UI (out/renderer), served at / without a token: it holds no data. */
  readonly uiDir?: string;
  /**
   * Listening on loopback only: then requests must name a loopback host (no DNS rebinding).
   * Defaults to true; `ofa-ve serve --host 0.0.0.0` sets it false (a token guards it instead).
   */
  readonly loopbackOnly?: boolean;
}

const STATS_WINDOWS = { min: 1, max: 900 };
const CHECK_ROUTE = '/api/v1/check';
/** How HTTP checks show in the access log. */
const HTTP_CHECK = { method: 'POST', route: CHECK_ROUTE } as const;
const SSE_INTERVAL_MS = 1000;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: CheckError): void {
  const headers: Record<string, string> = {};
  if (error.code === 'OVERLOADED' || error.code === 'NOT_READY') headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  if (error.code === 'UNAUTHORIZED') headers['www-authenticate'] = 'Bearer';
  sendJson(res, error.status, { error: error.toJSON() }, headers);
}

function parseWindow(url: URL): number {
  const raw = url.searchParams.get('window') ?? '60';
  const window = Number(raw);
  if (!Number.isInteger(window) || window < STATS_WINDOWS.min || window > STATS_WINDOWS.max) {
    throw new CheckError('BAD_REQUEST', `window must be a whole number of seconds from ${STATS_WINDOWS.min} to ${STATS_WINDOWS.max}`);
  }
  return window;
}

/** The request target as a URL, or undefined when it is not one (`new URL` throws on `//[`). */
function parseRequestTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** Wants OpenMetrics when the scraper's Accept header names it (Prometheus does when exemplars are on). */
function wantsOpenMetrics(req: IncomingMessage): boolean {
  return /application\/openmetrics-text/i.test(req.headers.accept ?? '');
}

/**
 * The HTTP adapter over the CheckService: the same server in desktop and headless mode. Errors are
 * `{"error":{"code","message"}}`; no stack trace ever reaches a client.
 */
export class OfaVeHttpServer {
  readonly server: http.Server;
  private readonly authorized: (req: IncomingMessage) => boolean;
  private readonly sseClients = new Set<ServerResponse>();
  private readonly service: CheckService;
  private readonly metrics: ServiceMetrics;
  private readonly stats: LiveStats;
  private readonly ui: StaticUi | undefined;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly options: HttpServerOptions,
  ) {
    this.service = runtime.service;
    this.metrics = runtime.metrics;
    this.stats = runtime.stats;
    this.ui = options.uiDir ? new StaticUi(options.uiDir) : undefined;
    this.authorized = bearerAuthorizer(options.token);
    // A safety net: whatever escapes a handler is logged and answered, never an unhandled rejection that stops the process.
    this.server = http.createServer((req, res) =>
      this.route(req, res).catch((err: unknown) => {
        this.options.logger.log('error', 'request handler failed', { error: String((err as Error)?.message ?? err) });
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
        else res.destroy();
      }),
    );
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 30_000;
    this.server.requestTimeout = 120_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        if (err.code === 'EADDRINUSE') reject(new Error(`port ${port} on ${host} is already in use; choose another with --port (or --port 0 for any free port)`));
        else if (err.code === 'EACCES') reject(new Error(`not allowed to listen on ${host}:${port}; choose a port above 1023`));
        else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`${host} is not an address of this machine`));
        else reject(err);
      };
      const onListening = () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
  }

  /**
   * Stops accepting connections and ends event streams; requests in flight get `graceMs` to finish,
   * then remaining connections are closed (a keep-alive socket left by a client that aborted a
   * request would otherwise hold the server open for the whole keep-alive timeout).
   */
  async close(graceMs = 5000): Promise<void> {
    for (const client of this.sseClients) client.end();
    this.sseClients.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
      timer.unref();
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = parseRequestTarget(req.url);
    // Node's parser lets through request targets that are not URLs (`//[`, `//a:99999/`).
    if (!url) return sendJson(res, 400, { error: { code: 'BAD_REQUEST', message: 'the request target is not a valid URL path' } });
    const path = url.pathname;
    // Counted in ofa_ve_request_total: POST /api/v1/check only, whether the service ran it or it was
    // refused (401, 403, bad body). A CORS preflight (OPTIONS), a GET or any other method there is
    // answered 400 but is no check, and other routes never are.
    const isCheck = path === CHECK_ROUTE && req.method === 'POST';
    const requestId = randomUUID();
    // The client hung up before its answer was sent (the socket closed with the response unended).
    const hungUp = new AbortController();
    if (isCheck) {
      res.once('close', () => {
        if (!res.writableEnded) hungUp.abort();
      });
    }
    try {
      if (this.options.loopbackOnly !== false && !loopbackHostAllowed(req)) {
        throw new CheckError('FORBIDDEN', 'this server answers only to localhost, 127.0.0.1 or [::1] in the Host header');
      }
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok', version: appVersion() });
      if (StaticUi.owns(path) && (req.method === 'GET' || req.method === 'HEAD')) {
        if (this.ui && (await this.ui.serve(req, res, path))) return;
        if (path === '/' || path === '/index.html') {
          return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'the browser UI is not built here: run `npm run build`, then restart ofa-ve serve' } });
        }
        return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such file: ${path}` } });
      }
      if (!this.authorized(req)) throw new CheckError('UNAUTHORIZED', 'a valid bearer token is required');
      if (path === CHECK_ROUTE) {
        if (!isCheck) throw new CheckError('BAD_REQUEST', 'use POST for /api/v1/check');
        if (isCrossSiteRequest(req)) throw new CheckError('FORBIDDEN', 'checks posted from another web site are refused');
        await this.check(req, res, { startedAt: started, id: requestId, ...HTTP_CHECK, signal: hungUp.signal });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new CheckError('BAD_REQUEST', `${req.method} is not supported on ${path}`);
      switch (path) {
        case '/metrics': {
          const { contentType, body } = await this.metrics.scrape(wantsOpenMetrics(req));
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
          res.end(body);
          return;
        }
        case '/readyz': {
          const model = this.service.model;
          if (model) return sendJson(res, 200, { status: 'ready', model: model.name, provider: model.provider });
          return sendJson(res, 503, { status: 'not ready', error: { code: 'NOT_READY', message: this.runtime.modelDocument().error ?? 'the model is loading' } }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
        }
        case '/api/v1/model':
          return sendJson(res, 200, this.runtime.modelDocument());
        case '/api/v1/stats':
          return sendJson(res, 200, this.runtime.statsDocument(parseWindow(url)));
        case '/api/v1/requests/slowest':
          return sendJson(res, 200, { requests: this.stats.slowest(20) });
        case '/api/v1/events':
          return this.events(req, res, parseWindow(url));
        default:
          return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such endpoint: ${path}` } });
      }
    } catch (err) {
      let error = toCheckError(err);
      if (error.code === 'INTERNAL') this.options.logger.log('error', 'request failed', { path, requestId, error: String((err as Error)?.message ?? err) });
      // A body cut short by a hang-up reads as malformed: it is the client's leaving, not its mistake.
      if (isCheck && (hungUp.signal.aborted || req.socket.destroyed) && !(err instanceof ServiceCounted)) {
        error = new CheckError('CLIENT_CLOSED_REQUEST', 'the client closed the connection before its check was read');
      }
      // Checks refused before the service saw them (401, bad body) are still counted as checks.
      if (isCheck && !(err instanceof ServiceCounted)) {
        this.service.recordFailure(error, { id: requestId, startedAt: started, ...HTTP_CHECK });
      }
      if (error.code === 'CLIENT_CLOSED_REQUEST') {
        res.destroy(); // no one is left to answer
        return;
      }
      if (!res.headersSent) sendError(res, error);
      else res.end();
      // Drain what the client is still sending so the connection can be reused or closed cleanly.
      if (!req.complete) req.resume();
    }
  }

  private async check(req: IncomingMessage, res: ServerResponse, context: CheckContext): Promise<void> {
    const request = await parseCheckBody(req, this.options.bodyLimits);
    let answer;
    try {
      answer = await this.service.check(request, context);
    } catch (err) {
      throw new ServiceCounted(toCheckError(err));
    }
    sendJson(res, 200, checkResultDocument(answer));
  }

  private events(req: IncomingMessage, res: ServerResponse, window: number): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const tick = () => res.write(`event: stats\ndata: ${JSON.stringify(this.runtime.statsDocument(window))}\n\n`);
    tick();
    const timer = setInterval(tick, SSE_INTERVAL_MS);
    this.sseClients.add(res);
    const stop = () => {
      clearInterval(timer);
      this.sseClients.delete(res);
    };
    req.on('close', stop);
    res.on('close', stop);
  }
}

/** A CheckError the service already counted (so the HTTP layer does not count it again). */
class ServiceCounted extends CheckError {
  constructor(error: CheckError) {
    super(error.code, error.message);
  }
}
