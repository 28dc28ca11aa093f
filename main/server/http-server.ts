import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { traceFileName } from '../../preload/trace-spans.ts';
import { TRACE_FORMATS, type TraceFormat } from '../../preload/wire-types.ts';
import { appVersion } from '../config.ts';
import { CheckError, toCheckError } from '../errors.ts';
import type { Logger } from '../logging/json-logger.ts';
import { RETRY_AFTER_SECONDS, type CheckContext, type CheckService } from '../service/check-service.ts';
import { checkResultDocument, healthDocument, readinessDocument } from '../service/response-documents.ts';
import type { ServiceRuntime } from '../service/service-runtime.ts';
import { addMarkFromBody, compareQuery, readSmallJson, slicesQuery } from '../service/telemetry-queries.ts';
import { traceDocument } from '../service/trace-document.ts';
import type { LiveStats } from '../telemetry/live-stats.ts';
import type { ServiceMetrics } from '../telemetry/service-metrics.ts';
import { bearerAuthorizer } from './bearer-auth.ts';
import { checkBodyHeaders, parseCheckBody, requireJsonBody, type BodyLimits } from './check-body-parser.ts';
import { ConnectionGuard, defaultConnectionLimits, type ConnectionLimits } from './connection-guard.ts';
import { CorsPolicy } from './cors.ts';
import { DEFAULT_EVENT_STREAM_OPTIONS, StatsEventStreams, type EventStreamOptions } from './event-stream.ts';
import { sendError, sendJson, sendMethodNotAllowed } from './http-responses.ts';
import { parserErrorAnswer } from './parser-errors.ts';
import { compareSource, fleetQuery, prometheusCompareQuery } from './prometheus-handlers.ts';
import { parseWindow } from './query-window.ts';
import { isCrossSiteRequest, loopbackHostAllowed } from './request-origin.ts';
import { allows, CHECK_ROUTE, findRoute, traceRequestId, type Route } from './routes.ts';
import { whenResponseDone } from './response-lifetime.ts';
import { withoutServerPaths } from './server-paths.ts';
import { StaticUi } from './static-ui.ts';
import { defaultUploadBudgetBytes, UploadBudget } from '../service/upload-budget.ts';

/** How long a client may take over each part of a request, and keep an idle connection. */
export interface HttpTimeouts {
  /** The request head (Node answers 408 itself past it; never a check: no request was read). */
  readonly headersMs: number;
  /** A check's body, from its head: 408 REQUEST_TIMEOUT past it, counted as such. */
  readonly bodyMs: number;
  /** An idle kept-alive connection (longer than a load balancer's 60 s idle timeout). */
  readonly keepAliveMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, bodyMs: 60_000, keepAliveMs: 65_000 };

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
  /** Origins whose pages may use the API with the token (`--cors-origin`; see cors.ts). */
  readonly corsOrigins?: readonly string[];
  /** Open connections, in all and per client address (default defaultConnectionLimits()). */
  readonly connections?: Partial<ConnectionLimits>;
  /** Bytes of check bodies held at once (default defaultUploadBudgetBytes(maxBodyBytes)). */
  readonly uploadBudgetBytes?: number;
  readonly timeouts?: Partial<HttpTimeouts>;
  readonly events?: Partial<EventStreamOptions>;
}

/** How HTTP checks show in the access log. */
const HTTP_CHECK = { method: 'POST', route: CHECK_ROUTE } as const;
/** Node checks its header and request timeouts this often (its default, 30 s, would let them run 30 s late). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;
/** What a body of undeclared length (chunked) reserves before it is read: one socket read's worth; it grows as the body arrives. */
const CHUNKED_FIRST_BYTES = 64 * 1024;
/** An accept() error (EMFILE, ENFILE) is logged at most this often; the listener keeps accepting. */
const ACCEPT_ERROR_LOG_INTERVAL_MS = 10_000;
/** How long a connection answered for a parse error may take to read the answer before it is closed regardless. */
const PARSE_ERROR_LINGER_MS = 2000;

/** A request on a connection, from its head until its response is done. */
interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** For a check: how it is counted if its body proves to be malformed HTTP. */
  readonly check?: CheckContext & { readonly id: string; readonly startedAt: number };
}

/** The request target as a URL, or undefined when it is not one (`new URL` throws on `//[`). */
function parseRequestTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** `?format=chrome|otlp` of a trace (default chrome): one value, one of the two. */
function parseTraceFormat(url: URL): TraceFormat {
  const values = url.searchParams.getAll('format');
  if (values.length === 0) return 'chrome';
  const format = TRACE_FORMATS.find((f) => f === values[0]);
  if (values.length > 1 || !format) throw new CheckError('BAD_REQUEST', `format must be one of ${TRACE_FORMATS.join(', ')}`);
  return format;
}

