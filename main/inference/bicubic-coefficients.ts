/**
 * Pillow's bicubic weights (`precompute_coeffs` + `normalize_coeffs_8bpc` in
 * src/libImaging/Resample.c) and its fixed-point constants, shared by the resize implementations.
 */

/**
 * A Pillow 8-bit BICUBIC resize of an interleaved `width` x `height` x `channels` image to
 * `outWidth` x `outHeight`, into a new buffer: what each implementation and pil-bicubic-resize.ts' entry points are.
 */
export type BicubicResize = (
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
) => Uint8Array;

/** Pillow's PRECISION_BITS for 8-bit images: weights are fixed point with 22 fractional bits. */
export const PRECISION_BITS = 32 - 8 - 2;
/** Every accumulator starts here (rounding to nearest on the final `>> PRECISION_BITS`). */
export const ROUNDING = 1 << (PRECISION_BITS - 1);
const FIXED_ONE = 1 << PRECISION_BITS;
const BICUBIC_SUPPORT = 2.0;

/** Pillow's `bicubic_filter` (a = -0.5). */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/** C's `(int)d` for the values that occur here: truncation toward zero. */
function cInt(d: number): number {
  return Math.trunc(d);
}

/**
 * Fixed-point coefficient table for one axis, as `precompute_coeffs` + `normalize_coeffs_8bpc`
 * produce it: for output index i, taps `coeffs[i*ksize .. i*ksize+count[i])` apply to source
 * indices `start[i] ..`.
 */
export interface AxisCoefficients {
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  coeffs: Int32Array;
}

export function precomputeBicubicCoefficients(inSize: number, outSize: number): AxisCoefficients {
  // box = (0, 0, inSize, ...): in0 = 0, in1 = inSize (Pillow passes them as floats; exact here).
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const coeffs = new Int32Array(outSize * ksize);
  const weights = new Float64Array(ksize);
  const ss = 1.0 / filterscale;

  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = cInt(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = cInt(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = bicubicKernel((x + xmin - center + 0.5) * ss);
      weights[x] = w;
      ww += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0.0 ? weights[x]! / ww : weights[x]!;
      // normalize_coeffs_8bpc: round half away from zero, then truncate like (int).
      coeffs[base + x] = k < 0 ? cInt(-0.5 + k * FIXED_ONE) : cInt(0.5 + k * FIXED_ONE);
    }
    // remaining taps stay 0 (Int32Array is zero-filled)
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, coeffs };
}
