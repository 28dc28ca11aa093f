/** Where the CLI writes: injectable, so tests run commands in-process and read what they print. */
export interface CliIo {
  stdout(line: string): void;
  stderr(line: string): void;
  /** Details of an internal failure, shown only with OFA_VE_DEBUG=1 (never a stack by default). */
  debug(err: unknown): void;
}

/** A closed pipe (`ofa-ve serve | head`, a supervisor gone) must not crash a serving process. */
function ignoreClosedPipe(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (stream.listenerCount('error') === 0) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
  return stream;
}

export const processIo: CliIo = {
  stdout: (line) => {
    const out = ignoreClosedPipe(process.stdout);
    if (out.writable) out.write(`${line}\n`);
  },
  stderr: (line) => {
    const err = ignoreClosedPipe(process.stderr);
    if (err.writable) err.write(`${line}\n`);
  },
  debug: (err) => {
    if (process.env.OFA_VE_DEBUG === '1') process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  },
};
