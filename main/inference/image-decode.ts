/**
 * Decoding an uploaded image into 8-bit interleaved RGB with sharp, in the form OFA's
 * `Image.open(src).convert('RGB')` gives (see models/README.md, "Preprocessing"), and turning every
 * way an upload can be wrong into a CheckError with a message meant for a person.
 *
 * Order of checks (cheap first, nothing decoded before the size is known to be acceptable):
 * 1. byte count: empty → INVALID_IMAGE, over `maxBytes` → IMAGE_TOO_LARGE;
 * 2. format sniffed from the leading bytes: one of the supported formats continues; a recognised
 *    other format (SVG, PDF, HTML, BMP, HEIC, ...) → UNSUPPORTED_MEDIA_TYPE; anything else →
 *    INVALID_IMAGE. sharp itself is never asked to guess: its prebuilt libvips would happily
 *    render SVG or read libvips-native formats.
 * 3. an animation or multi-page file is cut to its first frame (first-frame.ts), so that no
 *    decoder walks thousands of frames it will not use;
 * 4. header only (sharp `metadata()`): width x height of the first frame over `maxPixels` (less
 *    for formats that cost more to decode per pixel, decode-budget.ts) → IMAGE_TOO_LARGE before any pixel is decoded (a PNG whose IHDR claims 50000x50000 is turned
 *    away in milliseconds); then the work limits of decode-budget.ts, all IMAGE_TOO_LARGE: a side
 *    over 65535, a resize (when the caller says to what size) that would cost more than the pixel
 *    limit, a JPEG with more progressive scans than its size allows;
 * 5. decode with `failOn: 'warning'` so a truncated or corrupt file fails instead of coming back
 *    padded with grey; `limitInputPixels` repeats the limit inside libvips.
 *
 * Conversions: EXIF orientation applied (a deliberate difference from PIL, which ignores it);
 * first frame of an animation; alpha dropped without compositing (PIL's convert('RGB')); grey
 * replicated to three channels; 16-bit reduced to 8-bit; palette expanded; CMYK converted to sRGB.
 * Embedded ICC profiles are ignored for RGB and grey input (`ignoreIcc`), as PIL's
 * convert('RGB') ignores them, so the pixel values are the ones OFA was trained on.
 */
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { CheckError } from '../errors.ts';
import { checkImagePixels, checkImageSides, checkJpegScans, checkResizeWork, describePixels, formatPixelLimit } from './decode-budget.ts';
import { checkImageFileSize } from './input-size.ts';
import { firstFrameOnly } from './first-frame.ts';
import { FORMAT_LABEL, type SupportedFormat } from './image-format.ts';
import { countJpegScans } from './jpeg-scans.ts';

export interface ImageLimits {
  /** Largest accepted width x height (of the first frame, before EXIF rotation). */
  maxPixels: number;
  /** Largest accepted encoded size in bytes. */
  maxBytes: number;
}

export interface DecodeOptions {
  /**
   * The square size the caller will resize the image to (with resizeBicubicPil): images whose
   * resize would cost more than the pixel limit allows are refused from the header.
   */
  resizeTo?: number;
}

export interface DecodedImage {
  /** Interleaved 8-bit RGB, row-major, `width * height * 3` bytes. */
  data: Uint8Array;
  width: number;
  height: number;
  /** The sniffed container format: jpeg, png, webp, gif, tiff or avif. */
  format: SupportedFormat;
}

export const SUPPORTED_FORMATS_TEXT = 'JPEG, PNG, WebP, GIF, TIFF or AVIF';

/**
 * libvips' strictest setting: any decoder warning fails the decode. 'error' and 'truncated' let a
 * JPEG with corrupt entropy-coded data through (libjpeg reports that as a warning and fills the
 * rest with grey); both reject a file cut short.
 */
const FAIL_ON = 'warning' as const;

/** What the leading bytes say the file is. */
export type SniffResult = { kind: 'supported'; format: SupportedFormat } | { kind: 'unsupported'; name: string } | { kind: 'unknown' };

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < Math.min(to, b.length); i++) s += String.fromCharCode(b[i]!);
  return s;
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1', 'mif2']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const BMP_DIB_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

