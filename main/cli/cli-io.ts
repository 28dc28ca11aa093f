import { fstatSync } from 'node:fs';
import { writeIfOpen } from '../logging/stdio-guard.ts';

/** Where the CLI writes: injectable, so tests run commands in-process and read what they print. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Details of an internal failure, shown only with OFA_VE_DEBUG=1 (never a stack by default). */
  debug(err: unknown): void;
}

/** The process's own streams; main() guards them before any command runs (stdio-guard.ts). */
export const processIo: CliIo = {
  stdout: (line) => writeIfOpen(process.stdout, `${line}\n`),
  stderr: (line) => writeIfOpen(process.stderr, `${line}\n`),
  debug: (err) => {
    if (process.env.OFA_VE_DEBUG === '1') writeIfOpen(process.stderr, `${err instanceof Error ? err.stack : String(err)}\n`);
  },
};

/** Sends one item, calling `done` once it is written, or with the error that stopped it. */
export type Sender<T> = (item: T, done: (err?: Error | null) => void) => void;

/**
 * Output whose loss must stop the command (`check --batch` results): unlike processIo, a failed
 * write is reported (once, to onFailure) and counted out, never dropped silently.
 */
export class CheckedOutput<T> {
  private pending = 0;
  private waiting: (() => void)[] = [];
  private failed: Error | undefined;
  private sent = 0;

  constructor(
    private readonly send: Sender<T>,
    private readonly onFailure: (err: Error) => void,
  ) {}

  /** The first failed write, once known. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Items whose write completed. */
  get written(): number {
    return this.sent;
  }

  /** Sends the item unless a write has failed; false once one has (a sender may fail at once). */
  write(item: T): boolean {
    if (this.failed) return false;
    this.pending += 1;
    this.send(item, (err) => {
      this.pending -= 1;
      if (!err) this.sent += 1;
      else if (!this.failed) {
        this.failed = err;
        this.onFailure(err);
      }
      if (this.pending === 0) for (const resolve of this.waiting.splice(0)) resolve();
    });
    return !this.failed;
  }

  /** Resolves once every write so far has completed or failed (then `written` is final). */
  settled(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** Lines to stdout through a Sender: the process's stdout reports EPIPE; an injected io never fails. */
export function stdoutSender(io: CliIo): Sender<string> {
  if (io !== processIo) {
    return (line, done) => {
      io.stdout(line);
      done();
    };
  }
  return (line, done) => {
    const out = process.stdout;
    // Closed by an earlier failed write (stdio-guard keeps its 'error' event harmless).
    if (out.destroyed || !out.writable) done(Object.assign(new Error('stdout is closed'), { code: 'EPIPE' }));
    else out.write(`${line}\n`, done);
  };
}

/** Whether stdout and stderr are one terminal: lines to stdout must then make way for the progress bar. */
export function stdoutSharesStderrTerminal(io: CliIo): boolean {
  if (io !== processIo || !process.stdout.isTTY || !process.stderr.isTTY) return false;
  try {
    const [out, err] = [fstatSync(1), fstatSync(2)];
    return out.dev === err.dev && out.ino === err.ino && out.rdev === err.rdev;
  } catch {
    return false;
  }
}
