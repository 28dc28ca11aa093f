/**
 * The one poll loop the panels use (usePoll wraps it for React): it asks now, then again
 * `intervalMs` after each answer, so a slow service never has two of its polls at once. Each
 * request gets a sequence number; an answer is taken only from the newest request sent and only
 * while the loop runs, so an older, slower answer (sent before a Refresh, or before the panel's
 * query changed and the loop was replaced) never overwrites a newer one.
 */

/** What a request gave: its value, or what it threw. */
export type PollAnswer<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Timers, injectable so that a test can run the loop step by step. */
export interface PollTimers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const GLOBAL_TIMERS: PollTimers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface PollLoopOptions<T> {
  load(): Promise<T>;
  intervalMs: number;
  /** A request was sent (the panel may show that it is loading). */
  onRequest?(): void;
  /** The newest request answered; stale answers never reach it. */
  onAnswer(answer: PollAnswer<T>): void;
  timers?: PollTimers;
}

export class PollLoop<T> {
  /** The sequence number of the newest request sent. */
  private sequence = 0;
  private running = false;
  private timer: unknown;
  private readonly timers: PollTimers;

  constructor(private readonly options: PollLoopOptions<T>) {
    this.timers = options.timers ?? GLOBAL_TIMERS;
  }

  start(): void {
    this.running = true;
    this.poll();
  }

  /** Asks now (also a user's Refresh): an answer still due from an earlier request will be dropped. */
  poll(): void {
    if (!this.running) return;
    this.clearTimer();
    const mine = ++this.sequence;
    this.options.onRequest?.();
    let request: Promise<T>;
    try {
      request = this.options.load();
    } catch (error) {
      request = Promise.reject(error);
    }
    request.then(
      (value) => this.settle(mine, { ok: true, value }),
      (error: unknown) => this.settle(mine, { ok: false, error }),
    );
  }

  /** Stops polling; answers still on their way are dropped. */
  stop(): void {
    this.running = false;
    this.clearTimer();
  }

  private settle(mine: number, answer: PollAnswer<T>): void {
    if (!this.running || mine !== this.sequence) return;
    this.options.onAnswer(answer);
    this.timer = this.timers.set(() => this.poll(), this.options.intervalMs);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }
}
