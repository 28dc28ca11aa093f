/**
 * Draws the OFA-VE Console app icon and writes the files electron-builder packs:
 *
 *   build/icon.png                 512x512 (macOS and Windows; electron-builder converts it)
 *   build/icons/<N>x<N>.png        the Linux icon set (linux.icon: icons), N in ICON_SIZES
 *
 * The mark is an SVG defined here (no font: the letters are strokes, so the output does not depend
 * on the fonts of the machine that runs this): a rounded square, an eye whose iris holds a check
 * (an image checked against a caption) and "VE". At 32 px and below the letters would be mush, so
 * those sizes use the eye alone, drawn larger. Rendered with sharp (librsvg), deterministic for a
 * given sharp version. The outputs are committed; run this again only after changing the drawing:
 *
 *   node --import tsx build/make-icons.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** electron-builder's Linux icon set convention: one <size>x<size>.png per size. */
export const ICON_SIZES = [16, 32, 48, 64, 128, 256, 512] as const;
/** Sizes at or below this use the simplified mark (no letters). */
const SMALL_MAX = 32;
/** The main icon's side (electron-builder wants at least 512 for macOS, 256 for Windows). */
export const MAIN_ICON_SIZE = 512;

const BUILD_DIR = path.dirname(fileURLToPath(import.meta.url));

const COLORS = {
  top: '#1e40af', // blue-800
  bottom: '#0f766e', // teal-700
  mark: '#ffffff',
  iris: '#2563eb', // blue-600
};

function background(): string {
  return [
    '<defs>',
    `  <linearGradient id="bg" x1="0" y1="0" x2="0.35" y2="1">`,
    `    <stop offset="0" stop-color="${COLORS.top}"/>`,
    `    <stop offset="1" stop-color="${COLORS.bottom}"/>`,
    '  </linearGradient>',
    '</defs>',
    '<rect x="16" y="16" width="480" height="480" rx="108" ry="108" fill="url(#bg)"/>',
  ].join('\n');
}

/** An almond eye centred on (cx, cy), `w` wide, with an iris holding a check mark. */
function eye(cx: number, cy: number, w: number, strokeScale: number): string {
  const half = w / 2;
  const lift = w * 0.5; // control-point offset: the lids peak at lift / 2 from the centre line
  const iris = w * 0.21;
  const check = iris * 0.55;
  const lids = `M${cx - half} ${cy} Q${cx} ${cy - lift} ${cx + half} ${cy} Q${cx} ${cy + lift} ${cx - half} ${cy} Z`;
  const tick = [
    `M${cx - check * 0.8} ${cy + check * 0.05}`,
    `L${cx - check * 0.2} ${cy + check * 0.6}`,
    `L${cx + check * 0.85} ${cy - check * 0.55}`,
  ].join(' ');
  return [
    `<path d="${lids}" fill="${COLORS.mark}"/>`,
    `<circle cx="${cx}" cy="${cy}" r="${iris}" fill="${COLORS.iris}"/>`,
    `<path d="${tick}" fill="none" stroke="${COLORS.mark}" stroke-width="${15 * strokeScale}" stroke-linecap="round" stroke-linejoin="round"/>`,
  ].join('\n');
}

/** "VE" as strokes: a V and an E, each 90 units tall, centred on x = 256. */
function letters(top: number): string {
  const h = 90;
  const bottom = top + h;
  const mid = top + h / 2;
  const v = `M172 ${top} L210 ${bottom} L248 ${top}`;
  const e = `M340 ${top} L288 ${top} L288 ${bottom} L340 ${bottom} M288 ${mid} L330 ${mid}`;
  return `<path d="${v} ${e}" fill="none" stroke="${COLORS.mark}" stroke-width="24" stroke-linecap="round" stroke-linejoin="round"/>`;
}

/** The icon as SVG source, drawn on a 512-unit canvas and rendered at `size` pixels. */
export function iconSvg(size: number): string {
  const body = size <= SMALL_MAX ? eye(256, 256, 400, 2) : `${eye(256, 196, 330, 1)}\n${letters(322)}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 512 512">`,
    background(),
    body,
    '</svg>',
  ].join('\n');
}

export async function renderIcon(size: number): Promise<Buffer> {
  return sharp(Buffer.from(iconSvg(size)))
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

async function main(): Promise<void> {
  const iconsDir = path.join(BUILD_DIR, 'icons');
  await mkdir(iconsDir, { recursive: true });
  const written: string[] = [];
  for (const size of ICON_SIZES) {
    const file = path.join(iconsDir, `${size}x${size}.png`);
    await writeFile(file, await renderIcon(size));
    written.push(file);
  }
  const main = path.join(BUILD_DIR, 'icon.png');
  await writeFile(main, await renderIcon(MAIN_ICON_SIZE));
  written.push(main);
  for (const file of written) console.log(`wrote ${path.relative(path.dirname(BUILD_DIR), file)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
