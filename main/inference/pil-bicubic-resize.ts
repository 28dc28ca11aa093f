/**
 * A bit-exact port of Pillow's 8-bit BICUBIC resampler (`ImagingResample` in
 * src/libImaging/Resample.c, unchanged in substance from Pillow 7 to 11), so that the pixels the
 * model sees match OFA's `Image.resize((size, size), Image.BICUBIC)`.
 *
 * Pillow's algorithm, reproduced step by step:
 * - a separable convolution with the cubic kernel a = -0.5, support 2, widened by the scale factor
 *   when downscaling (filterscale = max(in/out, 1)), so downscaling is antialiased;
 * - per output pixel, source taps xmin..xmin+count with xmin = (int)(center - support + 0.5) and
 *   xmax = (int)(center + support + 0.5), clipped to the image; the weights are normalised to sum 1;
 * - weights converted to fixed point with PRECISION_BITS = 22, rounding half away from zero;
 * - horizontal pass first, over only the source rows the vertical pass will read, into an 8-bit
 *   clipped intermediate image; then the vertical pass; a pass is skipped when its size is unchanged
 *   (Pillow always runs them in this order, whatever the shape, so this port must too);
 * - each accumulator starts at 1 << 21 (rounding) and the result is `clip8(acc >> 22)`.
 *
 * Memory: Pillow keeps the whole intermediate image (`rows x outWidth`), which for a 1 x 1,000,000
 * image resized to 480 x 480 is 1.4 GB. Here the two passes are fused instead, each intermediate
 * row made once. The JavaScript implementation adds it into the int32 accumulators of the few
 * output rows whose window holds it, then drops it (memory: the output's accumulators, 4 bytes a
 * sample, plus a few rows); the SIMD one keeps a ring of the last ksize + 4 intermediate rows and
 * makes each output row as soon as its window is in the ring. The sums are the same integers
 * (int32 addition is associative and nothing overflows), so the result is bit-for-bit Pillow's.
 * Work is still Pillow's (taps x samples); callers bound it from the image header (decode-budget.ts).
 *
 * Integer ranges: Pillow sums `UINT8 * INT32` into a C `int`. The fixed-point weights of one output
 * pixel sum to about 2^22 and the absolute sum of the bicubic weights is below 1.3 (the negative
 * lobes are small), so |acc| < 255 * 1.3 * 2^22 + 2^21 ≈ 1.4e9 < 2^31: no case relies on wraparound.
 * The loops use `Math.imul` and `| 0` (int32 arithmetic, as in C, and about 20% faster in V8 than
 * plain numbers, which would give the same results since nothing overflows). `>> 22` on an int32 is
 * the same arithmetic shift as in C.
 *
 * Two implementations compute these same integers: WebAssembly SIMD kernels (bicubic-simd.ts,
 * four source rows per instruction in the horizontal pass, 16 samples in the vertical one), used
 * wherever WebAssembly SIMD exists (Node 16.4+, Electron), and the plain JavaScript one
 * (bicubic-resize-js.ts), the fallback and the reference the kernels are tested against.
 */

import { resizeBicubicJs as resizePlain } from './bicubic-resize-js.ts';
import { resizeBicubicSimd, simdResizeAvailability } from './bicubic-simd.ts';
import type { BicubicResize } from './bicubic-coefficients.ts';

export { bicubicKernel, precomputeBicubicCoefficients, type AxisCoefficients, type BicubicResize } from './bicubic-coefficients.ts';
export { simdResizeAvailability };

/** Throws a RangeError unless the arguments describe a valid resize (resizeBicubicPil's checks). */
export function checkResizeArguments(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): void {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
    ['channels', channels],
    ['outWidth', outWidth],
    ['outHeight', outHeight],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (src.length !== width * height * channels) {
    throw new RangeError(`pixel buffer has ${src.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
}

/** The resize's implementations: WebAssembly SIMD kernels, or plain JavaScript (the reference). */
export type ResizeBackend = 'wasm-simd' | 'js';

/** Which implementation resizeBicubicPil uses in this thread. */
export function resizeBackend(): ResizeBackend {
  return simdResizeAvailability().available ? 'wasm-simd' : 'js';
}

/** `resize` (chosen per call) behind the argument checks: the module's entry points. */
function checked(resize: () => BicubicResize): BicubicResize {
  return (src, width, height, channels, outWidth, outHeight) => {
    checkResizeArguments(src, width, height, channels, outWidth, outHeight);
    return resize()(src, width, height, channels, outWidth, outHeight);
  };
}

/**
 * Resizes an interleaved 8-bit image exactly as Pillow's `Image.resize(size, Image.BICUBIC)` does
 * for an 8-bit mode (L, RGB, ...; RGB is what OFA uses). Returns a new interleaved buffer; never
 * returns `src` itself.
 */
export const resizeBicubicPil: BicubicResize = checked(() => (simdResizeAvailability().available ? resizeBicubicSimd : resizePlain));

/**
 * resizeBicubicPil on the plain JavaScript implementation, whatever this runtime has: the reference
 * that tests and benchmarks hold the SIMD path to.
 */
export const resizeBicubicJs: BicubicResize = checked(() => resizePlain);
