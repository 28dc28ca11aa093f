/**
 * The bicubic resize on WebAssembly SIMD (kernels written in bicubic-simd-kernels.ts, loaded from their
 * binary in bicubic-simd-binary.ts, which `npm run simd:kernels` assembles with wabt): the same integers as
 * Pillow and as bicubic-resize-js.ts, in 7 to 12 times less CPU time than the latter and 2.8 to 4.4
 * times less than Pillow 9.4 (photos of 640x480 to 4000x3000 to 480x480; bench/resize-vs-pillow.ts).
 *
 * Flow, for a resize that needs both passes: source rows yFirst..yLast (those the vertical pass
 * reads, as Pillow does) are copied into the module's memory four at a time, transposed and
 * resampled horizontally into a ring of intermediate rows; as soon as the ring holds the whole
 * window of the next output row, that row is made. Memory is the ring (the vertical kernel's size
 * plus a block, in rows of the output width), one block of source rows and its transpose, and the
 * output: bounded by the output and the source width, never by the source height.
 *
 * The same module normalises RGB bytes to float32 CHW planes (normalize-chw.ts holds the contract):
 * resizeNormalizeChwSimd runs it on the resize's output where the vertical pass left it, a chunk of
 * pixels at a time, each chunk's planes copied into the caller's tensor while still in cache.
 *
 * One instance per thread (module state); calls are synchronous, so they never interleave.
 *
 * OFA_VE_RESIZE=js in the environment turns the kernels off, so the plain JavaScript resize and the
 * table normalisation run instead (the same bytes and floats): to rule the kernels out when
 * debugging, and for the pipeline bench's baseline of the serial design as issue 16 found it.
 */
import { RESIZE_KERNELS_WASM_BASE64 } from './bicubic-simd-binary.ts';
import { precomputeBicubicCoefficients, type AxisCoefficients, type BicubicResize } from './bicubic-coefficients.ts';

/**
 * The parts of the WebAssembly JS API used here. The main process's TypeScript libs (ES2023 + node)
 * do not declare WebAssembly, so it is reached through globalThis, which also covers a runtime
 * without it (the JavaScript resize is then used).
 */
