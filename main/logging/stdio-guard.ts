/**
 * Logging must never take the process down. When stdout or stderr is a pipe whose reader has gone
 * (`ofa-ve serve | head -1`, a log shipper that restarted), the next write fails with EPIPE, which
 * a stream reports as an 'error' event: with no listener, that is an uncaught exception. Every
 * write path (our loggers, console.*, a library) ends in these two streams, so the guard is on the
 * streams themselves: a permanent listener each, attached once at start-up. A listener count is not
 * enough to tell whether one is there: tsx's loader pipes into stdout and so adds its own, which
 * removes itself and re-emits the error when the pipe breaks.
 */
const guarded = new WeakSet<NodeJS.WritableStream>();

/** Once closed, a stream stays closed: writes to it are dropped silently from then on. */
function guard(stream: NodeJS.WritableStream | undefined): void {
  if (!stream || guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', () => {});
}

/** Makes a closed stdout or stderr harmless for the rest of the process's life. */
export function guardStdio(): void {
  guard(process.stdout);
  guard(process.stderr);
}

/** Writes unless the stream is closed; never throws and never emits an unhandled error. */
export function writeIfOpen(stream: NodeJS.WriteStream, text: string): void {
  guard(stream);
  if (!stream.writable || stream.destroyed) return;
  try {
    stream.write(text);
  } catch {
    // A stream that throws instead of emitting (a closed handle): the line is lost, the process lives.
  }
}
