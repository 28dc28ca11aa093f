/**
 * A compact binary form of duration sketches for the per-minute history: only the occupied bins, as
 * LEB128 varints (key gaps and counts, a byte or two each), the sum as a float64. A minute of a busy
 * slice's latencies (~200 occupied bins) takes ~400 bytes instead of 4 bytes for every bin between
 * its lowest and highest key. Reading checks every field and throws `CorruptDataError` on anything
 * a writer could not have produced, so a damaged file is noticed rather than half-read.
 */
import { MAX_KEY, MIN_KEY, type SketchData, type SketchSum } from './quantile-sketch.ts';

export class CorruptDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDataError';
  }
}

export class ByteWriter {
  private buffer = new Uint8Array(1024);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  /** A non-negative whole number up to 2^53. */
  uint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.buffer[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buffer[this.length++] = n;
  }

  /** A whole number of either sign (zigzag). */
  int(n: number): void {
    this.uint(n < 0 ? -2 * n - 1 : 2 * n);
  }

  f64(n: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, n, true);
    this.length += 8;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;

  constructor(
    private readonly buffer: Uint8Array,
    public offset = 0,
    readonly end = buffer.length,
  ) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  get done(): boolean {
    return this.offset >= this.end;
  }

  uint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.offset >= this.end) throw new CorruptDataError('truncated number');
      const byte = this.buffer[this.offset++]!;
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) return n;
      scale *= 0x80;
    }
    throw new CorruptDataError('number too long');
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  f64(): number {
    if (this.offset + 8 > this.end) throw new CorruptDataError('truncated float');
    const n = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return n;
  }

  /** The next `n` bytes, as a view (not a copy). */
  bytes(n: number): Uint8Array {
    if (n > this.end - this.offset) throw new CorruptDataError('truncated block');
    const out = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
}

/**
 * total count (0: empty, nothing follows), zero count, sum, occupied bins, then the first key
 * (zigzag) and its count, then (key gap − 1, count) for each further bin.
 */
export function writeSketch(w: ByteWriter, data: SketchData | null): void {
  const total = data ? data.zeroCount + data.store.count : 0;
  w.uint(total);
  if (!data || total === 0) return;
  w.uint(data.zeroCount);
  w.f64(data.sum);
  const store = data.store;
  let occupied = 0;
  for (let key = store.minKey; key <= store.maxKey; key++) if ((store.bins[key - store.offset] ?? 0) > 0) occupied++;
  w.uint(occupied);
  let previous: number | undefined;
  for (let key = store.minKey; key <= store.maxKey; key++) {
    const n = store.bins[key - store.offset] ?? 0;
    if (n <= 0) continue;
    if (previous === undefined) w.int(key);
    else w.uint(key - previous - 1);
    w.uint(n);
    previous = key;
  }
}

/** Reads one sketch written by `writeSketch` into `into` (or skips it when null). */
export function readSketch(r: ByteReader, into: SketchSum | null): void {
  const total = r.uint();
  if (total === 0) return;
  const zeros = r.uint();
  const sum = r.f64();
  const occupied = r.uint();
  if (zeros > total || !Number.isFinite(sum) || sum < 0 || occupied > MAX_KEY - MIN_KEY + 1) {
    throw new CorruptDataError('bad sketch header');
  }
  let key = 0;
  let counted = zeros;
  for (let i = 0; i < occupied; i++) {
    key = i === 0 ? r.int() : key + 1 + r.uint();
    const n = r.uint();
    if (key < MIN_KEY || key > MAX_KEY || n === 0) throw new CorruptDataError('bad sketch bin');
    counted += n;
    into?.addBin(key, n);
  }
  if (counted !== total) throw new CorruptDataError('sketch counts do not add up');
  into?.addTotals(zeros, total, sum);
}
