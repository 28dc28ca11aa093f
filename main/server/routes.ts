/**
 * The route table: each path the server answers, the methods it serves there, and whether it needs
 * the bearer token. One place for 404 (no such path) and 405 with `Allow` (no such method), in the
 * spirit of find-my-way's routing ahead of any handler.
 */
import { StaticUi } from './static-ui.ts';

export type RouteName =
  | 'healthz'
  | 'readyz'
  | 'metrics'
  | 'check'
  | 'model'
  | 'stats'
  | 'slowest'
  | 'trace'
  | 'events'
  | 'marks'
  | 'slices'
  | 'compare'
  | 'fleet'
  | 'ui';

export interface Route {
  readonly name: RouteName;
  /** The methods served; HEAD goes with every GET. */
  readonly methods: readonly string[];
  /** Answered without a token (liveness for orchestrators; the UI holds no data). */
  readonly public: boolean;
  /** The server aborts the request's work (its signal) when the client hangs up before the answer is sent. */
  readonly cancelOnHangUp?: true;
}

export const CHECK_ROUTE = '/api/v1/check';

const READ = ['GET', 'HEAD'] as const;

const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/healthz', { name: 'healthz', methods: READ, public: true }],
  ['/readyz', { name: 'readyz', methods: READ, public: true }],
  ['/metrics', { name: 'metrics', methods: READ, public: false }],
  [CHECK_ROUTE, { name: 'check', methods: ['POST'], public: false, cancelOnHangUp: true }],
  ['/api/v1/model', { name: 'model', methods: READ, public: false }],
  ['/api/v1/stats', { name: 'stats', methods: READ, public: false }],
  ['/api/v1/requests/slowest', { name: 'slowest', methods: READ, public: false }],
  ['/api/v1/events', { name: 'events', methods: READ, public: false }],
  ['/api/v1/marks', { name: 'marks', methods: [...READ, 'POST'], public: false }],
  ['/api/v1/slices', { name: 'slices', methods: READ, public: false }],
  ['/api/v1/compare', { name: 'compare', methods: READ, public: false, cancelOnHangUp: true }],
  ['/api/v1/fleet', { name: 'fleet', methods: READ, public: false, cancelOnHangUp: true }],
]);

const UI_ROUTE: Route = { name: 'ui', methods: READ, public: true };

/** `/api/v1/requests/{id}/trace`: the one route with a parameter (one path segment). */
const TRACE_PATH = /^\/api\/v1\/requests\/([^/]+)\/trace$/;
const TRACE_ROUTE: Route = { name: 'trace', methods: READ, public: false };

/** The route for a path, or undefined (404). */
export function findRoute(pathname: string): Route | undefined {
  return ROUTES.get(pathname) ?? (TRACE_PATH.test(pathname) ? TRACE_ROUTE : StaticUi.owns(pathname) ? UI_ROUTE : undefined);
}

/** The request id of a trace path (percent-decoded), or undefined for another path. */
export function traceRequestId(pathname: string): string | undefined {
  const segment = TRACE_PATH.exec(pathname)?.[1];
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not valid percent-encoding: no request has that id, which the lookup then says
  }
}

export function allows(route: Route, method: string | undefined): boolean {
  return method !== undefined && route.methods.includes(method);
}
