/**
 * Small uploads that used to cost seconds or the process (issue 13, "Amplification"): each shape is
 * refused from its header with IMAGE_TOO_LARGE, or decoded at the cost of its first frame, and the
 * fused resizers (WebAssembly SIMD and plain JavaScript) stay bit-exact with Pillow's two-pass algorithm.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { CheckError } from '../../main/errors.ts';
import { allowedJpegScans, JPEG_SCAN_BUDGET, MAX_JPEG_SCANS } from '../../main/inference/decode-budget.ts';
import { firstFrameOnly } from '../../main/inference/first-frame.ts';
import { decodeImageRgb } from '../../main/inference/image-decode.ts';
import { decodeAndResizeImage } from '../../main/inference/image-preprocess.ts';
import { countJpegScans } from '../../main/inference/jpeg-scans.ts';
import { precomputeBicubicCoefficients, resizeBicubicJs, resizeBicubicPil } from '../../main/inference/pil-bicubic-resize.ts';
import { manyFrameGif, manyFrameWebp, manyPageTiff, progressiveJpeg, solidPng } from '../fixtures/image-corpus.ts';

const LIMITS = { maxPixels: 50_000_000, maxBytes: 20 * 1024 * 1024 };

async function refusal(promise: Promise<unknown>): Promise<CheckError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CheckError, `expected a CheckError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

/**
 * Pillow's ImagingResampleInner as written (a whole intermediate image, horizontal pass then a
 * vertical gather), with the port's coefficient tables: the fused resizer must equal it exactly.
 */
function twoPassResize(src: Uint8Array, w: number, h: number, ch: number, ow: number, oh: number): Uint8Array {
  const clip8 = (acc: number): number => Math.min(255, Math.max(0, acc >> 22));
  let img = src;
  let iw = w;
  const vert = precomputeBicubicCoefficients(h, oh);
  const yFirst = oh !== h ? vert.start[0]! : 0;
  const yLast = oh !== h ? vert.start[oh - 1]! + vert.count[oh - 1]! : h;
  if (ow !== w) {
    const c = precomputeBicubicCoefficients(w, ow);
    const tmp = new Uint8Array(ow * (yLast - yFirst) * ch);
    for (let y = yFirst; y < yLast; y++) {
      for (let x = 0; x < ow; x++) {
        for (let k = 0; k < ch; k++) {
          let s = 1 << 21;
          for (let t = 0; t < c.count[x]!; t++) s += src[(y * w + c.start[x]! + t) * ch + k]! * c.coeffs[x * c.ksize + t]!;
          tmp[((y - yFirst) * ow + x) * ch + k] = clip8(s);
        }
      }
    }
    img = tmp;
    iw = ow;
  }
  if (oh === h) return img === src ? src.slice() : img;
  const shift = ow !== w ? yFirst : 0;
  const out = new Uint8Array(iw * oh * ch);
  for (let y = 0; y < oh; y++) {
    for (let i = 0; i < iw * ch; i++) {
      let s = 1 << 21;
      for (let t = 0; t < vert.count[y]!; t++) s += img[(vert.start[y]! - shift + t) * iw * ch + i]! * vert.coeffs[y * vert.ksize + t]!;
      out[y * iw * ch + i] = clip8(s);
    }
  }
  return out;
}

function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('fused resize', () => {
  const shapes: Array<[number, number, number, number, number]> = [
    [1, 3000, 3, 48, 48], // tall strip: widened first, then shrunk
    [2, 1001, 3, 40, 37],
    [3000, 1, 3, 48, 48], // wide strip
    [97, 61, 3, 480, 480], // upscale both
    [640, 427, 3, 48, 48], // downscale both
    [50, 700, 1, 30, 90], // grey
    [33, 17, 4, 33, 5], // vertical pass only, four channels
    [45, 19, 3, 12, 19], // horizontal pass only
    [7, 9, 3, 7, 9], // no pass
  ];
  for (const [w, h, ch, ow, oh] of shapes) {
    test(`equals the two-pass algorithm bit for bit: ${w}x${h}x${ch} -> ${ow}x${oh}`, () => {
      const src = noise(w * h * ch, w * 7919 + h);
      const expected = twoPassResize(src, w, h, ch, ow, oh);
      assert.deepEqual(resizeBicubicPil(src, w, h, ch, ow, oh), expected);
      assert.deepEqual(resizeBicubicJs(src, w, h, ch, ow, oh), expected, 'plain JavaScript path');
    });
  }
});

