/**
 * Parity of the image path with OFA's Pillow recipe:
 * - against ../shared/preprocess-reference (made with Pillow 9.4), when that folder exists;
 * - against Pillow outputs embedded below and a straightforward floating-point implementation of
 *   the same algorithm, so the resampler is tested without ../shared too;
 * - the WebAssembly SIMD resize (what resizeBicubicPil runs in Node) against the plain JavaScript
 *   one, bit for bit, over many random shapes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  bicubicKernel,
  resizeBackend,
  resizeBicubicJs,
  resizeBicubicPil,
  simdResizeAvailability,
} from '../../main/inference/pil-bicubic-resize.ts';
import { decodeAndResizeImage, preprocessImage, writeNormalizedChw } from '../../main/inference/image-preprocess.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REFERENCE_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'preprocess-reference');
const OFA_SPEC = { size: 480, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;
const LIMITS = { maxPixels: 100_000_000, maxBytes: 64 * 1024 * 1024 };

interface ReferenceManifest {
  pil: string;
  images: Record<string, { reference_480: string; channel_mean: [number, number, number] }>;
}

function compare(a: Uint8Array, b: Uint8Array): { mad: number; max: number; differing: number } {
  assert.equal(a.length, b.length, 'compared images differ in size');
  let sum = 0;
  let max = 0;
  let differing = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
    if (d !== 0) differing++;
  }
  return { mad: sum / a.length, max, differing };
}

describe('parity with ../shared/preprocess-reference (Pillow 9.4)', () => {
  test('decode + resize matches each .ref480.png; tensor channel means match reference.json', async (t) => {
    if (!existsSync(path.join(REFERENCE_DIR, 'reference.json'))) {
      t.skip('../shared/preprocess-reference not found: parity test skipped');
      return;
    }
    const manifest = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'reference.json'), 'utf8')) as ReferenceManifest;
    const names = Object.keys(manifest.images);
    assert.ok(names.length > 0, 'reference.json lists no images');
    for (const name of names) {
      const entry = manifest.images[name]!;
      const bytes = readFileSync(path.join(REFERENCE_DIR, name));
      const ours = await decodeAndResizeImage(bytes, OFA_SPEC.size, LIMITS);
      const ref = await sharp(readFileSync(path.join(REFERENCE_DIR, entry.reference_480)))
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      assert.equal(ref.info.width, OFA_SPEC.size);
      assert.equal(ref.info.height, OFA_SPEC.size);
      const { mad, max, differing } = compare(ours.data, ref.data);

      const tensor = await preprocessImage(bytes, OFA_SPEC, LIMITS);
      const plane = OFA_SPEC.size * OFA_SPEC.size;
      const means = [0, 1, 2].map((c) => {
        let s = 0;
        for (let i = c * plane; i < (c + 1) * plane; i++) s += tensor[i]!;
        return s / plane;
      });
      t.diagnostic(
        `${name.padEnd(26)} ${ours.sourceWidth}x${ours.sourceHeight} MAD ${mad.toFixed(4)} max ${max} ` +
          `differing ${differing}/${ours.data.length}; channel means ${means.map((m) => m.toFixed(6)).join(' ')} ` +
          `(ref ${entry.channel_mean.join(' ')})`,
      );
      assert.ok(mad <= 1.0, `${name}: mean absolute difference ${mad.toFixed(4)} > 1.0 grey level`);
      if (name.toLowerCase().endsWith('.png')) {
        // Lossless source: the port must be bit-exact.
        assert.equal(max, 0, `${name}: PNG source should match Pillow bit-exactly, max diff ${max}`);
      }
      means.forEach((m, c) => {
        assert.ok(
          Math.abs(m - entry.channel_mean[c]!) <= 0.01,
          `${name}: channel ${c} mean ${m.toFixed(6)} vs reference ${entry.channel_mean[c]}`,
        );
      });
    }
  });
});

// ---- without ../shared ------------------------------------------------------------------------

/** The test pattern the embedded Pillow outputs were made from: a 0/255 checkerboard (overshoot
 * and clipping), a ramp and a quadratic, per channel. */
function pattern(w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      out[i] = (x + y) % 2 ? 255 : 0;
      out[i + 1] = (x * 37 + y * 91) % 256;
      out[i + 2] = (x * x * 13 + y * 7 + 11) % 256;
    }
  }
  return out;
}

/** `Image.frombytes('RGB', (w, h), pattern).resize((ow, oh), Image.BICUBIC)` with Pillow 11.3.0,
 * whose 8-bit Resample.c path is the same as 9.4's. */
