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
