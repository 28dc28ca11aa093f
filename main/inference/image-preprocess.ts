/**
 * OFA's image preprocessing: decode to RGB, resize to size x size with Pillow's BICUBIC (aspect
 * ratio not kept), scale to [0, 1], normalise per channel, and lay out as float32 CHW, written in
 * place into a caller's batch tensor when one is given.
 */
import { decodeImageRgb, type ImageLimits } from './image-decode.ts';
import { resizeBicubicPil } from './pil-bicubic-resize.ts';

export interface ImageSpec {
  /** Output side in pixels (the model's square input, 480 for OFA-VE). */
  size: number;
  /** Per-channel mean and std of the [0, 1] values, RGB order. */
  mean: readonly number[];
  std: readonly number[];
}

export interface ResizedImage {
  /** Interleaved 8-bit RGB, `size * size * 3` bytes. */
  data: Uint8Array;
  size: number;
  /** Decoded size before resizing (after EXIF orientation). */
  sourceWidth: number;
  sourceHeight: number;
  format: string;
}

/** Decode + resize to 8-bit RGB: the exact pixels the model sees, before normalisation. */
export async function decodeAndResizeImage(
  bytes: Uint8Array,
  size: number,
  limits: ImageLimits,
): Promise<ResizedImage> {
  // Told the output size, the decoder refuses shapes whose resize would cost more than the pixel
  // limit allows (a 1 x 1,000,000 strip), before decoding them.
  const img = await decodeImageRgb(bytes, limits, { resizeTo: size });
  const data = resizeBicubicPil(img.data, img.width, img.height, 3, size, size);
  return { data, size, sourceWidth: img.width, sourceHeight: img.height, format: img.format };
}

function checkSpec(spec: ImageSpec): void {
  if (!Number.isInteger(spec.size) || spec.size < 1) throw new RangeError(`image size must be a positive integer, got ${spec.size}`);
  if (spec.mean.length !== 3 || spec.std.length !== 3) throw new RangeError('image mean and std must have 3 values (RGB)');
  if (spec.std.some((s) => !(s !== 0 && Number.isFinite(s)))) throw new RangeError('image std values must be finite and non-zero');
}

/**
 * Writes normalised CHW float32 values of an interleaved RGB image into `out` at `offset`:
 * `out[offset + c*size*size + y*size + x] = (pixel/255 - mean[c]) / std[c]`, each step rounded to
 * float32 as torchvision's ToTensor + Normalize compute it (float32 division and subtraction are
 * correctly rounded when done in float64 and rounded once, so the values match bit for bit).
 */
export function writeNormalizedChw(
  rgb: Uint8Array,
  size: number,
  spec: Pick<ImageSpec, 'mean' | 'std'>,
  out: Float32Array,
  offset: number,
): void {
  const plane = size * size;
  if (rgb.length !== plane * 3) throw new RangeError(`expected ${plane * 3} RGB bytes, got ${rgb.length}`);
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * plane > out.length) {
    throw new RangeError(`tensor of ${out.length} floats has no room for ${3 * plane} values at offset ${offset}`);
  }
  for (let c = 0; c < 3; c++) {
    // 256-entry table: one multiply-add per value saved, and identical results for equal bytes.
    const lut = new Float32Array(256);
    const m = Math.fround(spec.mean[c]!);
    const s = Math.fround(spec.std[c]!);
    for (let v = 0; v < 256; v++) lut[v] = Math.fround(Math.fround(v / 255) - m) / s;
    const base = offset + c * plane;
    for (let i = 0, p = c; i < plane; i++, p += 3) out[base + i] = lut[rgb[p]!]!;
  }
}

/**
 * Full preprocessing of one upload. Returns the tensor it wrote: `out` when given (values at
 * `offset .. offset + 3*size*size`), else a new `[3, size, size]` Float32Array.
 */
export async function preprocessImage(
  bytes: Uint8Array,
  spec: ImageSpec,
  limits: ImageLimits,
  out?: Float32Array,
  offset = 0,
): Promise<Float32Array> {
  checkSpec(spec);
  const resized = await decodeAndResizeImage(bytes, spec.size, limits);
  const target = out ?? new Float32Array(3 * spec.size * spec.size);
  writeNormalizedChw(resized.data, spec.size, spec, target, out ? offset : 0);
  return target;
}