/** Wants OpenMetrics when the scraper's Accept header names it (Prometheus does when exemplars are on). */
function wantsOpenMetrics(req: IncomingMessage): boolean {
  return /application\/openmetrics-text/i.test(req.headers.accept ?? '');
}

/**
 * The HTTP adapter over the CheckService: the same server in desktop and headless mode. Errors are
 * `{"error":{"code","message"}}`; no stack trace ever reaches a client. A request goes through
 * stages, each its own module: admission (connection-guard), target and Host (request-origin),
 * CORS for the origins named (cors), route and method (routes: 404, 405 with Allow), token
 * (bearer-auth), then the handler; a check also reserves its body's bytes (upload-budget) before
 * its body is read (check-body-parser), and event streams honour backpressure (event-stream).
 */
export class OfaVeHttpServer {
  readonly server: http.Server;
  readonly connections: ConnectionGuard;
  readonly uploads: UploadBudget;
  readonly events: StatsEventStreams;
  private readonly authorized: (req: IncomingMessage) => boolean;
  private readonly service: CheckService;
  private readonly metrics: ServiceMetrics;
  private readonly stats: LiveStats;
  private readonly ui: StaticUi | undefined;
  private readonly cors: CorsPolicy;
  private readonly timeouts: HttpTimeouts;
  /** Responses not yet finished: on shutdown, those not yet begun are told to close their connection. */
  private readonly inflight = new Set<ServerResponse>();
  /** Per connection, its requests whose response is not yet done, oldest first (more than one only when pipelined). */
  private readonly exchanges = new WeakMap<Duplex, Exchange[]>();
  /** Per connection, its latest request: its body may still be arriving after its response is done (a 415 sent at once). */
  private readonly latest = new WeakMap<Duplex, Exchange>();
  /** Checks whose body Node's parser refused: answered and counted by clientError(), not by route(). */
  private readonly answeredByParser = new WeakSet<IncomingMessage>();
  /** Checks handed to the service: it counts them, whatever becomes of their connection. */
  private readonly handedOver = new WeakSet<IncomingMessage>();
  /** Connections answered for a parse error: the parser reports each later read again. */
  private readonly closingAfterParseError = new WeakSet<Duplex>();
  private draining = false;
  private lastAcceptErrorLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly runtime: ServiceRuntime,
    private readonly options: HttpServerOptions,
  ) {
    this.service = runtime.service;
    this.metrics = runtime.metrics;
    this.stats = runtime.stats;
    this.ui = options.uiDir ? new StaticUi(options.uiDir) : undefined;
    this.authorized = bearerAuthorizer(options.token);
    this.cors = new CorsPolicy(options.corsOrigins);
    this.timeouts = { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts };
    this.connections = new ConnectionGuard({ ...defaultConnectionLimits(), ...options.connections });
    this.uploads = new UploadBudget(options.uploadBudgetBytes ?? defaultUploadBudgetBytes(options.bodyLimits.maxBodyBytes));
    this.events = new StatsEventStreams((window) => runtime.statsDocument(window), { ...DEFAULT_EVENT_STREAM_OPTIONS, ...options.events });
    this.server = http.createServer(
      {
        headersTimeout: this.timeouts.headersMs,
        // Node's own backstop, after the body deadline of a check has had its chance to answer 408.
        requestTimeout: this.timeouts.headersMs + this.timeouts.bodyMs + 5000,
        keepAliveTimeout: this.timeouts.keepAliveMs,
        connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      },
      // A safety net: whatever escapes a handler is logged and answered, never an unhandled rejection that stops the process.
      (req, res) =>
        this.route(req, res).catch((err: unknown) => {
          this.options.logger.log('error', 'request handler failed', { error: String((err as Error)?.message ?? err) });
          if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
          else res.destroy();
        }),
    );
    this.server.on('connection', (socket) => this.connections.admit(socket));
    // Without it Node answers a bare 400 and the check being read is taken for a hang-up (499).
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening);
        if (err.code === 'EADDRINUSE')
          reject(new Error(`port ${port} on ${host} is already in use; choose another with --port (or --port 0 for any free port)`));
        else if (err.code === 'EACCES') reject(new Error(`not allowed to listen on ${host}:${port}; choose a port above 1023`));
        else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`${host} is not an address of this machine`));
        else reject(err);
      };
      const onListening = () => {
        this.server.off('error', onError);
        // From now on a server 'error' is a failed accept() (EMFILE with every descriptor in use):
        // an unheard 'error' event would stop the process; the listener goes on accepting.
        this.server.on('error', (err: NodeJS.ErrnoException) => this.acceptFailed(err));
        resolve(this.server.address() as AddressInfo);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, host);
    });
  }

  private acceptFailed(err: NodeJS.ErrnoException): void {
    const now = performance.now();
    if (now - this.lastAcceptErrorLog < ACCEPT_ERROR_LOG_INTERVAL_MS) return;
    this.lastAcceptErrorLog = now;
    this.options.logger.log('error', 'could not accept a connection', {
      code: err.code,
      error: err.message,
      open_connections: this.connections.open,
    });
  }

  /**
   * Graceful shutdown: stops accepting connections (before it returns: the listening socket
   * closes synchronously), ends event streams and closes idle kept-alive connections at once;
   * every response still to come says `Connection: close`, so each connection closes after its
   * request in flight is answered. After `graceMs` the rest are closed.
   */
  async close(graceMs = 5000): Promise<void> {
    this.draining = true;
    this.events.stop();
    for (const res of this.inflight) if (!res.headersSent) res.setHeader('connection', 'close');
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

  /**
   * Node's HTTP parser refused a connection's bytes (a malformed request head, or a malformed
   * chunked body of the request being read) or timed a request out. Answered as Node would (400,
   * 408, 413, 431) but with the JSON error body, then the connection closes; a check whose body it
   * was is counted under that status, once. Nothing is written where it would answer another request
   * (a pipelined one still unanswered) or after an answer has begun: the connection just closes.
   */
  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (this.closingAfterParseError.has(socket) || this.connections.wasRefused(socket as Socket)) return;
    // Only the latest request can still be arriving: a pipelined one's head comes after the body before it.
    const latest = this.latest.get(socket);
    const reading = latest && !latest.req.complete ? latest : undefined;
    const open = (this.exchanges.get(socket) ?? []).filter((e) => !e.res.writableEnded);
    const answer = parserErrorAnswer(err, reading !== undefined);
    const unanswerable =
      !answer ||
      !socket.writable ||
      (reading !== undefined && (reading.res.headersSent || this.handedOver.has(reading.req))) ||
      open.some((e) => e !== reading);
    if (unanswerable) {
      // A request refused before its body was read (415, 413) has had its answer: let it reach the client.
      if (answer && reading?.res.writableEnded && socket.writable) this.closeAfter(socket, undefined);
      else socket.destroy();
      return;
    }
    if (reading) {
      this.answeredByParser.add(reading.req);
      if (reading.check && answer.error) this.service.refuse(answer.error, reading.check);
    }
    this.closeAfter(socket, answer.response);
  }

  /** Ends the connection (after `response`) and closes it once the client has read it, or after a linger. */
  private closeAfter(socket: Duplex, response: Buffer | undefined): void {
    this.closingAfterParseError.add(socket);
    socket.end(response);
    setTimeout(() => socket.destroy(), PARSE_ERROR_LINGER_MS).unref();
  }

  /** Bookkeeping around every request: connection busy or idle, shutdown, upload bytes. */
  private track(req: IncomingMessage, res: ServerResponse, check: Exchange['check']): void {
    const socket = req.socket;
    const exchange: Exchange = { req, res, check };
    const exchanges = this.exchanges.get(socket) ?? [];
    exchanges.push(exchange);
    this.exchanges.set(socket, exchanges);
    this.latest.set(socket, exchange);
    this.inflight.add(res);
    this.connections.requestStarted(socket);
    if (this.draining) res.setHeader('connection', 'close');
    whenResponseDone(req, res, () => {
      const at = exchanges.indexOf(exchange);
      if (at >= 0) exchanges.splice(at, 1);
      this.inflight.delete(res);
      this.connections.requestEnded(socket);
      // A connection that answered its last request during the drain is idle now: close it.
      if (this.draining) setImmediate(() => this.server.closeIdleConnections());
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    // A request parsed on a connection the guard refused (it has been sent its 503 already).
    if (this.connections.wasRefused(req.socket)) {
      res.destroy();
      return;
    }
    const url = parseRequestTarget(req.url);
    // Counted in ofa_ve_request_total: POST /api/v1/check only, whether the service ran it or it was
    // refused (401, 403, 408, bad body, 503). A CORS preflight (OPTIONS), a GET or any other method
    // there is answered 405 but is no check, and other routes never are.
    const isCheck = url?.pathname === CHECK_ROUTE && req.method === 'POST';
    const requestId = randomUUID();
    this.track(req, res, isCheck ? { id: requestId, startedAt: started, ...HTTP_CHECK } : undefined);
    // Node's parser lets through request targets that are not URLs (`//[`, `//a:99999/`).
    if (!url) return sendJson(res, 400, { error: { code: 'BAD_REQUEST', message: 'the request target is not a valid URL path' } });
    const path = url.pathname;
    const route = findRoute(path);
    const allowed = route !== undefined && allows(route, req.method);
    // The client hung up before its answer was sent (the socket closed with the response unended).
    // A route marked cancelOnHangUp (a check, a read of Prometheus) then cancels its work still outstanding.
    const hungUp = new AbortController();
    if (route?.cancelOnHangUp && allowed) {
      whenResponseDone(req, res, () => {
        if (!res.writableEnded) hungUp.abort();
      });
    }
    try {
      if (this.options.loopbackOnly !== false && !loopbackHostAllowed(req)) {
        throw new CheckError('FORBIDDEN', 'this server answers only to localhost, 127.0.0.1 or [::1] in the Host header');
      }
      this.cors.apply(req, res);
      // A preflight carries no token (browsers never send one): it learns only what CORS allows.
      if (route && this.cors.isAllowedPreflight(req)) return this.cors.answerPreflight(req, res);
      // Without the token, no caller learns which paths exist.
      if (!route?.public && !this.authorized(req)) throw new CheckError('UNAUTHORIZED', 'a valid bearer token is required');
      if (!route) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such endpoint: ${path}` } });
      if (!allowed) {
        sendMethodNotAllowed(res, req.method, path, route.methods);
        if (!req.complete) req.resume();
        return;
      }
      await this.handle(route, req, res, url, { startedAt: started, id: requestId, ...HTTP_CHECK, signal: hungUp.signal });
    } catch (err) {
      // Its body was malformed HTTP: answered, and counted if a check, by clientError() already.
      if (this.answeredByParser.has(req)) return;
      let error = toCheckError(err);
      // A body cut short by a hang-up reads as malformed: it is the client's leaving, not its mistake.
      if (isCheck && error.code !== 'REQUEST_TIMEOUT' && (hungUp.signal.aborted || req.socket.destroyed)) {
        error = new CheckError('CLIENT_CLOSED_REQUEST', 'the client closed the connection before its check was read');
      }
      // A check refused before it was handed over (401, bad body, no room for the body) is counted by the service all the same.
      if (isCheck) this.service.refuse(error, { id: requestId, startedAt: started, ...HTTP_CHECK });
      this.answerError(req, res, error, err, { path, requestId });
    }
  }

  /** Answers a request that failed (a check's failure has been counted by the service already). */
  private answerError(
    req: IncomingMessage,
    res: ServerResponse,
    error: CheckError,
    cause: unknown,
    where: { readonly path: string; readonly requestId: string },
  ): void {
    if (error.code === 'INTERNAL') {
      this.options.logger.log('error', 'request failed', { ...where, error: String((cause as Error)?.message ?? cause) });
    }
    if (error.code === 'PROMETHEUS_UNAVAILABLE') {
      // Only the dashboard user sees the 502: the operator gets a line and a counter.
      this.metrics.prometheusFailures.inc();
      this.options.logger.log('warn', 'Prometheus query failed', { ...where, error: error.message });
    }
    if (error.code === 'CLIENT_CLOSED_REQUEST') {
      res.destroy(); // no one is left to answer
      return;
    }
    if (!res.headersSent) sendError(res, error);
    else res.end();
    // Drain what the client is still sending so the connection can be reused or closed cleanly
    // (a body that timed out is not waited for: its connection closes after the 408).
    if (!req.complete && error.code !== 'REQUEST_TIMEOUT') req.resume();
  }

  private async handle(route: Route, req: IncomingMessage, res: ServerResponse, url: URL, context: CheckContext): Promise<void> {
    switch (route.name) {
      case 'healthz': {
        const live = this.runtime.liveness();
        // Not ready is /readyz's business; this is "restart me": the service cannot recover by itself.
        const health = healthDocument({ ok: live.ok, reason: live.reason && this.publicMessage(live.reason) }, appVersion());
        return sendJson(res, health.status === 'ok' ? 200 : 503, health);
      }
      case 'ui': {
        const path = url.pathname;
        if (this.ui && (await this.ui.serve(req, res, path))) return;
        if (path === '/' || path === '/index.html') {
          return sendJson(res, 404, {
            error: { code: 'NOT_FOUND', message: 'the browser UI is not built here: run `npm run build`, then restart ofa-ve serve' },
          });
        }
        return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no such file: ${path}` } });
      }
      case 'check':
        if (isCrossSiteRequest(req) && !this.cors.allows(req.headers.origin)) {
          throw new CheckError('FORBIDDEN', 'checks posted from another web site are refused');
        }
        return this.check(req, res, context);
      case 'metrics': {
        const { contentType, body } = await this.metrics.scrape(wantsOpenMetrics(req));
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      case 'readyz': {
        const readiness = this.runtime.readiness();
        const reason = readiness.reason && this.publicMessage(readiness.reason);
        const ready = readinessDocument({ ready: readiness.ready, reason }, this.service.model);
        if (ready.status === 'ready') return sendJson(res, 200, ready);
        return sendJson(res, 503, ready, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
      case 'model': {
        const doc = this.runtime.modelDocument();
        return sendJson(res, 200, doc.error === undefined ? doc : { ...doc, error: this.publicMessage(doc.error) });
      }
      case 'stats':
        return sendJson(res, 200, this.runtime.statsDocument(parseWindow(url)));
      case 'slowest':
        return sendJson(res, 200, { requests: this.stats.slowest(20) });
      case 'trace':
        return this.trace(res, url);
      case 'marks':
        if (req.method !== 'POST') return sendJson(res, 200, { marks: this.stats.marks() });
        if (isCrossSiteRequest(req) && !this.cors.allows(req.headers.origin)) {
          throw new CheckError('FORBIDDEN', 'marks posted from another web site are refused');
        }
        requireJsonBody(req);
        return sendJson(res, 201, addMarkFromBody(this.stats, await readSmallJson(req)));
      case 'slices':
        return sendJson(res, 200, slicesQuery(this.stats, url, parseWindow(url)));
      case 'compare':
        if (compareSource(url) === 'prometheus') {
          return sendJson(res, 200, await prometheusCompareQuery(this.runtime.prometheus, url, context.signal));
        }
        return sendJson(res, 200, compareQuery(this.stats, url));
      case 'fleet':
        return sendJson(res, 200, await fleetQuery(this.runtime.prometheus, url, context.signal));
      case 'events': {
        const window = parseWindow(url);
        if (this.draining) throw new CheckError('NOT_READY', 'the service is shutting down');
        this.events.open(req, res, window);
        return;
      }
    }
  }

  /** One recent request's trace, built now from the trace ring (nothing is built until someone asks). */
  private trace(res: ServerResponse, url: URL): void {
    const format = parseTraceFormat(url);
    const id = traceRequestId(url.pathname) ?? '';
    const doc = traceDocument(this.stats.traces, id, format);
    sendJson(res, 200, doc, { 'content-disposition': `inline; filename="${traceFileName(id, format)}"` });
  }

  /** A reason fit for any caller: no absolute path of this machine (the model directory above all). */
  private publicMessage(message: string): string {
    return withoutServerPaths(message, [this.runtime.modelDir]);
  }

  private overloaded(): CheckError {
    return new CheckError(
      'OVERLOADED',
      `too many uploads in progress (${this.uploads.limitBytes} bytes of request bodies); retry in ${RETRY_AFTER_SECONDS} s`,
    );
  }

  private async check(req: IncomingMessage, res: ServerResponse, context: CheckContext): Promise<void> {
    const limits = this.options.bodyLimits;
    // Refusals that need no body come first (413 by its declared length, 415), then room for it.
    const declared = checkBodyHeaders(req, limits);
    const reservation = this.uploads.reserve(declared ?? Math.min(CHUNKED_FIRST_BYTES, limits.maxBodyBytes));
    if (!reservation) throw this.overloaded();
    whenResponseDone(req, res, () => reservation.release());
    // Refusals up to here (the body included: 408, 413, bad multipart, a hang-up) reach route()'s catch, which has them counted.
    const request = await parseCheckBody(req, limits, {
      deadline: (context.startedAt ?? performance.now()) + this.timeouts.bodyMs,
      admit: (received) => (reservation.growTo(received) ? undefined : this.overloaded()),
    });
    let answer;
    try {
      this.handedOver.add(req);
      answer = await this.service.check(request, context);
    } catch (err) {
      // Handed over: the service counted it; this only answers.
      const error = toCheckError(err);
      return this.answerError(req, res, error, err, { path: CHECK_ROUTE, requestId: context.id ?? '' });
    }
    sendJson(res, 200, checkResultDocument(answer));
  }
}