/** ISO-BMFF `ftyp` box: AVIF when the major or a compatible brand is avif/avis; HEIC for heic-family brands. */
function sniffFtyp(b: Uint8Array): SniffResult | undefined {
  if (ascii(b, 4, 8) !== 'ftyp') return undefined;
  const boxSize = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const end = Math.min(b.length, boxSize >= 16 ? boxSize : 16, 256);
  const brands = [ascii(b, 8, 12)];
  for (let i = 16; i + 4 <= end; i += 4) brands.push(ascii(b, i, i + 4));
  if (brands.some((x) => AVIF_BRANDS.has(x))) return { kind: 'supported', format: 'avif' };
  if (brands.some((x) => HEIF_BRANDS.has(x))) return { kind: 'unsupported', name: 'HEIC/HEIF' };
  if (brands.some((x) => x === 'jxl ')) return { kind: 'unsupported', name: 'JPEG XL' };
  if (brands.some((x) => x === 'jp2 ' || x === 'jpx ')) return { kind: 'unsupported', name: 'JPEG 2000' };
  if (brands.some((x) => x === 'crx ')) return { kind: 'unsupported', name: 'Canon RAW (CR3)' };
  if (brands.some((x) => /^(isom|iso\d|mp4\d|avc1|M4V |M4A |qt {2}|3gp\d|dash)$/.test(x))) {
    return { kind: 'unsupported', name: 'video or audio (MP4/QuickTime)' };
  }
  return undefined;
}

/** Text-based formats: looks past a BOM and leading whitespace/comments at the first tag. */
function sniffText(b: Uint8Array): SniffResult | undefined {
  let i = 0;
  if (startsWith(b, [0xef, 0xbb, 0xbf])) i = 3;
  const head = ascii(b, i, i + 1024).toLowerCase();
  const trimmed = head.replace(/^\s+/, '');
  if (trimmed.startsWith('%pdf-')) return { kind: 'unsupported', name: 'PDF' };
  if (trimmed.startsWith('%!ps')) return { kind: 'unsupported', name: 'PostScript' };
  if (!trimmed.startsWith('<')) return undefined;
  if (/<svg[\s>]/.test(head)) return { kind: 'unsupported', name: 'SVG' };
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<!doctype\s+svg/.test(trimmed)) return { kind: 'unsupported', name: 'SVG' };
  if (/^(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html|head|body|meta|title|script|div|p|a|img|table)[\s>/]/.test(trimmed)) {
    return { kind: 'unsupported', name: 'HTML' };
  }
  if (trimmed.startsWith('<?xml')) return { kind: 'unsupported', name: 'XML' };
  return undefined;
}

/** Identifies a file from its leading bytes. Exported for tests and for upload validation. */
export function sniffImageFormat(b: Uint8Array): SniffResult {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'supported', format: 'jpeg' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'supported', format: 'png' };
  const head6 = ascii(b, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return { kind: 'supported', format: 'gif' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return { kind: 'supported', format: 'webp' };
  if (
    startsWith(b, [0x49, 0x49, 0x2a, 0x00]) ||
    startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(b, [0x49, 0x49, 0x2b, 0x00]) ||
    startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])
  ) {
    return { kind: 'supported', format: 'tiff' };
  }
  const ftyp = sniffFtyp(b);
  if (ftyp) return ftyp;

  // BMP: "BM" then, at offset 14, the size of one of the known DIB headers (a text file that
  // happens to start with "BM" does not have one).
  if (ascii(b, 0, 2) === 'BM' && b.length >= 18 && BMP_DIB_HEADER_SIZES.has(b[14]! | (b[15]! << 8) | (b[16]! << 16) | (b[17]! << 24))) {
    return { kind: 'unsupported', name: 'BMP' };
  }
  // ICO/CUR: reserved 0, type 1 or 2, then a non-zero image count.
  if ((startsWith(b, [0x00, 0x00, 0x01, 0x00]) || startsWith(b, [0x00, 0x00, 0x02, 0x00])) && b.length >= 6 && (b[4]! | b[5]!) !== 0) {
    return { kind: 'unsupported', name: 'ICO/CUR (Windows icon)' };
  }
  if (ascii(b, 0, 4) === '8BPS') return { kind: 'unsupported', name: 'PSD (Photoshop)' };
  if (startsWith(b, [0xff, 0x0a])) return { kind: 'unsupported', name: 'JPEG XL' };
  if (startsWith(b, [0xff, 0x4f, 0xff, 0x51])) return { kind: 'unsupported', name: 'JPEG 2000' };
  if (startsWith(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return { kind: 'unsupported', name: 'JPEG 2000' };
  if (startsWith(b, [0x76, 0x2f, 0x31, 0x01])) return { kind: 'unsupported', name: 'OpenEXR' };
  if (ascii(b, 0, 4) === 'qoif') return { kind: 'unsupported', name: 'QOI' };
  if (ascii(b, 0, 4) === 'DDS ') return { kind: 'unsupported', name: 'DDS' };
  if (ascii(b, 0, 10) === '#?RADIANCE' || ascii(b, 0, 6) === '#?RGBE') return { kind: 'unsupported', name: 'Radiance HDR' };
  if (ascii(b, 0, 9) === 'gimp xcf ') return { kind: 'unsupported', name: 'GIMP XCF' };
  if (/^P[1-7]\s+\d/.test(ascii(b, 0, 16))) return { kind: 'unsupported', name: 'Netpbm (PPM/PGM/PBM)' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'AVI ') return { kind: 'unsupported', name: 'AVI video' };
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'unsupported', name: 'Matroska/WebM video' };
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) return { kind: 'unsupported', name: 'ZIP archive' };

  return sniffText(b) ?? { kind: 'unknown' };
}

