/**
 * The route table: each path the server answers, the methods it serves there, and whether it needs
 * the bearer token. One place for 404 (no such path) and 405 with `Allow` (no such method), in the
 * spirit of find-my-way's routing ahead of any handler.
 */
import { StaticUi } from './static-ui.ts';

export type RouteName = 'healthz' | 'readyz' | 'metrics' | 'check' | 'model' | 'stats' | 'slowest' | 'events' | 'ui';

export interface Route {
  readonly name: RouteName;
  /** The methods served; HEAD goes with every GET. */
  readonly methods: readonly string[];
  /** Answered without a token (liveness for orchestrators; the UI holds no data). */
  readonly public: boolean;
}

export const CHECK_ROUTE = '/api/v1/check';

const READ = ['GET', 'HEAD'] as const;

const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/healthz', { name: 'healthz', methods: READ, public: true }],
  ['/readyz', { name: 'readyz', methods: READ, public: true }],
  ['/metrics', { name: 'metrics', methods: READ, public: false }],
  [CHECK_ROUTE, { name: 'check', methods: ['POST'], public: false }],
  ['/api/v1/model', { name: 'model', methods: READ, public: false }],
  ['/api/v1/stats', { name: 'stats', methods: READ, public: false }],
  ['/api/v1/requests/slowest', { name: 'slowest', methods: READ, public: false }],
  ['/api/v1/events', { name: 'events', methods: READ, public: false }],
]);

const UI_ROUTE: Route = { name: 'ui', methods: READ, public: true };

/** The route for a path, or undefined (404). */
export function findRoute(pathname: string): Route | undefined {
  return ROUTES.get(pathname) ?? (StaticUi.owns(pathname) ? UI_ROUTE : undefined);
}

export function allows(route: Route, method: string | undefined): boolean {
  return method !== undefined && route.methods.includes(method);
}
