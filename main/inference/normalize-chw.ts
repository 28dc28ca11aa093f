/**
 * Normalisation of an interleaved 8-bit RGB image to float32 CHW planes, as torchvision's ToTensor +
 * Normalize compute it: `((v / 255) - mean[c]) / std[c]`, each step rounded to float32.
 *
 * Two implementations give the same floats bit for bit:
 * - a WebAssembly SIMD kernel (normalize3 in bicubic-simd-kernels.ts), used wherever the SIMD
 *   resize runs: de-interleaves 16 pixels at a time and divides and subtracts in f32x4, each lane
 *   an IEEE float32 operation, so correctly rounded (where 1/std is exact in float32, a power of
 *   two, it multiplies by it instead: the same real number, so the same rounded float);
 *   resizeNormalizeChw runs it on the resize's output where the resize left it;
 * - a 256-entry table per channel in JavaScript, the fallback and the reference the kernel is
 *   tested against. Its values are float64 operations rounded once to float32: float32 division
 *   and subtraction done in float64 and rounded give the correctly rounded float32 result (float64
 *   has more than 2 x 24 + 2 bits), so both are the float32 operations.
 */
import { normalizeChwSimd, resizeNormalizeChwSimd, simdResizeAvailability } from './bicubic-simd.ts';
import { checkResizeArguments, resizeBicubicPil } from './pil-bicubic-resize.ts';

/** The signature both implementations share; arguments are checked by their callers (writeNormalizedChw). */
export type NormalizeChw = (
  rgb: Uint8Array,
  pixels: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
) => void;

/** The table implementation: one gather per value from interleaved bytes into each plane. */
export const normalizeChwTable: NormalizeChw = (rgb, pixels, mean, std, out, offset) => {
  for (let c = 0; c < 3; c++) {
    // 256-entry table: one multiply-add per value saved, and identical results for equal bytes.
    const lut = new Float32Array(256);
    const m = Math.fround(mean[c]!);
    const s = Math.fround(std[c]!);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v / 255) - m) / s;
    const base = offset + c * pixels;
    for (let i = 0, p = c; i < pixels; i++, p += 3) out[base + i] = lut[rgb[p]!]!;
  }
};

/** The SIMD kernel where WebAssembly SIMD exists, else the table. */
export const normalizeChw: NormalizeChw = (rgb, pixels, mean, std, out, offset) =>
  (simdResizeAvailability().available ? normalizeChwSimd : normalizeChwTable)(rgb, pixels, mean, std, out, offset);

/** Throws a RangeError unless `out` has room for `floats` values at `offset`. */
export function checkRoom(out: Float32Array, offset: number, floats: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + floats > out.length) {
    throw new RangeError(`tensor of ${out.length} floats has no room for ${floats} values at offset ${offset}`);
  }
}

/**
 * resizeBicubicPil of an RGB image to `size` x `size`, then normalizeChw into `out` at `offset`:
 * on SIMD, the kernel reads the resized pixels in the kernels' memory (no resized copy is made).
 */
export function resizeNormalizeChw(
  src: Uint8Array,
  width: number,
  height: number,
  size: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array,
  offset: number,
): void {
  checkResizeArguments(src, width, height, 3, size, size);
  checkRoom(out, offset, 3 * size * size);
  if (simdResizeAvailability().available) resizeNormalizeChwSimd(src, width, height, size, mean, std, out, offset);
  else normalizeChwTable(resizeBicubicPil(src, width, height, 3, size, size), size * size, mean, std, out, offset);
}
