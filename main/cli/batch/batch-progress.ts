/** The figures the progress bar shows. */
export interface ProgressCounts {
  /** Rows finished in this run (answered, refused or failed). */
  readonly done: number;
  /** Rows this run has to give a result. */
  readonly total: number;
  /**
   * Checks still to run: the ETA is these over the rate. Fewer than the rows left when rows repeat
   * an earlier row of the run (they take its outcome, no check of their own).
   */
  readonly checksLeft: number;
  /** Rows of this run refused as bad input so far (recorded). */
  readonly badInput: number;
  /** Rows of this run that failed on our side so far (not recorded: --resume retries them). */
  readonly failed: number;
  /**
   * Rows of this run the model answered: the rate counts these alone, since a bad row is refused at
   * once and would inflate it (and shrink the ETA).
   */
  readonly answered: number;
}

/** m:ss, or h:mm:ss from an hour on. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const BAR_WIDTH = 24;

/**
 * One progress line: done/total, percentage, rate (answers/s since the first check started), ETA,
 * bad input and failed rows (the words of the end-of-run summary, so the two agree). `bar` draws a
 * bar in front (terminals); plain text otherwise (log files).
 */
export function formatProgress(counts: ProgressCounts, elapsedMs: number, options: { bar?: boolean } = {}): string {
  const { done, total, checksLeft, badInput, failed, answered } = counts;
  const fraction = total > 0 ? done / total : 1;
  const rate = elapsedMs > 0 ? answered / (elapsedMs / 1000) : 0;
  const parts = [`${done}/${total} rows (${Math.floor(fraction * 100)}%)`];
  parts.push(answered > 0 ? `${rate.toFixed(rate < 10 ? 1 : 0)} checks/s` : '– checks/s');
  const remaining = total - done;
  if (remaining === 0) parts.push(`took ${formatDuration(elapsedMs / 1000)}`);
  // Every check left is counted as a model answer: bad rows among them only make it longer than it will be.
  else parts.push(`ETA ${answered > 0 && rate > 0 ? formatDuration(checksLeft / rate) : '–'}`);
  parts.push(`${badInput} bad input`, `${failed} failed`);
  const text = parts.join(' · ');
  if (!options.bar) return text;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${text}`;
}

/**
 * Where progress goes: a terminal redraws one line in place; anything else (a log file, CI) gets
 * a plain line every few seconds and never a control character.
 */
export type ProgressOutput =
  | { readonly kind: 'terminal'; write(raw: string): void; columns(): number | undefined }
  | { readonly kind: 'lines'; line(text: string): void };

export interface ProgressOptions {
  /** Between plain lines (default 5 s); a terminal is redrawn every second and on each update. */
  readonly lineIntervalMs?: number;
  readonly now?: () => number;
}

const TERMINAL_REFRESH_MS = 1000;
const TERMINAL_MIN_REDRAW_MS = 100;

/** The progress bar on stderr, and the messages printed above it while it runs. */
export class BatchProgress {
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = -Infinity;
  private drawn = false;
  private readonly now: () => number;
  private readonly lineIntervalMs: number;

  constructor(
    private readonly output: ProgressOutput,
    private readonly counts: () => ProgressCounts,
    options: ProgressOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.lineIntervalMs = options.lineIntervalMs ?? 5000;
  }

  start(): void {
    this.startedAt = this.now();
    this.show();
    const every = this.output.kind === 'terminal' ? TERMINAL_REFRESH_MS : this.lineIntervalMs;
    this.timer = setInterval(() => this.show(), every);
    this.timer.unref();
  }

  /** A row finished: a terminal redraws (at most every 100 ms; at once if cleared); plain lines wait. */
  update(): void {
    if (this.output.kind !== 'terminal' || !this.timer) return;
    if (!this.drawn || this.now() - this.lastDraw >= TERMINAL_MIN_REDRAW_MS) this.show();
  }

  /** A message: above the bar on a terminal (the bar is redrawn under it). */
  log(text: string): void {
    const output = this.output;
    if (output.kind === 'lines') {
      output.line(text);
      return;
    }
    this.above(() => output.write(`${text}\n`));
    if (this.timer) this.show();
  }

  /**
   * Writes whole lines to the terminal the bar is on, through `write` (results on a stdout that is
   * this terminal): the bar is cleared first, so a line never starts after it; update() redraws it.
   */
  above<R>(write: () => R): R {
    if (this.output.kind === 'terminal' && this.drawn) this.output.write('\r\x1b[K');
    this.drawn = false;
    return write();
  }

  /** The final figures, then the bar is left as a finished line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.show();
    if (this.output.kind === 'terminal') this.output.write('\n');
    this.drawn = false;
  }

  private show(): void {
    const text = formatProgress(this.counts(), this.now() - this.startedAt, { bar: this.output.kind === 'terminal' });
    this.lastDraw = this.now();
    if (this.output.kind === 'lines') {
      this.output.line(`progress: ${text}`);
      return;
    }
    const columns = this.output.columns();
    const fitted = columns && text.length >= columns ? text.slice(0, columns - 1) : text;
    this.output.write(`\r${fitted}\x1b[K`);
    this.drawn = true;
  }
}