/** sharp's metadata().format names for each sniffed format. */
const SHARP_FORMAT: Record<SupportedFormat, readonly string[]> = {
  jpeg: ['jpeg'],
  png: ['png'],
  webp: ['webp'],
  gif: ['gif'],
  tiff: ['tiff'],
  avif: ['heif', 'avif'],
};

/**
 * Rejects an upload from its byte count and leading bytes alone, without decoding anything.
 * Returns the sniffed supported format.
 */
export function checkImageBytes(bytes: Uint8Array, limits: ImageLimits): SupportedFormat {
  if (bytes.length === 0) throw new CheckError('INVALID_IMAGE', 'image file is empty (0 bytes)');
  checkImageFileSize(bytes.length, limits.maxBytes);
  const sniff = sniffImageFormat(bytes);
  if (sniff.kind === 'unsupported') {
    throw new CheckError('UNSUPPORTED_MEDIA_TYPE', `${sniff.name} files are not supported; send a ${SUPPORTED_FORMATS_TEXT} image`);
  }
  if (sniff.kind === 'unknown') {
    throw new CheckError('INVALID_IMAGE', `the file is not a recognisable image (expected ${SUPPORTED_FORMATS_TEXT})`);
  }
  return sniff.format;
}

/** `limitInputPixels: false` for the header read, which must see the size to report it. */
function sharpInput(bytes: Uint8Array, limitInputPixels: number | false): Sharp {
  return sharp(bytes, {
    failOn: FAIL_ON,
    limitInputPixels,
    // libvips' own limits on PNG text chunks and SVG/HEIF sizes stay on (this is the default).
    unlimited: false,
    autoOrient: true,
    pages: 1,
    page: 0,
    ignoreIcc: true,
    sequentialRead: true,
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decodes an uploaded image to 8-bit interleaved RGB (see the module comment for every rule).
 * Throws CheckError: INVALID_IMAGE, IMAGE_TOO_LARGE or UNSUPPORTED_MEDIA_TYPE.
 */
export async function decodeImageRgb(bytes: Uint8Array, limits: ImageLimits, options: DecodeOptions = {}): Promise<DecodedImage> {
  const format = checkImageBytes(bytes, limits);
  const label = FORMAT_LABEL[format];
  const input = firstFrameOnly(bytes, format);

  // Header only: dimensions and the decoder's own idea of the format.
  let meta: Metadata;
  try {
    meta = await sharpInput(input, false).metadata();
  } catch (err) {
    throw new CheckError('INVALID_IMAGE', `the ${label} file is damaged or incomplete and cannot be read`, { cause: err });
  }
  if (!SHARP_FORMAT[format].includes(meta.format)) {
    throw new CheckError('INVALID_IMAGE', `the file looks like ${label} but cannot be read as one`);
  }
  if (format === 'avif' && meta.compression !== undefined && meta.compression !== 'av1') {
    throw new CheckError('UNSUPPORTED_MEDIA_TYPE', `HEIC/HEIF files are not supported; send a ${SUPPORTED_FORMATS_TEXT} image`);
  }
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (!(width > 0 && height > 0)) {
    throw new CheckError('INVALID_IMAGE', `the ${label} file has no pixels (width or height is 0)`);
  }
  checkImagePixels(width, height, limits.maxPixels, format);
  checkImageSides(width, height);
  if (options.resizeTo !== undefined) {
    // EXIF orientations 5-8 swap the sides; the resizer sees the displayed image.
    const swap = (meta.orientation ?? 1) >= 5;
    checkResizeWork(swap ? height : width, swap ? width : height, options.resizeTo, limits.maxPixels);
  }
  if (format === 'jpeg') checkJpegScans(countJpegScans(input), width, height, limits.maxPixels);

  const pixelLimit = formatPixelLimit(format, limits.maxPixels);
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await sharpInput(input, Number.isFinite(pixelLimit) ? Math.max(1, pixelLimit) : false)
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    const msg = errorText(err);
    if (/pixel limit/i.test(msg)) {
      throw new CheckError('IMAGE_TOO_LARGE', `image is larger than the limit of ${describePixels(pixelLimit)}`, {
        cause: err,
      });
    }
    throw new CheckError('INVALID_IMAGE', `the ${label} file is damaged or incomplete and cannot be decoded`, {
      cause: err,
    });
  }
  const { info } = out;
  if (info.channels !== 3 || info.width * info.height * 3 !== out.data.length) {
    throw new CheckError(
      'INTERNAL',
      `decoder returned ${info.width}x${info.height} with ${info.channels} channels; expected 3-channel RGB`,
    );
  }
  const data = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  return { data, width: info.width, height: info.height, format };
}
