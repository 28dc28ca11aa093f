/** Where the CLI writes: injectable, so tests run commands in-process and read what they print. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Details of an internal failure, shown only with OFA_VE_DEBUG=1 (never a stack by default). */
  debug(err: unknown): void;
}

export const processIo: CliIo = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  debug: (err) => {
    if (process.env.OFA_VE_DEBUG === '1') process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  },
};
