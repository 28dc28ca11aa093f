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
 * image resized to 480 x 480 is 1.4 GB. Here the two passes are fused instead: each intermediate
 * row is made once, added into the int32 accumulators of the few output rows whose window holds it,
 * and dropped. The sums are the same integers (int32 addition is associative and nothing
 * overflows), so the result is bit-for-bit Pillow's, and memory is the output's accumulators
 * (4 bytes a sample) plus one row. Work is still Pillow's (taps x samples); callers bound it from
 * the image header (decode-budget.ts).
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
/** Source rows handled together by the fused vertical pass (see resizeBicubicPil). */
const ROW_BLOCK = 4;

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

/**
 * Horizontal pass over one source row `y` into `out` (`outWidth * channels` bytes): Pillow's
 * ImagingResampleHorizontal_8bpc for that row.
 */
function resampleRow(
  src: Uint8Array,
  width: number,
  channels: number,
  y: number,
  outWidth: number,
  c: AxisCoefficients,
  out: Uint8Array,
): void {
  const { ksize, start, count, coeffs } = c;
  const rowBase = y * width * channels;
  if (channels === 3) {
    let o = 0;
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
    return;
  }
  for (let xx = 0; xx < outWidth; xx++) {
    const kBase = xx * ksize;
    const n = count[xx]!;
    const pBase = rowBase + start[xx]! * channels;
    const o = xx * channels;
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

  const rowLen = (needHorizontal ? outWidth : width) * channels;
  const horiz = needHorizontal ? precomputeBicubicCoefficients(width, outWidth) : undefined;
  if (!needVertical) {
    // Horizontal pass only: every row, straight into the output.
    const out = new Uint8Array(rowLen * height);
    for (let y = 0; y < height; y++) resampleRow(src, width, channels, y, outWidth, horiz!, out.subarray(y * rowLen, (y + 1) * rowLen));
    return out;
  }

  const vert = precomputeBicubicCoefficients(height, outHeight);
  const { ksize, start, count, coeffs } = vert;
  // First and last source rows the vertical pass reads (Pillow resamples only these horizontally).
  const yFirst = start[0]!;
  const yLast = start[outHeight - 1]! + count[outHeight - 1]!;
  const acc = new Int32Array(rowLen * outHeight).fill(ROUNDING);
  const rowBuffers = needHorizontal ? Array.from({ length: ROW_BLOCK }, () => new Uint8Array(rowLen)) : [];
  const lines: Uint8Array[] = new Array<Uint8Array>(ROW_BLOCK);
  // Source rows are taken ROW_BLOCK at a time, so that an output row whose window holds the whole
  // block adds four products per load and store of its accumulator instead of one.
  // The output rows whose window [start, start + count) meets the block form one run from
  // `first`: both window ends are non-decreasing in the output row.
  let first = 0;
  for (let y0 = yFirst; y0 < yLast; y0 += ROW_BLOCK) {
    const n = Math.min(ROW_BLOCK, yLast - y0);
    for (let j = 0; j < n; j++) {
      if (needHorizontal) {
        resampleRow(src, width, channels, y0 + j, outWidth, horiz!, rowBuffers[j]!);
        lines[j] = rowBuffers[j]!;
      } else {
        lines[j] = src.subarray((y0 + j) * rowLen, (y0 + j + 1) * rowLen);
      }
    }
    while (start[first]! + count[first]! <= y0) first++;
    for (let yy = first; yy < outHeight && start[yy]! < y0 + n; yy++) {
      const s = start[yy]!;
      const a = Math.max(y0, s);
      const b = Math.min(y0 + n, s + count[yy]!);
      const kBase = yy * ksize - s;
      const base = yy * rowLen;
      const row = acc.subarray(base, base + rowLen);
      if (b - a === 4) {
        const k0 = coeffs[kBase + a]!;
        const k1 = coeffs[kBase + a + 1]!;
        const k2 = coeffs[kBase + a + 2]!;
        const k3 = coeffs[kBase + a + 3]!;
        const l0 = lines[a - y0]!;
        const l1 = lines[a - y0 + 1]!;
        const l2 = lines[a - y0 + 2]!;
        const l3 = lines[a - y0 + 3]!;
        // Exact: each product is below 2^31 and the sum of four plus the accumulator below 2^53.
        for (let i = 0; i < rowLen; i++) {
          row[i] = (row[i]! + Math.imul(l0[i]!, k0) + Math.imul(l1[i]!, k1) + Math.imul(l2[i]!, k2) + Math.imul(l3[i]!, k3)) | 0;
        }
        continue;
      }
      for (let y = a; y < b; y++) {
        const k = coeffs[kBase + y]!;
        const line = lines[y - y0]!;
        for (let i = 0; i < rowLen; i++) row[i] = (row[i]! + Math.imul(line[i]!, k)) | 0;
      }
    }
  }
  const out = new Uint8Array(rowLen * outHeight);
  for (let i = 0; i < out.length; i++) out[i] = clip8(acc[i]!);
  return out;
}
