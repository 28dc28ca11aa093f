import type { Logger } from '../logging/json-logger.ts';

/** Lines per second written in full before sampling starts (`ofa-ve serve --access-log-rate`). */
export const DEFAULT_ACCESS_LOG_RATE = 20;

/** One check as the access log records it. */
export interface AccessEntry {
  readonly id: string;
  /** HTTP-style status (200, 400, 499, 503, ...). */
  readonly status: number;
  /** The error code of a failed check. */
  readonly code?: string;
  /** The answer of a successful check. */
  readonly label?: string;
  readonly latencyMs: number;
  /** How the check came in: POST /api/v1/check over HTTP, IPC check:run in the desktop window. */
  readonly method?: string;
  readonly route?: string;
}

/**
 * One JSON log line per check (`"msg":"check"`), bounded under load the way zap's sampler is: in
 * each wall-clock second the first `rate` lines are written, after that one in every `rate`, and
 * server errors (5xx) always. For every second in which lines were dropped, one `access log
 * sampled` line says how many, by status, once the second is over. A rate of 0 turns it off.
 */
export class AccessLog {
  private second = Number.NaN;
  private inSecond = 0;
  private logged = 0;
  private dropped = new Map<number, number>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    readonly rate: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(rate) || rate < 0) throw new RangeError(`the access log rate must be a whole number >= 0, got ${rate}`);
  }

  write(entry: AccessEntry): void {
    if (this.rate === 0) return;
    const second = Math.floor(this.now() / 1000);
    if (second !== this.second) {
      this.flush();
      this.second = second;
      this.inSecond = 0;
      this.logged = 0;
    }
    this.inSecond += 1;
    const keep = this.inSecond <= this.rate || (this.inSecond - this.rate) % this.rate === 0 || entry.status >= 500;
    if (!keep) {
      this.dropped.set(entry.status, (this.dropped.get(entry.status) ?? 0) + 1);
      // Traffic may stop right here: the summary must not wait for the next check.
      this.flushTimer ??= setTimeout(() => this.flush(), (second + 1) * 1000 - this.now()).unref();
      return;
    }
    this.logged += 1;
    this.logger.log(entry.status >= 500 ? 'warn' : 'info', 'check', {
      id: entry.id,
      ...(entry.method ? { method: entry.method } : {}),
      ...(entry.route ? { route: entry.route } : {}),
      status: entry.status,
      ...(entry.code ? { code: entry.code } : {}),
      ...(entry.label ? { label: entry.label } : {}),
      latency_ms: Math.round(entry.latencyMs * 10) / 10,
    });
  }

  /** Writes the summary of the second in progress if it dropped lines (also on shutdown). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.dropped.size === 0) return;
    const byStatus: Record<string, number> = {};
    let total = 0;
    for (const [status, n] of [...this.dropped].sort(([a], [b]) => a - b)) {
      byStatus[String(status)] = n;
      total += n;
    }
    this.dropped = new Map();
    this.logger.log('info', 'access log sampled', {
      second: new Date(this.second * 1000).toISOString(),
      logged: this.logged,
      dropped: total,
      dropped_by_status: byStatus,
    });
  }
}
