/** The images and captions `ofa-ve bench` sends: a generated seeded set, or a folder's images. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { uniform01 } from '../../../models/tools/seeded-random.ts';
import type { NamedCheckPair } from '../../../preload/wire-types.ts';
import { PathError } from '../exit-codes.ts';

const CAPTIONS = [
  'two dogs play on the grass',
  'a man rides a bicycle down the street',
  'a plate of food on a wooden table',
  'children are swimming in a pool',
  'a red car parked next to a building',
  'a woman is reading a book in a park',
  'boats in a harbour at sunset',
  'a cat sleeps on a sofa',
];

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff']);

/**
 * The default benchmark set: 16 seeded photos-like images (gradients and shapes, JPEG and PNG,
 * 320x240 to 1280x960, like phone and web images), so every run and machine uses the same bytes.
 */
export async function generatedImageSet(count = 16, seed = 7): Promise<NamedCheckPair[]> {
  const random = uniform01(seed);
  const sizes = [
    [320, 240],
    [640, 480],
    [800, 600],
    [1024, 768],
    [1280, 960],
    [480, 640],
  ] as const;
  const pairs: NamedCheckPair[] = [];
  for (let i = 0; i < count; i++) {
    const [w, h] = sizes[i % sizes.length]!;
    const c = () => Math.floor(random() * 255);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
      <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="rgb(${c()},${c()},${c()})"/><stop offset="1" stop-color="rgb(${c()},${c()},${c()})"/></linearGradient></defs>
      <rect width="100%" height="100%" fill="url(#g)"/>
      <circle cx="${Math.floor(random() * w)}" cy="${Math.floor(random() * h)}" r="${Math.floor(h / 5)}" fill="rgb(${c()},${c()},${c()})"/>
      <rect x="${Math.floor(random() * w * 0.6)}" y="${Math.floor(random() * h * 0.6)}" width="${Math.floor(w / 3)}" height="${Math.floor(h / 4)}" fill="rgb(${c()},${c()},${c()})"/>
    </svg>`;
    const base = sharp(Buffer.from(svg));
    const jpeg = i % 2 === 0;
    const bytes = jpeg ? await base.jpeg({ quality: 85 }).toBuffer() : await base.png().toBuffer();
    pairs.push({ name: `bench-${i}.${jpeg ? 'jpg' : 'png'}`, image: new Uint8Array(bytes), text: CAPTIONS[i % CAPTIONS.length]! });
  }
  return pairs;
}

/**
 * Images from a folder (not recursive), each with a caption: from captions.csv (`file,caption`)
 * or captions.txt (one per line, in file-name order) when present, else a fixed caption list.
 */
export async function folderImageSet(dir: string): Promise<NamedCheckPair[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : 'cannot be read';
    throw new PathError(`--images ${dir}: ${why}`);
  }
  const entries = names.filter((f) => IMAGE_EXTENSIONS.has(path.extname(f).toLowerCase())).sort();
  if (entries.length === 0) throw new PathError(`--images ${dir}: no images (${[...IMAGE_EXTENSIONS].join(' ')}) in it`);
  const byName = new Map<string, string>();
  const csv = await readFile(path.join(dir, 'captions.csv'), 'utf8').catch(() => undefined);
  for (const line of csv?.split(/\r?\n/) ?? []) {
    const comma = line.indexOf(',');
    if (comma > 0)
      byName.set(
        line.slice(0, comma).trim(),
        line
          .slice(comma + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
  }
  const txt = (await readFile(path.join(dir, 'captions.txt'), 'utf8').catch(() => '')).split(/\r?\n/).filter((l) => l.trim());
  return Promise.all(
    entries.map(async (name, i) => ({
      name,
      image: new Uint8Array(await readFile(path.join(dir, name))),
      text: byName.get(name) ?? txt[i] ?? CAPTIONS[i % CAPTIONS.length]!,
    })),
  );
}
