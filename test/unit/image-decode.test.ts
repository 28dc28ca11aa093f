/**
 * Every case of the generated image corpus gives its expected outcome through the decoder and the
 * full preprocessing; oversized headers are turned away without decoding.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckError } from '../../main/errors.ts';
import { decodeImageRgb, sniffImageFormat } from '../../main/inference/image-decode.ts';
import { decodeAndResizeImage, preprocessImage } from '../../main/inference/image-preprocess.ts';
import { buildImageCorpus, IMAGE_CORPUS_LIMITS, type ImageCase } from '../fixtures/image-corpus.ts';

const SPEC = { size: 480, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } as const;

let corpus: ImageCase[] = [];
before(async () => {
  corpus = await buildImageCorpus();
});

function assertCleanMessage(err: CheckError, name: string): void {
  assert.ok(err.message.length > 0, `${name}: empty message`);
  assert.doesNotMatch(err.message, /\n\s+at |\/work\/|\/tmp\/|node_modules|[A-Z]:\\/, `${name}: message leaks internals: ${err.message}`);
  assert.doesNotMatch(err.message, /vips|libpng|libjpeg/i, `${name}: message exposes decoder internals: ${err.message}`);
}

describe('image corpus', () => {
  test('covers every required kind of input', () => {
    const names = corpus.map((c) => c.name);
    for (const required of [
      'png-rgb-64x48',
      'jpeg-rgb-64x48',
      'webp-lossy-64x48',
      'gif-animated-2-frames',
      'jpeg-cmyk',
      'png-rgb-16bit',
      'png-palette',
      'png-grey-8bit',
      'png-rgba-transparent-colour',
      'jpeg-exif-orientation-6',
      'png-1x1',
      'png-wide-4000x10',
      'empty-0-bytes',
      'png-truncated-half',
      'jpeg-truncated-half',
      'text-renamed-png',
      'html-page',
      'svg',
      'pdf-header',
      'png-bomb-50000x50000',
      'random-bytes',
    ]) {
      assert.ok(names.includes(required), `corpus lacks ${required}`);
    }
    assert.equal(new Set(names).size, names.length, 'corpus names are not unique');
  });

  test('each case decodes or fails as expected', async (t) => {
    for (const c of corpus) {
      let outcome: string;
      try {
        const img = await decodeImageRgb(c.bytes, IMAGE_CORPUS_LIMITS);
        outcome = 'ok';
        assert.equal(img.data.length, img.width * img.height * 3, `${c.name}: RGB buffer size`);
        if (c.decoded) {
          assert.equal(img.width, c.decoded.width, `${c.name}: width`);
          assert.equal(img.height, c.decoded.height, `${c.name}: height`);
          if (c.decoded.topLeft) {
            const tol = c.decoded.tolerance ?? 0;
            const px = [img.data[0]!, img.data[1]!, img.data[2]!];
            px.forEach((v, i) =>
              assert.ok(
                Math.abs(v - c.decoded!.topLeft![i]!) <= tol,
                `${c.name}: top-left pixel ${px.join(',')} vs expected ${c.decoded!.topLeft!.join(',')} (±${tol})`,
              ),
            );
          }
        }
      } catch (err) {
        if (!(err instanceof CheckError)) throw new Error(`${c.name}: threw a non-CheckError: ${String(err)}`, { cause: err });
        outcome = err.code;
        assertCleanMessage(err, c.name);
        t.diagnostic(`${c.name}: ${err.code} "${err.message}"`);
      }
      assert.equal(outcome, c.expect, `${c.name}: expected ${c.expect}, got ${outcome}`);
    }
  });

  test('every valid case preprocesses to a 3x480x480 tensor in [-1, 1]', async () => {
    for (const c of corpus.filter((x) => x.expect === 'ok')) {
      const resized = await decodeAndResizeImage(c.bytes, SPEC.size, IMAGE_CORPUS_LIMITS);
      assert.equal(resized.size, 480);
      assert.equal(resized.data.length, 480 * 480 * 3, c.name);
      const tensor = await preprocessImage(c.bytes, SPEC, IMAGE_CORPUS_LIMITS);
      assert.equal(tensor.length, 3 * 480 * 480, c.name);
      for (let i = 0; i < tensor.length; i += 997) {
        assert.ok(tensor[i]! >= -1 && tensor[i]! <= 1, `${c.name}: value ${tensor[i]} out of range`);
      }
    }
  });

  test('fills a batch tensor in place at an offset', async () => {
    const one = corpus.find((c) => c.name === 'png-rgb-64x48')!;
    const plane = 3 * 480 * 480;
    const batch = new Float32Array(2 * plane).fill(7);
    const returned = await preprocessImage(one.bytes, SPEC, IMAGE_CORPUS_LIMITS, batch, plane);
    assert.equal(returned, batch);
    assert.equal(batch[0], 7);
    assert.equal(batch[plane - 1], 7);
    const alone = await preprocessImage(one.bytes, SPEC, IMAGE_CORPUS_LIMITS);
    assert.deepEqual(batch.subarray(plane), alone);
  });

  test('the first frame of an animation is used, not a blend or the last', async () => {
    const gif = corpus.find((c) => c.name === 'gif-animated-2-frames')!;
    const { data } = await decodeAndResizeImage(gif.bytes, 480, IMAGE_CORPUS_LIMITS);
    const mid = (240 * 480 + 240) * 3;
    assert.ok(data[mid]! > 240 && data[mid + 2]! < 16, `centre pixel ${data[mid]},${data[mid + 1]},${data[mid + 2]} is not red`);
  });

  test('a decompression bomb is rejected from its header, quickly', async () => {
    const bomb = corpus.find((c) => c.name === 'png-bomb-50000x50000')!;
    assert.ok(bomb.bytes.length < 16 * 1024, 'bomb should be a small file');
    const started = performance.now();
    await assert.rejects(decodeImageRgb(bomb.bytes, IMAGE_CORPUS_LIMITS), (err: unknown) => {
      assert.ok(err instanceof CheckError);
      assert.equal(err.code, 'IMAGE_TOO_LARGE');
      assert.match(err.message, /50000x50000/);
      return true;
    });
    const elapsed = performance.now() - started;
    // Decoding 2.5 gigapixels would take many seconds and 7.5 GB; reading the header takes ~1 ms.
    assert.ok(elapsed < 500, `rejection took ${elapsed.toFixed(1)} ms`);
    const mem = process.memoryUsage().rss;
    assert.ok(mem < 2 * 1024 ** 3, `RSS ${mem} suggests pixels were decoded`);
  });

  test('the empty-file message is exact', async () => {
    await assert.rejects(decodeImageRgb(new Uint8Array(0), IMAGE_CORPUS_LIMITS), {
      name: 'CheckError',
      code: 'INVALID_IMAGE',
      message: 'image file is empty (0 bytes)',
    });
  });

  test('unsupported formats are named and the supported ones listed', async () => {
    const svg = corpus.find((c) => c.name === 'svg')!;
    await assert.rejects(decodeImageRgb(svg.bytes, IMAGE_CORPUS_LIMITS), (err: unknown) => {
      assert.ok(err instanceof CheckError);
      assert.equal(err.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.equal(err.status, 415);
      assert.match(err.message, /SVG/);
      for (const f of ['JPEG', 'PNG', 'WebP', 'GIF', 'TIFF', 'AVIF']) assert.match(err.message, new RegExp(f));
      return true;
    });
  });
});

describe('format sniffing', () => {
  const b = (s: string): Uint8Array => new TextEncoder().encode(s);
  test('recognises supported and unsupported signatures', () => {
    assert.deepEqual(sniffImageFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe1])), { kind: 'supported', format: 'jpeg' });
    assert.deepEqual(sniffImageFormat(b('GIF89a....')), { kind: 'supported', format: 'gif' });
    assert.deepEqual(sniffImageFormat(b('RIFF\0\0\0\0WEBPVP8 ')), { kind: 'supported', format: 'webp' });
    assert.deepEqual(sniffImageFormat(new Uint8Array([0x4d, 0x4d, 0x00, 0x2a])), { kind: 'supported', format: 'tiff' });
    assert.deepEqual(sniffImageFormat(b('\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf')), { kind: 'supported', format: 'avif' });
    assert.deepEqual(sniffImageFormat(b('\0\0\0\x18ftypmif1\0\0\0\0mif1avif')), { kind: 'supported', format: 'avif' });
    assert.equal(sniffImageFormat(b('\0\0\0\x18ftypheic\0\0\0\0mif1heic')).kind, 'unsupported');
    assert.equal(sniffImageFormat(b('\ufeff  <!doctype html><p>hi')).kind, 'unsupported');
    assert.equal(sniffImageFormat(b('<!-- x --><svg>')).kind, 'unsupported');
    assert.equal(sniffImageFormat(b('%PDF-1.4')).kind, 'unsupported');
    assert.equal(sniffImageFormat(b('hello')).kind, 'unknown');
    assert.equal(sniffImageFormat(b('BMW service history, 2019 to 2024')).kind, 'unknown');
    assert.equal(sniffImageFormat(b('<note>not html</note>')).kind, 'unknown');
    assert.equal(sniffImageFormat(new Uint8Array(0)).kind, 'unknown');
  });
});
