/**
 * Limits on the work one upload may cause, checked from its header before anything is decoded, so
 * that no image up to the byte limit costs much more than a plain photo at the pixel limit. Each
 * refusal is IMAGE_TOO_LARGE (413) with a message that says which limit and by how much.
 *
 * - Longest side: the resizer's coefficient tables hold ~4 entries per source pixel of a side, so a
 *   10,000,000 x 1 PNG (a few KiB) would need 160 MB of tables. 65535 is also JPEG's own limit.
 * - Resize work: Pillow's BICUBIC resize (which the model's preprocessing must match bit for bit)
 *   always runs its horizontal pass first, over every source row, so a narrow image is first
 *   widened to the output width: a 1 x 1,000,000 PNG of 2 KiB becomes 480 x 1,000,000 samples to
 *   resample (29 s of CPU before the passes were fused). The work is proportional to
 *   max(width, out) x height, which must stay within the pixel limit (or out x out, for small
 *   limits), so the resize costs at most what a maximum-size photo's does.
 * - Progressive JPEG scans: libjpeg makes a pass over a component's blocks for every scan, so the
 *   cost is pixels x scans; a 178 KiB 7000 x 7000 JPEG with ~900 valid scans costs 19 s. Standard
 *   encoders write at most 10-20 scans; allowed here are JPEG_SCAN_BUDGET scans at the pixel limit
 *   (more for smaller images, pro rata) and never more than MAX_JPEG_SCANS (each scan also has a
 *   fixed cost, which matters for tiny images with thousands of scans).
 * - Decoding cost by format: the pixel limit is set for JPEG, and a WebP or AVIF pixel costs several
 *   times a JPEG's to decode (a 1.9 KiB lossless WebP of 16383 x 3000 took 3 s), so those formats
 *   get the pixel limit divided by their cost (DECODE_COST_PER_PIXEL).
 */
import { CheckError } from '../errors.ts';
import { FORMAT_LABEL, type SupportedFormat } from './image-format.ts';
import { sizeAndLimit } from './input-size.ts';

export const MAX_IMAGE_SIDE = 65_535;
/** Scans allowed for an image at the pixel limit; smaller images get proportionally more. */
export const JPEG_SCAN_BUDGET = 32;
/** Scans allowed for any JPEG, however small. */
export const MAX_JPEG_SCANS = 100;

export function describePixels(n: number): string {
  return n >= 100_000 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n} pixels`;
}

/**
 * CPU to decode a pixel, relative to a JPEG photo's (about 19 ms per megapixel on the 2-core
 * reference machine; bench notes, 2026-12-02, sharp 0.34 / libvips 8.17, CPU time of
 * decodeImageRgb): PNG and TIFF 12-33 ms, GIF 13-28, WebP 38-71 (lossy and lossless), AVIF 44-83
 * lossy and 224 lossless. Rounded up, so that the worst accepted file of any format costs about
 * what a JPEG at the pixel limit does (~1 s).
 */
export const DECODE_COST_PER_PIXEL: Readonly<Record<SupportedFormat, number>> = {
  jpeg: 1,
  png: 1,
  tiff: 1,
  gif: 1.5,
  webp: 4,
  avif: 10,
};

/** The largest first frame accepted for `format` under the pixel limit `maxPixels` (set for JPEG). */
export function formatPixelLimit(format: SupportedFormat, maxPixels: number): number {
  return Math.floor(maxPixels / DECODE_COST_PER_PIXEL[format]);
}

/** Refuses an image of more pixels than `format` may have under the pixel limit `maxPixels` (see formatPixelLimit). */
export function checkImagePixels(width: number, height: number, maxPixels: number, format: SupportedFormat = 'jpeg'): void {
  const allowed = formatPixelLimit(format, maxPixels);
  if (width * height <= allowed) return;
  const [size, limit] = sizeAndLimit(width * height, allowed, describePixels, 'pixels');
  const cost = DECODE_COST_PER_PIXEL[format];
  const why = cost > 1 ? ` for ${FORMAT_LABEL[format]} (decoding it costs about ${cost}x a JPEG's per pixel)` : '';
  throw new CheckError('IMAGE_TOO_LARGE', `image is ${width}x${height} pixels (${size}); the limit${why} is ${limit}`);
}

/** Refuses an image with a side longer than MAX_IMAGE_SIDE. */
export function checkImageSides(width: number, height: number): void {
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new CheckError('IMAGE_TOO_LARGE', `image is ${width}x${height} pixels; no side may be longer than ${MAX_IMAGE_SIDE} pixels`);
  }
}

/**
 * Refuses an image whose resize to `outSize` x `outSize` would cost more than the pixel limit
 * allows. `width` and `height` are as displayed (after EXIF orientation), as the resizer sees them.
 */
export function checkResizeWork(width: number, height: number, outSize: number, maxPixels: number): void {
  const work = Math.max(width, outSize) * height;
  const budget = Math.max(maxPixels, outSize * outSize);
  if (work <= budget) return;
  const [size, limit] = sizeAndLimit(work, budget, describePixels, 'pixels');
  throw new CheckError(
    'IMAGE_TOO_LARGE',
    `image is ${width}x${height} pixels, too narrow for its height: resizing it to ${outSize}x${outSize} first widens ` +
      `it to ${outSize} columns, ${size} to process; the limit is ${limit}`,
  );
}

/** Scans allowed for a JPEG of `pixels` pixels under the pixel limit `maxPixels`. */
export function allowedJpegScans(pixels: number, maxPixels: number): number {
  if (!Number.isFinite(maxPixels)) return MAX_JPEG_SCANS;
  return Math.min(MAX_JPEG_SCANS, Math.max(JPEG_SCAN_BUDGET, Math.floor((JPEG_SCAN_BUDGET * maxPixels) / Math.max(1, pixels))));
}

/** Refuses a JPEG with more scans than allowedJpegScans gives for its size. */
export function checkJpegScans(scans: number, width: number, height: number, maxPixels: number): void {
  const allowed = allowedJpegScans(width * height, maxPixels);
  if (scans <= allowed) return;
  throw new CheckError(
    'IMAGE_TOO_LARGE',
    `the JPEG has ${scans} progressive scans and each costs a pass over its ${width}x${height} pixels; ` +
      `the limit at this size is ${allowed} scans (save it as a baseline or standard progressive JPEG)`,
  );
}