const PILLOW_OUTPUTS: Array<{ w: number; h: number; ow: number; oh: number; out: number[] }> = [
  {
    w: 4,
    h: 3,
    ow: 7,
    oh: 5,
    out: [
      0, 0, 9, 81, 3, 12, 255, 27, 21, 128, 49, 39, 0, 70, 66, 174, 94, 109, 255, 107, 132, 101, 27, 12, 119, 37, 15, 153, 61, 24, 128, 90,
      42, 102, 116, 69, 136, 141, 112, 154, 153, 135, 255, 88, 17, 168, 101, 20, 4, 125, 29, 128, 147, 47, 251, 168, 74, 87, 192, 117, 0,
      205, 140, 101, 151, 22, 119, 171, 25, 153, 193, 34, 128, 127, 52, 102, 63, 79, 136, 82, 122, 154, 102, 145, 0, 186, 25, 81, 210, 28,
      255, 231, 37, 128, 107, 55, 0, 0, 82, 174, 4, 125, 255, 28, 148,
    ],
  },
  {
    w: 9,
    h: 7,
    ow: 4,
    oh: 3,
    out: [
      125, 91, 24, 128, 132, 129, 128, 131, 169, 125, 101, 132, 128, 114, 40, 127, 108, 147, 127, 127, 186, 128, 129, 147, 125, 128, 59,
      128, 112, 143, 128, 116, 111, 125, 128, 126,
    ],
  },
  {
    w: 5,
    h: 1,
    ow: 3,
    oh: 4,
    out: [
      106, 13, 13, 126, 74, 66, 106, 135, 184, 106, 13, 13, 126, 74, 66, 106, 135, 184, 106, 13, 13, 126, 74, 66, 106, 135, 184, 106, 13,
      13, 126, 74, 66, 106, 135, 184,
    ],
  },
];

/**
 * An independent, floating-point statement of Pillow's BICUBIC resize: per output sample, gather
 * the source samples within the (scaled) support, weight them by the kernel, normalise, round and
 * clip; horizontal pass to 8 bits first, then vertical. Differs from the port only in using exact
 * weights instead of 22-bit fixed point, so the two agree to within one grey level.
 */
function floatReferenceResize(src: Uint8Array, w: number, h: number, ch: number, ow: number, oh: number): Uint8Array {
  const axis = (inSize: number, outSize: number, i: number): Array<[number, number]> => {
    const scale = inSize / outSize;
    const fs = Math.max(scale, 1);
    const support = 2 * fs;
    const center = (i + 0.5) * scale;
    const taps: Array<[number, number]> = [];
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let total = 0;
    for (let s = lo; s < hi; s++) {
      const wgt = bicubicKernel((s - center + 0.5) / fs);
      taps.push([s, wgt]);
      total += wgt;
    }
    return taps.map(([s, wgt]) => [s, total === 0 ? wgt : wgt / total]);
  };
  const to8 = (v: number): number => Math.min(255, Math.max(0, Math.floor(v + 0.5)));
  let cur = src;
  let cw = w;
  if (ow !== w) {
    const next = new Uint8Array(ow * h * ch);
    for (let x = 0; x < ow; x++) {
      const taps = axis(w, ow, x);
      for (let y = 0; y < h; y++) {
        for (let c = 0; c < ch; c++) {
          let v = 0;
          for (const [s, wgt] of taps) v += cur[(y * w + s) * ch + c]! * wgt;
          next[(y * ow + x) * ch + c] = to8(v);
        }
      }
    }
    cur = next;
    cw = ow;
  }
  if (oh !== h) {
    const next = new Uint8Array(cw * oh * ch);
    for (let y = 0; y < oh; y++) {
      const taps = axis(h, oh, y);
      for (let x = 0; x < cw; x++) {
        for (let c = 0; c < ch; c++) {
          let v = 0;
          for (const [s, wgt] of taps) v += cur[(s * cw + x) * ch + c]! * wgt;
          next[(y * cw + x) * ch + c] = to8(v);
        }
      }
    }
    cur = next;
  }
  return cur;
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('PIL bicubic resize port (no external files)', () => {
  for (const { w, h, ow, oh, out } of PILLOW_OUTPUTS) {
    test(`matches Pillow bit-exactly: ${w}x${h} -> ${ow}x${oh}`, () => {
      const got = resizeBicubicPil(pattern(w, h), w, h, 3, ow, oh);
      assert.deepEqual([...got], out);
    });
  }

  const shapes: Array<[number, number, number, number, number, string]> = [
    [17, 11, 3, 480, 480, 'upscale RGB'],
    [31, 23, 1, 45, 50, 'mild upscale grey'],
    [640, 427, 3, 48, 48, 'downscale RGB'],
    [301, 97, 3, 480, 480, 'odd sizes, upscale'],
    [900, 40, 3, 120, 120, 'downscale x, upscale y'],
    [7, 5, 4, 9, 3, 'four channels'],
  ];
  for (const [w, h, ch, ow, oh, label] of shapes) {
    test(`agrees with a float reference within 1 level: ${w}x${h}x${ch} -> ${ow}x${oh} (${label})`, (t) => {
      const src = noise(w * h * ch, w * 131 + h);
      const got = resizeBicubicPil(src, w, h, ch, ow, oh);
      const ref = floatReferenceResize(src, w, h, ch, ow, oh);
      const { mad, max } = compare(got, ref);
      t.diagnostic(`MAD ${mad.toFixed(5)} max ${max}`);
      assert.ok(max <= 1, `max difference ${max} > 1`);
    });
  }

  test('a constant image stays constant when upscaling and downscaling', () => {
    for (const [w, h, ow, oh] of [
      [10, 10, 480, 480],
      [1000, 700, 480, 480],
      [1, 1, 3, 2],
    ] as const) {
      const src = new Uint8Array(w * h * 3).fill(173);
      const got = resizeBicubicPil(src, w, h, 3, ow, oh);
      assert.ok(
        got.every((v) => v === 173),
        `${w}x${h} -> ${ow}x${oh} is not constant`,
      );
    }
  });

  test('same size is a copy, one axis unchanged skips that pass', () => {
    const src = noise(12 * 9 * 3, 5);
    const same = resizeBicubicPil(src, 12, 9, 3, 12, 9);
    assert.notEqual(same, src);
    assert.deepEqual(same, src);
    // Height unchanged: each row is resampled on its own, so row y depends only on source row y.
    const wide = resizeBicubicPil(src, 12, 9, 3, 20, 9);
    const row0 = resizeBicubicPil(src.subarray(0, 12 * 3), 12, 1, 3, 20, 1);
    assert.deepEqual(wide.subarray(0, 20 * 3), row0);
  });

  test('rejects a buffer that does not match its dimensions', () => {
    assert.throws(() => resizeBicubicPil(new Uint8Array(10), 2, 2, 3, 4, 4), RangeError);
    assert.throws(() => resizeBicubicPil(new Uint8Array(12), 2, 2, 3, 0, 4), RangeError);
  });

  test('normalisation writes float32 CHW in place at an offset', () => {
    const size = 2;
    const rgb = new Uint8Array([0, 128, 255, 255, 0, 128, 10, 20, 30, 40, 50, 60]);
    const out = new Float32Array(5 + 3 * size * size).fill(99);
    writeNormalizedChw(rgb, size, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, out, 5);
    assert.deepEqual([...out.subarray(0, 5)], [99, 99, 99, 99, 99]);
    const expected = [0, 255, 10, 40, 128, 0, 20, 50, 255, 128, 30, 60].map((v) => (v / 255 - 0.5) / 0.5);
    [...out.subarray(5)].forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `value ${i}: ${v} vs ${expected[i]}`));
    assert.equal(out[5], -1);
    assert.equal(out[6], 1);
    assert.throws(() => writeNormalizedChw(rgb, size, OFA_SPEC, new Float32Array(12), 1), RangeError);
  });
});

