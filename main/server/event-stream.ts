import type { IncomingMessage, ServerResponse } from 'node:http';
import { whenResponseDone } from './response-lifetime.ts';

export interface EventStreamOptions {
  /** How often every stream gets a tick. */
  readonly intervalMs: number;
  /**
   * A stream whose last event is still unsent this long is cut off: its client stopped reading
   * (a paused tab reconnects when it wakes; the UI's stream reader does).
   */
  readonly stallLimitMs: number;
}

export const DEFAULT_EVENT_STREAM_OPTIONS: EventStreamOptions = { intervalMs: 1000, stallLimitMs: 15_000 };

interface Stream {
  readonly res: ServerResponse;
  readonly window: number;
  /** When the stream last had nothing left unsent. */
  caughtUpAt: number;
  dropped: number;
}

/**
 * GET /api/v1/events: server-sent stats ticks, with backpressure. Every stream of a window gets the
 * same bytes (one Buffer per window per tick, serialised once, referenced by every pending write),
 * and a stream whose previous tick has not left the process yet skips this one: a client that
 * never reads holds at most one tick, and is cut off after `stallLimitMs`. So the process holds a
 * few shared ticks and a small fixed cost per stream, whatever the clients do. (Before that, the
 * kernel takes up to its socket send buffer, tcp_wmem's maximum, per connection.)
 */
export class StatsEventStreams {
  private readonly streams = new Set<Stream>();
  private readonly timer: NodeJS.Timeout;
  /** The tick sent for each window, keyed by the document it was made from (reused while it is). */
  private readonly encoded = new Map<number, { doc: unknown; bytes: Buffer }>();
  private ticks = { sent: 0, dropped: 0, cutOff: 0 };

  constructor(
    private readonly documentFor: (window: number) => unknown,
    private readonly options: EventStreamOptions = DEFAULT_EVENT_STREAM_OPTIONS,
  ) {
    this.timer = setInterval(() => this.tick(), options.intervalMs);
    this.timer.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Counts since start: ticks written, skipped for a slow client, streams cut off. */
  get counts(): { sent: number; dropped: number; cutOff: number } {
    return { ...this.ticks };
  }

  open(req: IncomingMessage, res: ServerResponse, window: number): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream: Stream = { res, window, caughtUpAt: performance.now(), dropped: 0 };
    this.streams.add(stream);
    whenResponseDone(req, res, () => this.streams.delete(stream));
    this.send(stream, this.bytesFor(window));
  }

  /** Ends every stream (shutdown): each client sees its stream end cleanly. */
  closeAll(): void {
    for (const stream of this.streams) stream.res.end();
    this.streams.clear();
  }

  stop(): void {
    clearInterval(this.timer);
    this.closeAll();
  }

  private tick(): void {
    if (this.streams.size === 0) {
      this.encoded.clear();
      return;
    }
    const now = performance.now();
    const windows = new Map<number, Buffer>();
    for (const stream of this.streams) {
      const { res } = stream;
      if (res.writableLength > 0) {
        // The last tick is still waiting for the client: skip this one, and give up on a client
        // that has not read for too long.
        stream.dropped += 1;
        this.ticks.dropped += 1;
        if (now - stream.caughtUpAt > this.options.stallLimitMs) {
          this.ticks.cutOff += 1;
          this.streams.delete(stream);
          res.destroy();
        }
        continue;
      }
      stream.caughtUpAt = now;
      let bytes = windows.get(stream.window);
      if (!bytes) {
        bytes = this.bytesFor(stream.window);
        windows.set(stream.window, bytes);
      }
      this.send(stream, bytes);
    }
  }

  private send(stream: Stream, bytes: Buffer): void {
    if (stream.res.destroyed || stream.res.writableEnded) return;
    stream.res.write(bytes);
    this.ticks.sent += 1;
  }

  private bytesFor(window: number): Buffer {
    const doc = this.documentFor(window);
    const cached = this.encoded.get(window);
    if (cached && cached.doc === doc) return cached.bytes;
    const bytes = Buffer.from(`event: stats\ndata: ${JSON.stringify(doc)}\n\n`);
    this.encoded.set(window, { doc, bytes });
    return bytes;
  }
}
