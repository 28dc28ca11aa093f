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
 *   clipped intermediate image; then the vertical pass; a pass is skipped when its size is unchanged;
 * - each accumulator starts at 1 << 21 (rounding) and the result is `clip8(acc >> 22)`.
 *
 * Integer ranges: Pillow sums `UINT8 * INT32` into a C `int`. The fixed-point weights of one output
 * pixel sum to about 2^22 and the absolute sum of the bicubic weights is below 1.3 (the negative
 * lobes are small), so |acc| < 255 * 1.3 * 2^22 + 2^21 ≈ 1.4e9 < 2^31: no case relies on wraparound.
 * The loops use `Math.imul` and `| 0` (int32 arithmetic, as in C, and about 20% faster in V8 than
 * plain numbers, which would give the same results since nothing overflows). `>> 22` on an int32 is
 * the same arithmetic shift as in C.
 */

const PRECISION_BITS = 32 - 8 - 2;
const ROUNDING = 1 << (PRECISION_BITS - 1);
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

/** Pillow's clip8: `clip8_lookups[acc >> PRECISION_BITS]` clamped to 0..255. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleHorizontal(
  src: Uint8Array,
  width: number,
  channels: number,
  rowOffset: number,
  rows: number,
  outWidth: number,
  c: AxisCoefficients,
): Uint8Array {
  const out = new Uint8Array(outWidth * rows * channels);
  const { ksize, start, count, coeffs } = c;
  const srcStride = width * channels;
  const outStride = outWidth * channels;
  if (channels === 3) {
    for (let yy = 0; yy < rows; yy++) {
      const rowBase = (yy + rowOffset) * srcStride;
      let o = yy * outStride;
      for (let xx = 0; xx < outWidth; xx++) {
        let kp = xx * ksize;
        const kEnd = kp + count[xx]!;
        let p = rowBase + start[xx]! * 3;
        let s0 = ROUNDING;
        let s1 = ROUNDING;
        let s2 = ROUNDING;
        for (; kp < kEnd; kp++) {
          const k = coeffs[kp]!;
          s0 = (s0 + Math.imul(src[p]!, k)) | 0;
          s1 = (s1 + Math.imul(src[p + 1]!, k)) | 0;
          s2 = (s2 + Math.imul(src[p + 2]!, k)) | 0;
          p += 3;
        }
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
        o += 3;
      }
    }
    return out;
  }
  for (let yy = 0; yy < rows; yy++) {
    const rowBase = (yy + rowOffset) * srcStride;
    for (let xx = 0; xx < outWidth; xx++) {
      const kBase = xx * ksize;
      const n = count[xx]!;
      const pBase = rowBase + start[xx]! * channels;
      const o = yy * outStride + xx * channels;
      for (let ch = 0; ch < channels; ch++) {
        let s = ROUNDING;
        let p = pBase + ch;
        for (let x = 0; x < n; x++) {
          s = (s + Math.imul(src[p]!, coeffs[kBase + x]!)) | 0;
          p += channels;
        }
        out[o + ch] = clip8(s);
      }
    }
  }
  return out;
}

function resampleVertical(
  src: Uint8Array,
  width: number,
  channels: number,
  outHeight: number,
  c: AxisCoefficients,
  startShift: number,
): Uint8Array {
  const rowLen = width * channels;
  const out = new Uint8Array(rowLen * outHeight);
  const { ksize, start, count, coeffs } = c;
  for (let yy = 0; yy < outHeight; yy++) {
    const kBase = yy * ksize;
    const n = count[yy]!;
    const first = (start[yy]! - startShift) * rowLen;
    const o = yy * rowLen;
    // Walk the row left to right; each sample sums over n source rows (cache-friendly enough
    // for n ≤ 2 * ceil(2 * scale) + 1 rows).
    for (let i = 0; i < rowLen; i++) {
      let s = ROUNDING;
      let p = first + i;
      for (let y = 0; y < n; y++) {
        s = (s + Math.imul(src[p]!, coeffs[kBase + y]!)) | 0;
        p += rowLen;
      }
      out[o + i] = clip8(s);
    }
  }
  return out;
}

/**
 * Resizes an interleaved 8-bit image exactly as Pillow's `Image.resize(size, Image.BICUBIC)` does
 * for an 8-bit mode (L, RGB, ...; RGB is what OFA uses). Returns a new interleaved buffer; never
 * returns `src` itself.
 */
export function resizeBicubicPil(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
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
    throw new RangeError(
      `pixel buffer has ${src.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  if (!needHorizontal && !needVertical) return src.slice();

  const vert = precomputeBicubicCoefficients(height, outHeight);
  // First and last source rows the vertical pass reads.
  const yFirst = vert.start[0]!;
  const yLast = vert.start[outHeight - 1]! + vert.count[outHeight - 1]!;

  let img = src;
  let imgWidth = width;
  let shift = 0;
  if (needHorizontal) {
    const horiz = precomputeBicubicCoefficients(width, outWidth);
    // Pillow resamples only rows yFirst..yLast when a vertical pass follows; when it does not,
    // vert's bounds are the identity-size ones and cover every row, so this is the full image.
    img = resampleHorizontal(src, width, channels, yFirst, yLast - yFirst, outWidth, horiz);
    imgWidth = outWidth;
    shift = yFirst;
  }
  if (needVertical) {
    img = resampleVertical(img, imgWidth, channels, outHeight, vert, shift);
  }
  return img;
}
