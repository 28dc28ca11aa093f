/**
 * Counts the scans (SOS segments) of a JPEG by walking its marker structure, without decoding.
 *
 * Why: a progressive JPEG's decoder revisits every block of a component once per scan, so its cost
 * is pixels x scans, and a file of a few hundred KiB can hold ~900 valid scans of a 7000x7000
 * image (19 s of CPU). Counting first lets the caller refuse such a file before libjpeg sees it.
 *
 * The walk follows libjpeg's reader: segments with a length after SOI, entropy-coded data after
 * each SOS up to the next marker (0xFF followed by anything but 0x00, a restart marker or fill
 * 0xFF), stray bytes between markers skipped, and everything after the first EOI ignored (libjpeg
 * stops there). A file cut short ends the count; the decoder rejects it later.
 */

const SOS = 0xda;
const EOI = 0xd9;

function isStandalone(marker: number): boolean {
  // RST0..7, TEM and SOI carry no length.
  return (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xd8;
}

/** Index of the next marker's 0xFF at or after `from` inside entropy-coded data, or -1. */
function nextMarkerInScan(bytes: Uint8Array, from: number): number {
  let i = from;
  for (;;) {
    i = bytes.indexOf(0xff, i);
    if (i < 0 || i + 1 >= bytes.length) return -1;
    const next = bytes[i + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      i += 2; // stuffed 0xFF or restart marker: still in the scan
    } else if (next === 0xff) {
      i += 1; // fill byte before a marker
    } else {
      return i;
    }
  }
}

/** Number of SOS segments before the first EOI (0 for a file that is not a JPEG). */
export function countJpegScans(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 0;
  let scans = 0;
  let i = 2;
  while (i + 1 < bytes.length) {
    if (bytes[i] !== 0xff) {
      // Garbage between segments: libjpeg skips to the next 0xFF (with a warning).
      i = bytes.indexOf(0xff, i);
      if (i < 0) break;
      continue;
    }
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1;
      continue;
    }
    if (marker === EOI) break;
    if (isStandalone(marker)) {
      i += 2;
      continue;
    }
    if (i + 3 >= bytes.length) break;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2) break;
    const end = i + 2 + length;
    if (end > bytes.length) break;
    if (marker !== SOS) {
      i = end;
      continue;
    }
    scans++;
    const next = nextMarkerInScan(bytes, end);
    if (next < 0) break;
    i = next;
  }
  return scans;
}