interface WasmApi {
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface Kernels {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  transpose4(src: number, len: number, dst: number): void;
  hpass3(t: number, coefs: number, bounds: number, outWidth: number, ksize: number, dst: number, stride: number): void;
  hpassN(t: number, coefs: number, bounds: number, outWidth: number, ksize: number, ch: number, dst: number, stride: number): void;
  vpass(lines: number, coefs: number, count: number, len: number, dst: number): void;
  normalize3: NormalizeKernel;
  normalize3Reciprocal: NormalizeKernel;
}

/** normalize3's signature: pixels at `src`, planes at `dst`, then the means and the stds (or their reciprocals). */
type NormalizeKernel = (
  src: number,
  n: number,
  dst: number,
  m0: number,
  m1: number,
  m2: number,
  s0: number,
  s1: number,
  s2: number,
) => void;

/** Rows resampled horizontally per kernel call (the four i32 lanes). */
const BLOCK = 4;
const PAGE = 65536;
/** Pixels normalised per kernel call: their planes (12 bytes a pixel) stay in the core's cache until copied out. */
const NORMALIZE_CHUNK = 16384;

let kernels: Kernels | null | undefined;
let unavailableReason = '';

/** The instantiated kernels, or null where WebAssembly SIMD is unavailable (the reason is kept). */
function getKernels(): Kernels | null {
  if (kernels === undefined) {
    try {
      if (process.env.OFA_VE_RESIZE === 'js') throw new Error('turned off by OFA_VE_RESIZE=js');
      const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
      if (!wasm) throw new Error('this runtime has no WebAssembly');
      const binary = Uint8Array.from(Buffer.from(RESIZE_KERNELS_WASM_BASE64, 'base64'));
      kernels = new wasm.Instance(new wasm.Module(binary)).exports as Kernels;
    } catch (err) {
      kernels = null;
      unavailableReason = (err as Error).message;
    }
  }
  return kernels;
}

/** Whether the SIMD resize can run here; otherwise why not. */
export function simdResizeAvailability(): { available: true } | { available: false; reason: string } {
  return getKernels() ? { available: true } : { available: false, reason: unavailableReason };
}

const align16 = (n: number): number => (n + 15) & ~15;

/** Lays out regions of the given sizes (each 16-byte aligned) and grows the memory to hold them. */
function allocate(k: Kernels, sizes: number[]): number[] {
  let at = 0;
  const offsets = sizes.map((size) => {
    const o = at;
    at = align16(at + size);
    return o;
  });
  const have = k.memory.buffer.byteLength;
  if (at > have) k.memory.grow(Math.ceil((at - have) / PAGE));
  return offsets;
}

/** `[start, count]` per output index, as the horizontal kernels read them. */
function bounds(c: AxisCoefficients): Int32Array {
  const out = new Int32Array(c.start.length * 2);
  for (let i = 0; i < c.start.length; i++) {
    out[2 * i] = c.start[i]!;
    out[2 * i + 1] = c.count[i]!;
  }
  return out;
}

function requireKernels(): Kernels {
  const k = getKernels();
  if (!k) throw new Error(`WebAssembly SIMD kernels unavailable: ${unavailableReason}`);
  return k;
}

/**
 * The resize of an image that needs either pass or both, made in the module's memory. Returns the
 * address of the output there, and the addresses of regions of the sizes `extra` laid out after
 * the resize's, for the caller.
 */
function resizeInMemory(
  k: Kernels,
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  extra: number[],
): { output: number; extra: number[] } {
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;

  const len = width * channels;
  const rowLen = (needHorizontal ? outWidth : width) * channels;
  const horiz = needHorizontal ? precomputeBicubicCoefficients(width, outWidth) : undefined;
  const vert = needVertical ? precomputeBicubicCoefficients(height, outHeight) : undefined;
  const yFirst = vert ? vert.start[0]! : 0;
  const yLast = vert ? vert.start[outHeight - 1]! + vert.count[outHeight - 1]! : height;
  // Ring of intermediate rows: a window plus the block being made (rows older than any window
  // still to come are overwritten; see the note at the loop). A multiple of BLOCK, so a block's
  // rows take consecutive slots.
  const ringRows = vert ? Math.ceil((vert.ksize + BLOCK) / BLOCK) * BLOCK : BLOCK;
  const stride = align16(rowLen + 4); // hpass3 stores 4 bytes for the last pixel; vpass reads 16 at a time
  const outLen = rowLen * outHeight;

  const [coefH, boundsH, coefV, lines, srcBlock, transposed, ring, outArea, ...extraAt] = allocate(k, [
    horiz ? horiz.coeffs.length * 4 : 0,
    horiz ? outWidth * 8 : 0,
    vert ? vert.coeffs.length * 4 : 0,
    vert ? vert.ksize * 4 : 0,
    needHorizontal ? BLOCK * len + 16 : 0,
    needHorizontal ? align16(len) * 16 : 0,
    ringRows * stride,
    outLen + 16,
    ...extra,
  ]) as [number, number, number, number, number, number, number, number, ...number[]];
  const heap = new Uint8Array(k.memory.buffer);
  const heap32 = new Int32Array(k.memory.buffer);
  if (horiz) {
    heap32.set(horiz.coeffs, coefH / 4);
    heap32.set(bounds(horiz), boundsH / 4);
  }
  if (vert) heap32.set(vert.coeffs, coefV / 4);

  let nextOut = 0;
  for (let y0 = yFirst; y0 < yLast; y0 += BLOCK) {
    const n = Math.min(BLOCK, yLast - y0);
    const blockRow = ring + ((y0 - yFirst) % ringRows) * stride;
    if (horiz) {
      // A short last block leaves stale rows in srcBlock: their results land in ring slots of
      // rows past yLast, which no window reads.
      heap.set(src.subarray(y0 * len, (y0 + n) * len), srcBlock);
      k.transpose4(srcBlock, len, transposed);
      if (channels === 3) k.hpass3(transposed, coefH, boundsH, outWidth, horiz.ksize, blockRow, stride);
      else k.hpassN(transposed, coefH, boundsH, outWidth, horiz.ksize, channels, blockRow, stride);
    } else {
      for (let j = 0; j < n; j++) heap.set(src.subarray((y0 + j) * len, (y0 + j + 1) * len), blockRow + j * stride);
    }
    if (!vert) {
      // No vertical pass: the block's rows are the output's, moved within the module's memory.
      for (let j = 0; j < n; j++) heap.copyWithin(outArea + (y0 + j) * rowLen, blockRow + j * stride, blockRow + j * stride + rowLen);
      continue;
    }
    // Output rows whose window is now complete. Each was incomplete before this block, so its
    // window starts after y0 - ksize, while this block overwrote only rows up to y0 + 3 - ringRows
    // <= y0 - ksize - 1: every row of the window is still in the ring.
    const produced = y0 + n;
    while (nextOut < outHeight && vert.start[nextOut]! + vert.count[nextOut]! <= produced) {
      const s = vert.start[nextOut]!;
      const count = vert.count[nextOut]!;
      for (let t = 0; t < count; t++) heap32[lines / 4 + t] = ring + ((s + t - yFirst) % ringRows) * stride;
      k.vpass(lines, coefV + nextOut * vert.ksize * 4, count, rowLen, outArea + nextOut * rowLen);
      nextOut++;
    }
  }
  return { output: outArea, extra: extraAt };
}

/**
 * Pillow's 8-bit BICUBIC resize on SIMD kernels. Arguments are checked by the caller
 * (resizeBicubicPil); throws when the kernels are unavailable (see simdResizeAvailability).
 */
export const resizeBicubicSimd: BicubicResize = (src, width, height, channels, outWidth, outHeight) => {
  const k = requireKernels();
  if (outWidth === width && outHeight === height) return src.slice();
  const { output } = resizeInMemory(k, src, width, height, channels, outWidth, outHeight, []);
  return new Uint8Array(k.memory.buffer, output, outWidth * channels * outHeight).slice();
};

/**
 * normalize3 over the `pixels` RGB pixels at `src` in the module's memory, `NORMALIZE_CHUNK` at a
 * time into `planes` (room for a chunk's three planes), each chunk's planes copied into `out`.
 */
function normalizeInMemory(
  k: Kernels,
  src: number,
  pixels: number,
  planes: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  // Multiplying by 1/std is dividing by std, bit for bit, when 1/std is exact in float32 (a power of two,
  // as OFA's 0.5): both are the one correctly rounded float of the same real number; and cheaper.
  const s = std.map((v) => Math.fround(v));
  const r = s.map((v) => Math.fround(1 / v));
  const exact = r.every((v, c) => v * s[c]! === 1); // float64 holds the 48-bit product exactly
  const [kernel, d] = exact ? [k.normalize3Reciprocal, r] : [k.normalize3, s];
  const floats = new Float32Array(k.memory.buffer);
  for (let at = 0; at < pixels; at += NORMALIZE_CHUNK) {
    const n = Math.min(NORMALIZE_CHUNK, pixels - at);
    kernel(src + at * 3, n, planes, mean[0]!, mean[1]!, mean[2]!, d[0]!, d[1]!, d[2]!);
    for (let c = 0; c < 3; c++) out.set(floats.subarray(planes / 4 + c * n, planes / 4 + (c + 1) * n), offset + c * pixels + at);
  }
}

/** Bytes of the planes of one chunk of normalize3's output. */
const planesBytes = (pixels: number): number => Math.min(pixels, NORMALIZE_CHUNK) * 12;

/**
 * Normalisation of interleaved RGB to float32 CHW on the SIMD kernel normalize3: writes
 * `((v / 255) - mean[c]) / std[c]` (float32 operations) of `rgb`'s `pixels` pixels into `out` at
 * `offset`, channel planes one after the other. The planes are made in the module's memory a
 * chunk at a time (they stay in the core's cache) and copied into `out`. Arguments are checked by
 * the caller (normalize-chw.ts); throws when the kernels are unavailable.
 */
export function normalizeChwSimd(
  rgb: Uint8Array,
  pixels: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  const k = requireKernels();
  const [src, planes] = allocate(k, [pixels * 3, planesBytes(pixels)]) as [number, number];
  new Uint8Array(k.memory.buffer, src, pixels * 3).set(rgb.subarray(0, pixels * 3));
  normalizeInMemory(k, src, pixels, planes, mean, std, out, offset);
}

/**
 * resizeBicubicSimd of an RGB image to `size` x `size`, then normalizeChwSimd, with the resized
 * pixels read where the resize left them in the module's memory: neither a resized copy nor its
 * allocation. Arguments are checked by the caller (normalize-chw.ts).
 */
export function resizeNormalizeChwSimd(
  src: Uint8Array,
  width: number,
  height: number,
  size: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  const k = requireKernels();
  const pixels = size * size;
  // Already the size: nothing to resize (Pillow returns a copy), the pixels are normalised as they are.
  if (width === size && height === size) return normalizeChwSimd(src, pixels, mean, std, out, offset);
  const { output, extra } = resizeInMemory(k, src, width, height, 3, size, size, [planesBytes(pixels)]);
  normalizeInMemory(k, output, pixels, extra[0]!, mean, std, out, offset);
}
