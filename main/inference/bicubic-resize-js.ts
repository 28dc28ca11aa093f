/**
 * The plain-JavaScript bicubic resize (Pillow's two passes fused row by row; see
 * pil-bicubic-resize.ts for the algorithm and why the sums are exact). It is the fallback where
 * WebAssembly SIMD is missing and the reference the SIMD kernels are tested against.
 * Arguments are checked by the caller (resizeBicubicPil).
 */
import {
  precomputeBicubicCoefficients,
  PRECISION_BITS,
  ROUNDING,
  type AxisCoefficients,
  type BicubicResize,
} from './bicubic-coefficients.ts';

/** Source rows handled together by the fused vertical pass. */
const ROW_BLOCK = 4;

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

/** Pillow's 8-bit BICUBIC resize in plain JavaScript; a new buffer even when nothing changes. */
export const resizeBicubicJs: BicubicResize = (src, width, height, channels, outWidth, outHeight) => {
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
};
