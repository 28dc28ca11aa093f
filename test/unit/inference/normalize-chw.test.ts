/**
 * The WebAssembly SIMD normalisation (normalize3, and normalize3Reciprocal for stds with exact
 * reciprocals) writes the very floats of the table reference (Object.is per value: same bits, sign
 * of zero included): over every byte value of every channel, random and edge-value images of sizes
 * that are and are not multiples of its 16-pixel step and of its chunk, at offsets; and fused with
 * the resize, over every resize shape and over decoded images.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeChwSimd } from '../../../main/inference/bicubic-simd.ts';
import { decodeImageRgb } from '../../../main/inference/image-decode.ts';
import { decodeAndResizeImage, decodeResizeNormalize, preprocessImage } from '../../../main/inference/image-preprocess.ts';
import { resizeBackend } from '../../../main/inference/pil-bicubic-resize.ts';
import { normalizeChw, normalizeChwTable, resizeNormalizeChw } from '../../../main/inference/normalize-chw.ts';
import { resizeBicubicJs } from '../../../main/inference/pil-bicubic-resize.ts';
import { buildImageCorpus, IMAGE_CORPUS_LIMITS } from '../../fixtures/image-corpus.ts';

const SPECS: { name: string; mean: number[]; std: number[] }[] = [
  { name: 'OFA', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  { name: 'ImageNet', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  { name: 'identity', mean: [0, 0, 0], std: [1, 1, 1] },
  { name: 'odd', mean: [0.1, -3, 1e-3], std: [7, 1e-5, -0.3] },
  // Powers of two (exact reciprocals: the kernel multiplies), and one channel that is not (it divides).
  { name: 'powers of two', mean: [0.25, 0.7, -1], std: [0.25, 4, -0.5] },
  { name: 'one not a power of two', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.3] },
  { name: 'tiny powers of two', mean: [0, 0.5, 1], std: [2 ** -126, 2 ** -100, 2 ** 100] },
];
const SENTINEL = 12345.5;

let seed = 0x1f2e3d;
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out[i] = seed >>> 24;
  }
  return out;
}

/** Index and values of the first float that differs by bit pattern, or null. */
function firstDifference(a: Float32Array, b: Float32Array): string | null {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `float ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

/** Both implementations into sentinel-filled tensors with `offset` floats before and 7 after. */
function both(rgb: Uint8Array, pixels: number, mean: number[], std: number[], offset: number): [Float32Array, Float32Array] {
  const table = new Float32Array(offset + 3 * pixels + 7).fill(SENTINEL);
  const simd = new Float32Array(offset + 3 * pixels + 7).fill(SENTINEL);
  normalizeChwTable(rgb, pixels, mean, std, table, offset);
  normalizeChwSimd(rgb, pixels, mean, std, simd, offset);
  return [table, simd];
}

describe('SIMD normalisation equals the table, bit for bit', () => {
  test('Node has WebAssembly SIMD, so normalizeChw runs the kernel', () => {
    // One module holds the resize and normalisation kernels: the resize's backend is normalizeChw's.
    assert.equal(resizeBackend(), 'wasm-simd');
  });

  test('every byte value of every channel, for several means and stds', () => {
    // Pixel i has value (i + c * 85) % 256 in channel c, so every channel sees all 256 values.
    const pixels = 256 + 5;
    const rgb = new Uint8Array(pixels * 3);
    for (let i = 0; i < pixels; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = (i + c * 85) % 256;
    for (const { name, mean, std } of SPECS) {
      const [table, simd] = both(rgb, pixels, mean, std, 0);
      assert.equal(firstDifference(table, simd), null, name);
    }
  });

  test('random and edge-value images, sizes off the 16-pixel step and the chunk, at offsets', () => {
    const edges = (n: number): Uint8Array[] => [
      new Uint8Array(n),
      new Uint8Array(n).fill(255),
      Uint8Array.from({ length: n }, (_, i) => (i % 2 ? 255 : 0)),
      Uint8Array.from({ length: n }, (_, i) => [0, 1, 127, 128, 254, 255][i % 6]!),
    ];
    for (const pixels of [1, 2, 15, 16, 17, 31, 33, 48, 100, 16383, 16384, 16385, 130 * 130, 480 * 480]) {
      for (const rgb of [randomBytes(pixels * 3), ...edges(pixels * 3)]) {
        for (const offset of [0, 1, 3, 4 * pixels + 5]) {
          const { name, mean, std } = SPECS[(pixels + offset) % SPECS.length]!;
          const [table, simd] = both(rgb, pixels, mean, std, offset);
          assert.equal(firstDifference(table, simd), null, `${pixels} pixels at offset ${offset} (${name})`);
          assert.equal(simd[offset - 1] ?? SENTINEL, SENTINEL, 'wrote before its offset');
          assert.equal(simd[offset + 3 * pixels], SENTINEL, 'wrote past its planes');
        }
      }
    }
  });

  test('reads only its pixels: a longer buffer gives the same planes', () => {
    const rgb = randomBytes(40 * 3 + 48);
    const [table, simd] = both(rgb.subarray(0, 40 * 3), 40, SPECS[0]!.mean, SPECS[0]!.std, 2);
    const fromLonger = new Float32Array(simd.length).fill(SENTINEL);
    normalizeChw(rgb, 40, SPECS[0]!.mean, SPECS[0]!.std, fromLonger, 2);
    assert.equal(firstDifference(table, fromLonger), null);
  });
});

describe('resize fused with the normalisation', () => {
  test('equals the plain JavaScript resize then the table, for every pass combination, at offsets', () => {
    const shapes: [number, number, number][] = [
      [640, 427, 480], // both passes
      [480, 300, 480], // vertical only
      [300, 480, 480], // horizontal only
      [480, 480, 480], // neither
      [37, 23, 17], // upscaling, a size off the 16-pixel step
      [1, 2100, 33],
      [5000, 1, 20],
    ];
    shapes.forEach(([w, h, size], i) => {
      const src = randomBytes(w * h * 3);
      const { mean, std } = SPECS[i % SPECS.length]!;
      const offset = i * 7;
      const expected = new Float32Array(offset + 3 * size * size + 3).fill(SENTINEL);
      normalizeChwTable(resizeBicubicJs(src, w, h, 3, size, size), size * size, mean, std, expected, offset);
      const got = new Float32Array(expected.length).fill(SENTINEL);
      resizeNormalizeChw(src, w, h, size, mean, std, got, offset);
      assert.equal(firstDifference(expected, got), null, `${w}x${h} to ${size}`);
    });
  });

  test('refuses a tensor without room and a buffer that does not match its dimensions', () => {
    const { mean, std } = SPECS[0]!;
    assert.throws(() => resizeNormalizeChw(new Uint8Array(12), 2, 2, 4, mean, std, new Float32Array(48), 1), RangeError);
    assert.throws(() => resizeNormalizeChw(new Uint8Array(10), 2, 2, 4, mean, std, new Float32Array(48), 0), RangeError);
  });

  test('decoded images: the tensor equals decodeAndResizeImage then the table', async () => {
    const spec = { size: 480, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    const images = (await buildImageCorpus()).filter((c) => c.expect === 'ok').map((c) => ({ name: c.name, bytes: c.bytes }));
    const shared = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'preprocess-reference');
    if (existsSync(shared)) {
      for (const f of readdirSync(shared).filter((n) => /\.(png|jpe?g)$/.test(n) && !n.includes('.ref'))) {
        images.push({ name: f, bytes: readFileSync(path.join(shared, f)) });
      }
    }
    assert.ok(images.length >= 10, `only ${images.length} images`);
    for (const { name, bytes } of images) {
      const resized = await decodeAndResizeImage(bytes, spec.size, IMAGE_CORPUS_LIMITS);
      const expected = new Float32Array(3 + 3 * spec.size * spec.size);
      normalizeChwTable(resized.data, spec.size * spec.size, spec.mean, spec.std, expected, 3);
      const got = new Float32Array(expected.length);
      const facts = await decodeResizeNormalize(bytes, spec, IMAGE_CORPUS_LIMITS, got, 3);
      assert.equal(firstDifference(expected, got), null, name);
      const decoded = await decodeImageRgb(bytes, IMAGE_CORPUS_LIMITS);
      assert.deepEqual(facts, { size: 480, sourceWidth: decoded.width, sourceHeight: decoded.height, format: resized.format }, name);
      const alone = await preprocessImage(bytes, spec, IMAGE_CORPUS_LIMITS);
      assert.equal(firstDifference(expected.subarray(3), alone), null, `${name}: preprocessImage`);
    }
  });
});
