/**
 * The one poll loop the panels use (usePoll wraps it for React): it asks now, then again
 * `intervalMs` after each answer, so a slow service never has two of its polls at once. Each
 * request gets a sequence number; an answer is taken only from the newest request sent and only
 * while the loop runs, so an older, slower answer (sent before a Refresh, or before the panel's
 * query changed and the loop was replaced) never overwrites a newer one. A request whose answer
 * would be dropped is also cancelled: its AbortSignal aborts when a newer request is sent or the
 * loop stops, so a slow service is not left working for an answer nobody reads.
 */
import { SERVICE_UNAVAILABLE } from './console-client.ts';

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
  /** Sends one request; `signal` aborts once its answer would be dropped (superseded, or the loop stopped). */
  load(signal: AbortSignal): Promise<T>;
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
  /** The request on its way, if any: aborted when it is superseded or the loop stops. */
  private inFlight: AbortController | undefined;
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
    this.abortInFlight();
    const mine = ++this.sequence;
    const controller = new AbortController();
    this.inFlight = controller;
    this.options.onRequest?.();
    let request: Promise<T>;
    try {
      request = this.options.load(controller.signal);
    } catch (error) {
      request = Promise.reject(error);
    }
    request.then(
      (value) => this.settle(mine, { ok: true, value }),
      (error: unknown) => this.settle(mine, { ok: false, error }),
    );
  }

  /** Stops polling; a request still on its way is aborted and its answer dropped. */
  stop(): void {
    this.running = false;
    this.clearTimer();
    this.abortInFlight();
  }

  private settle(mine: number, answer: PollAnswer<T>): void {
    // An aborted request is always superseded or stopped: its AbortError never reaches the panel.
    if (!this.running || mine !== this.sequence) return;
    this.inFlight = undefined;
    this.options.onAnswer(answer);
    this.timer = this.timers.set(() => this.poll(), this.options.intervalMs);
  }

  private abortInFlight(): void {
    this.inFlight?.abort();
    this.inFlight = undefined;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
  }
}

/** A poll that got no answer in time: shown as the service being unreachable (ApiError's code and message). */
export class PollTimeout extends Error {
  readonly code = SERVICE_UNAVAILABLE;
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
    this.name = 'PollTimeout';
  }
}

/** How long a poll may wait: three intervals, at least 15 s (a slow Prometheus answers within 5 s). */
export function pollDeadlineMs(intervalMs: number): number {
  return Math.max(3 * intervalMs, 15_000);
}

/**
 * `load` with a deadline: a request that has not answered within `ms` (a half-dead connection
 * never answers, and the loop only asks again after an answer) is aborted and fails with
 * PollTimeout, so the panel says so and the loop goes on polling.
 */
export function withDeadline<T>(load: (signal: AbortSignal) => Promise<T>, ms: number): (signal: AbortSignal) => Promise<T> {
  return async (signal) => {
    const deadline = new AbortController();
    const request = load(AbortSignal.any([signal, deadline.signal]));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort();
        reject(new PollTimeout(ms));
      }, ms);
    });
    try {
      return await Promise.race([request, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
