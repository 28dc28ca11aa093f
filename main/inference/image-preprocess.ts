/**
 * OFA's image preprocessing: decode to RGB, resize to size x size with Pillow's BICUBIC (aspect
 * ratio not kept), scale to [0, 1], normalise per channel, and lay out as float32 CHW, written in
 * place into a caller's batch tensor when one is given.
 */
import { decodeImageRgb, type ImageLimits } from './image-decode.ts';
import { resizeBicubicPil } from './pil-bicubic-resize.ts';
import { checkRoom, normalizeChw, resizeNormalizeChw } from './normalize-chw.ts';

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
export async function decodeAndResizeImage(bytes: Uint8Array, size: number, limits: ImageLimits): Promise<ResizedImage> {
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
 * correctly rounded when done in float64 and rounded once, so the values match bit for bit), on
 * WebAssembly SIMD where it exists (normalize-chw.ts).
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
  checkRoom(out, offset, 3 * plane);
  normalizeChw(rgb, plane, spec.mean, spec.std, out, offset);
}

/** What decodeResizeNormalize learnt of the upload: ResizedImage without the pixels. */
export type DecodedImageFacts = Omit<ResizedImage, 'data'>;

/**
 * decodeAndResizeImage then writeNormalizedChw into `out` at `offset`, the same values, without the
 * resized image in between (the normalisation reads the resize's output where it is made).
 */
export async function decodeResizeNormalize(
  bytes: Uint8Array,
  spec: ImageSpec,
  limits: ImageLimits,
  out: Float32Array,
  offset: number,
): Promise<DecodedImageFacts> {
  checkRoom(out, offset, 3 * spec.size * spec.size);
  const img = await decodeImageRgb(bytes, limits, { resizeTo: spec.size });
  resizeNormalizeChw(img.data, img.width, img.height, spec.size, spec.mean, spec.std, out, offset);
  return { size: spec.size, sourceWidth: img.width, sourceHeight: img.height, format: img.format };
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
  const target = out ?? new Float32Array(3 * spec.size * spec.size);
  await decodeResizeNormalize(bytes, spec, limits, target, out ? offset : 0);
  return target;
}