describe('tall and wide images', () => {
  test('a side over 65535 is refused from the header, whatever its pixel count', async () => {
    for (const [w, h] of [
      [1, 1_000_000],
      [1, 10_000_000],
      [10_000_000, 1],
    ] as const) {
      const err = await refusal(decodeAndResizeImage(solidPng(w, h), 480, LIMITS));
      assert.equal(err.code, 'IMAGE_TOO_LARGE');
      assert.equal(err.status, 413);
      assert.match(err.message, new RegExp(`${w}x${h}.*65535`));
    }
  });

  test('a narrow image is refused when widening it to the output width exceeds the pixel limit', async () => {
    const limits = { maxPixels: 1_000_000, maxBytes: LIMITS.maxBytes };
    // 480 x 2100 = 1,008,000 samples to resample > 1,000,000, though the image has 2100 pixels.
    const err = await refusal(decodeAndResizeImage(solidPng(1, 2100), 480, limits));
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    assert.match(err.message, /1x2100 pixels, too narrow for its height.* 1008000 pixels to process; the limit is 1000000 pixels/);
    // 480 x 2083 = 999,840: accepted, and constant in, constant out.
    const ok = await decodeAndResizeImage(solidPng(1, 2083, [9, 99, 199]), 480, limits);
    assert.deepEqual([...ok.data.subarray(0, 3)], [9, 99, 199]);
    assert.deepEqual([...ok.data.subarray(ok.data.length - 3)], [9, 99, 199]);
    // The same pixels laid wide are cheap (the horizontal pass shrinks them first): accepted.
    await decodeAndResizeImage(solidPng(5000, 1), 480, limits);
    // Without a resize target the decoder has nothing to bound.
    await decodeImageRgb(solidPng(1, 2100), limits);
  });

  test('the refusal comes from the header: pixel data is never decoded', async () => {
    // IHDR says 1x40000 but IDAT holds a single row: decoding would fail as INVALID_IMAGE.
    const full = solidPng(1, 40_000);
    const oneRow = solidPng(1, 1);
    const idatAt = oneRow.indexOf('IDAT') - 4;
    const ihdrEnd = full.indexOf('IDAT') - 4;
    const lying = Buffer.concat([full.subarray(0, ihdrEnd), oneRow.subarray(idatAt)]);
    const limits = { maxPixels: 1_000_000, maxBytes: LIMITS.maxBytes };
    assert.equal((await refusal(decodeImageRgb(lying, limits))).code, 'INVALID_IMAGE');
    assert.equal((await refusal(decodeAndResizeImage(lying, 480, limits))).code, 'IMAGE_TOO_LARGE');
  });

  test('EXIF orientation is applied before the shape is judged', async () => {
    const limits = { maxPixels: 1_000_000, maxBytes: LIMITS.maxBytes };
    const wide = sharp({ create: { width: 3000, height: 8, channels: 3, background: '#808080' } });
    // Stored 3000x8, displayed 8x3000 (orientation 6): 480 x 3000 = 1.44 M samples > 1 M.
    const rotated = await wide.clone().jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const err = await refusal(decodeAndResizeImage(rotated, 480, limits));
    assert.match(err.message, /8x3000 pixels/);
    await decodeAndResizeImage(await wide.clone().jpeg().toBuffer(), 480, limits);
  });
});

