/**
 * Cuts an animated or multi-page upload down to its first frame before any decoder sees it.
 *
 * Only the first frame is ever used (as PIL's `Image.open` gives it), but libvips still walks every
 * frame to count them, even with `pages: 1`: for animated WebP that walk is quadratic (libwebp's
 * demuxer finds frame i by walking the list from the start), so 18 MiB of 50-byte frames keeps a
 * core busy for minutes; a TIFF with 170,000 chained IFDs costs ~3 s, a GIF with 800,000 frames
 * ~0.25 s. After the cut, the cost is that of the first frame alone, and its pixels are the same:
 * frame 1 of a GIF, WebP animation or TIFF never depends on what follows it.
 *
 * - GIF: everything up to the end of the first image's data, then a trailer byte.
 * - WebP: every chunk but the second and later ANMF (animation frame) chunks, RIFF size rewritten;
 *   the metadata chunks (ICCP, EXIF, XMP) stay, so EXIF orientation still applies.
 * - TIFF and BigTIFF: the first IFD's link to the next one set to 0.
 *
 * A file whose structure cannot be followed is returned unchanged: the decoder then refuses it,
 * and the walk that could have been costly needs a structure it can follow too.
 * The input is never modified; a cut returns a new buffer.
 */
import type { SupportedFormat } from './image-format.ts';

/** Returns `bytes` itself when there is nothing to cut. */
export function firstFrameOnly(bytes: Uint8Array, format: SupportedFormat): Uint8Array {
  switch (format) {
    case 'gif':
      return firstGifFrame(bytes);
    case 'webp':
      return firstWebpFrame(bytes);
    case 'tiff':
      return firstTiffPage(bytes);
    default:
      return bytes;
  }
}

/** End of a chain of GIF data sub-blocks starting at `i` (index after the 0 terminator), or -1. */
function skipSubBlocks(b: Uint8Array, i: number): number {
  while (i < b.length) {
    const size = b[i]!;
    i += 1 + size;
    if (size === 0) return i;
  }
  return -1;
}

function firstGifFrame(b: Uint8Array): Uint8Array {
  if (b.length < 13) return b;
  let i = 13;
  const packed = b[10]!;
  if (packed & 0x80) i += 3 * (1 << ((packed & 7) + 1));
  while (i < b.length) {
    const block = b[i]!;
    if (block === 0x21) {
      const end = skipSubBlocks(b, i + 2);
      if (end < 0) return b;
      i = end;
    } else if (block === 0x2c) {
      if (i + 10 > b.length) return b;
      const imagePacked = b[i + 9]!;
      let j = i + 10;
      if (imagePacked & 0x80) j += 3 * (1 << ((imagePacked & 7) + 1));
      const end = skipSubBlocks(b, j + 1); // after the LZW minimum code size byte
      if (end < 0) return b;
      if (end === b.length || (end === b.length - 1 && b[end] === 0x3b)) return b; // nothing follows
      const out = new Uint8Array(end + 1);
      out.set(b.subarray(0, end));
      out[end] = 0x3b;
      return out;
    } else {
      return b; // trailer before any image, or not a block the format has
    }
  }
  return b;
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

function firstWebpFrame(b: Uint8Array): Uint8Array {
  if (b.length < 12) return b;
  const end = Math.min(b.length, 8 + u32le(b, 4));
  const keep: Array<[number, number]> = [];
  let frames = 0;
  let i = 12;
  while (i + 8 <= end) {
    const size = u32le(b, i + 4);
    const next = i + 8 + size + (size & 1);
    const isFrame = fourcc(b, i) === 'ANMF';
    if (isFrame) frames++;
    // Cut short: with a complete first frame kept, that frame is all that is needed.
    if (next > end) break;
    if (!isFrame || frames === 1) keep.push([i, next]);
    i = next;
  }
  if (frames <= 1) return b;
  const bodyLength = 4 + keep.reduce((n, [from, to]) => n + (to - from), 0);
  const out = new Uint8Array(8 + bodyLength);
  out.set(b.subarray(0, 12));
  out[4] = bodyLength & 0xff;
  out[5] = (bodyLength >>> 8) & 0xff;
  out[6] = (bodyLength >>> 16) & 0xff;
  out[7] = (bodyLength >>> 24) & 0xff;
  let o = 12;
  for (const [from, to] of keep) {
    out.set(b.subarray(from, to), o);
    o += to - from;
  }
  return out;
}

function firstTiffPage(b: Uint8Array): Uint8Array {
  if (b.length < 16) return b;
  const little = b[0] === 0x49;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const big = view.getUint16(2, little) === 43;
  const ifd = big ? Number(view.getBigUint64(8, little)) : view.getUint32(4, little);
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  const linkSize = big ? 8 : 4;
  if (ifd < 8 || ifd + countSize > b.length) return b;
  const entries = big ? Number(view.getBigUint64(ifd, little)) : view.getUint16(ifd, little);
  const link = ifd + countSize + entries * entrySize;
  if (link + linkSize > b.length) return b;
  const next = big ? view.getBigUint64(link, little) !== 0n : view.getUint32(link, little) !== 0;
  if (!next) return b;
  const out = new Uint8Array(b); // a copy (Buffer#slice would share the caller's memory)
  out.fill(0, link, link + linkSize);
  return out;
}
