import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { CheckError } from '../errors.ts';
import { rawErrorResponse } from './http-responses.ts';

export interface ConnectionLimits {
  /** Open connections in all. */
  readonly maxConnections: number;
  /** Open connections from one client address. */
  readonly maxConnectionsPerClient: number;
}

/** Descriptors kept free of connections: the worker's pipes, the UI's files, the model, logs. */
const RESERVED_DESCRIPTORS = 128;

/** The process's open-file limit (Linux /proc), or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * 2048 in all and 512 per client address, or fewer where the descriptor limit is lower, so that
 * accept() never fails for want of a descriptor. 400 event streams from one browser host fit.
 */
export function defaultConnectionLimits(): ConnectionLimits {
  const fds = openFileLimit();
  const maxConnections = Math.max(16, Math.min(2048, fds === undefined ? 2048 : fds - RESERVED_DESCRIPTORS));
  return { maxConnections, maxConnectionsPerClient: Math.max(8, Math.min(512, maxConnections)) };
}

const REFUSED = rawErrorResponse(new CheckError('OVERLOADED', 'too many open connections; retry in a moment'), 'Service Unavailable');
/** How long a refused socket may take to read its 503 before it is closed regardless. */
const REFUSED_LINGER_MS = 2000;

interface Tracked {
  readonly client: string;
  /** Requests being answered on it (pipelining aside, 0 or 1). */
  active: number;
}

/**
 * Connection admission with idle eviction. Past a cap (all, or one client's), a new connection
 * takes the place of the connection that has been idle longest (no request in progress: a kept-
 * alive socket between requests, or one that has not finished sending a request head, as a
 * slowloris never does). Only when every connection is busy is the newcomer refused, with a 503
 * OVERLOADED and Retry-After. So a flood of idle sockets cannot lock out Prometheus or /healthz:
 * they always get a connection, at the cost of the flood's oldest sockets.
 */
export class ConnectionGuard {
  private readonly tracked = new Map<Socket, Tracked>();
  /** Idle sockets, oldest idle first (a Map keeps insertion order; re-inserted when idle again). */
  private readonly idle = new Map<Socket, number>();
  private readonly perClient = new Map<string, number>();
  private readonly refused = new WeakSet<Socket>();
  private stats = { evicted: 0, refused: 0 };

  constructor(private readonly limits: ConnectionLimits) {}

  get open(): number {
    return this.tracked.size;
  }

  get counts(): { open: number; evicted: number; refused: number } {
    return { open: this.tracked.size, ...this.stats };
  }

  /** True for a socket this guard refused (its requests, if any were parsed, are not answered). */
  wasRefused(socket: Socket): boolean {
    return this.refused.has(socket);
  }

  /** On the server's 'connection' event. */
  admit(socket: Socket): void {
    const client = socket.remoteAddress ?? 'unknown';
    const fromClient = this.perClient.get(client) ?? 0;
    if (fromClient >= this.limits.maxConnectionsPerClient && !this.evictIdle(client)) return this.refuse(socket);
    if (this.tracked.size >= this.limits.maxConnections && !this.evictIdle()) return this.refuse(socket);
    this.tracked.set(socket, { client, active: 0 });
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.idle.set(socket, performance.now());
    socket.once('close', () => this.forget(socket));
  }

  /** A request started on the socket: it is no longer idle. */
  requestStarted(socket: Socket): void {
    const t = this.tracked.get(socket);
    if (!t) return;
    t.active += 1;
    this.idle.delete(socket);
  }

  /** A response ended (or its connection closed): idle again once nothing else runs on it. */
  requestEnded(socket: Socket): void {
    const t = this.tracked.get(socket);
    if (!t) return;
    t.active = Math.max(0, t.active - 1);
    if (t.active === 0 && !socket.destroyed) this.idle.set(socket, performance.now());
  }

  private forget(socket: Socket): void {
    const t = this.tracked.get(socket);
    if (!t) return;
    this.tracked.delete(socket);
    this.idle.delete(socket);
    const left = (this.perClient.get(t.client) ?? 1) - 1;
    if (left > 0) this.perClient.set(t.client, left);
    else this.perClient.delete(t.client);
  }

  /** Closes the connection idle longest (of `client`, when given); false when none is idle. */
  private evictIdle(client?: string): boolean {
    for (const socket of this.idle.keys()) {
      if (client !== undefined && this.tracked.get(socket)?.client !== client) continue;
      this.stats.evicted += 1;
      this.forget(socket); // now, not on 'close': the newcomer takes its place at once
      socket.destroy();
      return true;
    }
    return false;
  }

  private refuse(socket: Socket): void {
    this.stats.refused += 1;
    this.refused.add(socket);
    socket.on('error', () => {});
    socket.end(REFUSED);
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  }
}