describe('SIMD resize equals the plain JavaScript resize', () => {
  test('Node has WebAssembly SIMD, so resizeBicubicPil (and every parity test above) runs the SIMD kernels', () => {
    assert.equal(resizeBackend(), 'wasm-simd', JSON.stringify(simdResizeAvailability()));
  });

  test('bit for bit over 400 random shapes, channel counts and scale factors', () => {
    let s = 0x5eed;
    const below = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return Math.floor((s / 2 ** 32) * n);
    };
    const between = (lo: number, hi: number): number => lo + below(hi - lo + 1);
    for (let i = 0; i < 400; i++) {
      const ch = [1, 2, 3, 3, 3, 4][below(6)]!;
      let w: number;
      let h: number;
      let ow: number;
      let oh: number;
      switch (i % 4) {
        case 0: // small, up and down
          [w, h, ow, oh] = [between(1, 40), between(1, 40), between(1, 60), between(1, 60)];
          break;
        case 1: // photo-like, mostly downscaled
          [w, h, ow, oh] = [between(50, 700), between(50, 700), between(20, 300), between(20, 300)];
          break;
        case 2: // strips: a long window on one axis
          [w, h] = below(2) ? [between(1, 4), between(500, 4000)] : [between(500, 4000), between(1, 4)];
          [ow, oh] = [between(1, 64), between(1, 64)];
          break;
        default: // one axis unchanged (that pass is skipped)
          [w, h] = [between(1, 300), between(1, 300)];
          [ow, oh] = below(2) ? [w, between(1, 300)] : [between(1, 300), h];
      }
      const src = noise(w * h * ch, i + 1);
      const simd = resizeBicubicPil(src, w, h, ch, ow, oh);
      const plain = resizeBicubicJs(src, w, h, ch, ow, oh);
      assert.equal(simd.length, plain.length);
      const at = simd.findIndex((v, k) => v !== plain[k]);
      if (at >= 0) assert.fail(`case ${i}: ${w}x${h}x${ch} -> ${ow}x${oh} differs first at byte ${at}: ${simd[at]} vs ${plain[at]}`);
    }
  });

  test('a large resize then small ones: memory reused between calls leaves no trace', () => {
    const big = noise(2000 * 1500 * 3, 77);
    assert.deepEqual(resizeBicubicPil(big, 2000, 1500, 3, 480, 480), resizeBicubicJs(big, 2000, 1500, 3, 480, 480));
    for (const [w, h, ch, ow, oh] of [
      [5, 3, 3, 2, 7],
      [1, 1, 1, 480, 480],
      [13, 2, 4, 480, 1],
    ] as const) {
      const src = noise(w * h * ch, w + h);
      assert.deepEqual(resizeBicubicPil(src, w, h, ch, ow, oh), resizeBicubicJs(src, w, h, ch, ow, oh), `${w}x${h}x${ch}`);
    }
  });
});