describe('decoding cost by format', () => {
  const plain = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#808080' } });

  test('a tiny lossless WebP claiming 49 megapixels is refused from its header, with the format named', async () => {
    const bytes = await plain(16_383, 3_000).webp({ lossless: true }).toBuffer();
    assert.ok(bytes.length < 4096, `${bytes.length} bytes`);
    const err = await refusal(decodeImageRgb(bytes, LIMITS));
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    assert.match(
      err.message,
      /16383x3000 pixels \(49\.1 megapixels\); the limit for WebP \(decoding it costs about 4x a JPEG's per pixel\) is 12\.5 megapixels/,
    );
  });

  test('each format gets the pixel limit divided by its cost: PNG and JPEG all of it, WebP a quarter, AVIF a tenth', async () => {
    const limits = { maxPixels: 1_000_000, maxBytes: LIMITS.maxBytes };
    for (const [name, encode] of [
      ['png', (img: Sharp) => img.png()],
      ['jpeg', (img: Sharp) => img.jpeg()],
    ] as const) {
      await decodeImageRgb(await encode(plain(1000, 1000)).toBuffer(), limits).catch((err: unknown) =>
        assert.fail(`${name}: ${String(err)}`),
      );
    }
    await decodeImageRgb(await plain(500, 500).webp().toBuffer(), limits);
    assert.match(
      (await refusal(decodeImageRgb(await plain(501, 500).webp().toBuffer(), limits))).message,
      /limit for WebP .* 250000 pixels/,
    );
    await decodeImageRgb(await plain(250, 400).avif({ effort: 0 }).toBuffer(), limits);
    assert.match(
      (await refusal(decodeImageRgb(await plain(251, 400).avif({ effort: 0 }).toBuffer(), limits))).message,
      /limit for AVIF .* 100000 pixels/,
    );
  });
});

describe('progressive JPEG scans', () => {
  test('counts the scans of real encoders and of hand-written files', async () => {
    const noisy = { type: 'gaussian', mean: 128, sigma: 40 } as const;
    const img = sharp({ create: { width: 64, height: 48, channels: 3, background: '#000', noise: noisy } });
    assert.equal(countJpegScans(await img.clone().jpeg().toBuffer()), 1);
    const progressive = countJpegScans(await img.clone().jpeg({ progressive: true }).toBuffer());
    assert.ok(progressive >= 5 && progressive <= 12, `sharp wrote ${progressive} scans`);
    for (const n of [1, 2, 57, 883]) assert.equal(countJpegScans(progressiveJpeg(16, 16, n)), n);
    // Nothing after the first end-of-image marker counts (libjpeg stops there too).
    const twice = progressiveJpeg(16, 16, 30);
    assert.equal(countJpegScans(Buffer.concat([twice, twice])), 30);
    assert.equal(countJpegScans(Buffer.from('not a jpeg')), 0);
  });

  test('the scan budget scales with the pixel count, between its floor and its cap', () => {
    assert.equal(allowedJpegScans(50_000_000, 50_000_000), JPEG_SCAN_BUDGET);
    assert.equal(allowedJpegScans(25_000_000, 50_000_000), 2 * JPEG_SCAN_BUDGET);
    assert.equal(allowedJpegScans(64 * 64, 50_000_000), MAX_JPEG_SCANS);
    assert.equal(allowedJpegScans(64 * 64, Number.POSITIVE_INFINITY), MAX_JPEG_SCANS);
  });

  test('a scan bomb is refused; the same image with the allowed number of scans decodes', async () => {
    const limits = { maxPixels: 1_000_000, maxBytes: LIMITS.maxBytes };
    const err = await refusal(decodeImageRgb(progressiveJpeg(1000, 1000, JPEG_SCAN_BUDGET + 1), limits));
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    const expected = `${JPEG_SCAN_BUDGET + 1} progressive scans.*1000x1000.*limit at this size is ${JPEG_SCAN_BUDGET} scans`;
    assert.match(err.message, new RegExp(expected));
    const ok = await decodeImageRgb(progressiveJpeg(1000, 1000, JPEG_SCAN_BUDGET), limits);
    assert.deepEqual([...ok.data.subarray(0, 3)], [128, 128, 128]);
    // Small images: at most MAX_JPEG_SCANS, however few their pixels.
    assert.equal((await refusal(decodeImageRgb(progressiveJpeg(8, 8, MAX_JPEG_SCANS + 1), LIMITS))).code, 'IMAGE_TOO_LARGE');
  });
});

describe('first frame only', () => {
  test('animations and page chains are cut to their first frame, same pixels, input untouched', async () => {
    const cases = [
      { format: 'gif' as const, bytes: manyFrameGif(3000), first: [255, 0, 0] },
      { format: 'webp' as const, bytes: await manyFrameWebp(3000), first: [255, 0, 0] },
      { format: 'tiff' as const, bytes: manyPageTiff(3000), first: [10, 10, 10] },
    ];
    for (const c of cases) {
      const before = Buffer.from(c.bytes);
      assert.equal((await sharp(c.bytes).metadata()).pages, 3000, `${c.format}: fixture pages`);
      const cut = firstFrameOnly(c.bytes, c.format);
      assert.notEqual(cut, c.bytes);
      // GIF and WebP lose their later frames; a TIFF keeps its bytes but no longer links to them.
      if (c.format !== 'tiff') assert.ok(cut.length < c.bytes.length / 100, `${c.format}: ${cut.length} bytes left of ${c.bytes.length}`);
      assert.equal((await sharp(cut).metadata()).pages ?? 1, 1, `${c.format}: pages after the cut`);
      assert.deepEqual(c.bytes, before, `${c.format}: the caller's buffer was modified`);
      const img = await decodeImageRgb(c.bytes, LIMITS);
      assert.deepEqual([...img.data.subarray(0, 3)], c.first, `${c.format}: first frame`);
    }
  });

  test('single-frame files come back as they are', async () => {
    const still = sharp({ create: { width: 4, height: 4, channels: 3, background: '#336699' } });
    for (const format of ['gif', 'webp', 'tiff'] as const) {
      const bytes = await still.clone().toFormat(format).toBuffer();
      assert.equal(firstFrameOnly(bytes, format), bytes, format);
    }
    const gif2 = manyFrameGif(2);
    assert.equal(firstFrameOnly(gif2.subarray(0, 20), 'gif').length, 20, 'a GIF cut inside its first frame is left to the decoder');
  });

  test('an animated WebP cut short after its first frame still gives that frame', async () => {
    const webp = await manyFrameWebp(5);
    const truncated = webp.subarray(0, webp.length - 20);
    const img = await decodeImageRgb(truncated, LIMITS);
    assert.deepEqual([...img.data.subarray(0, 3)], [255, 0, 0]);
  });
});
