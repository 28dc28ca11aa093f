/**
 * Bad input over IPC: what the desktop window's `check:run` handler answers to every kind of wrong,
 * odd or hostile request a page can send. The handler is `ServiceRuntime.checkStructured` (the
 * Electron wrapper around it adds only the sender-frame check, tested in
 * electron-sender-check.test.ts and, where Electron runs, in the Electron e2e); every request here
 * goes through `structuredClone` first, which is what Electron's IPC does to a renderer's
 * arguments, and then through the real service and inference worker.
 *
 * - the generated image corpus (test/fixtures/image-corpus.ts) under the corpus limits: its
 *   documented code, or, for the valid unusual images, an answer whose scores equal the engine's
 *   for the same bytes in-process;
 * - captions (empty, blank, 1 MB, at and one byte over the limit, control characters, emoji, RTL,
 *   Chinese, lone surrogates) and structural garbage (not an object, an array, missing fields,
 *   wrong types: a string, an ArrayBuffer, a DataView, a plain array or a Blob-like object for the
 *   image; numbers, objects, arrays for the caption and premise; a malformed checkId (the id
 *   check:cancel names a check by); prototype-pollution keys);
 *
 * After each call the service still answers, and ofa_ve_request_total moved by one under the
 * status of the code the caller got. At the end the totals equal the calls made.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_INPUT_LIMITS } from '../../main/config.ts';
import { CheckError, ERROR_STATUS, type ErrorCode } from '../../main/errors.ts';
import { EntailmentEngine } from '../../main/inference/entailment-engine.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import type { CheckResult } from '../../preload/wire-types.ts';
import { buildImageCorpus, IMAGE_CORPUS_LIMITS } from '../fixtures/image-corpus.ts';
import { requestTotals } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

const MiB = 1024 * 1024;
const DEFAULT_MAX_TEXT_BYTES = DEFAULT_INPUT_LIMITS.maxTextBytes;

interface Case {
  name: string;
  request: () => unknown;
  /** 'ok' for an answer; else the code the caller must get. */
  expect: 'ok' | ErrorCode;
  /** For answers: the in-process engine's scores for this input must match. */
  engineInput?: { image: Uint8Array; text: string; premise?: string };
}

type Called = { ok: true; value: CheckResult } | { ok: false; code: string; message: string };

/** What the IPC handler does with a renderer's arguments: structured clone, then the runtime. */
async function callIpc(runtime: ServiceRuntime, request: unknown): Promise<Called> {
  try {
    return { ok: true, value: await runtime.checkStructured(structuredClone(request)) };
  } catch (err) {
    assert.ok(err instanceof CheckError, `a CheckError, not ${String(err)}`);
    return { ok: false, code: err.code, message: err.message };
  }
}

const photo = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 30, g: 140, b: 200 } } })
  .png()
  .toBuffer();
const bytes = new Uint8Array(photo);
/** `data` as a view into a larger ArrayBuffer, `before` bytes in (as a slice of a file read would be). */
function viewAtOffset(data: Uint8Array, before: number, afterBytes: number): Uint8Array {
  const buffer = new ArrayBuffer(before + data.length + afterBytes);
  const view = new Uint8Array(buffer, before, data.length);
  view.set(data);
  return view;
}
const captionOfBytes = (n: number): string => 'ab '.repeat(Math.floor(n / 3)) + 'x'.repeat(n % 3);
const corpus = await buildImageCorpus();

function runTable(title: string, limits: ConstructorParameters<typeof ServiceRuntime>[0]['limits'], cases: () => Case[]): void {
  describe(title, () => {
    let runtime: ServiceRuntime;
    let engine: EntailmentEngine;
    let calls = 0;
    const byStatus = new Map<number, number>();
    before(async () => {
      runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', limits, logger: silentLogger });
      assert.ok(await runtime.start(), 'the demo model loads');
      engine = await EntailmentEngine.load(DEMO_MODEL_DIR, { provider: 'cpu', limits });
    });
    after(async () => {
      await engine?.close();
      await runtime?.close(2000);
    });

    for (const c of cases()) {
      it(c.name, async () => {
        const before = requestTotals((await runtime.metrics.scrape(false)).body).total;
        const got = await callIpc(runtime, c.request());
        calls += 1;
        if (c.expect === 'ok') {
          assert.ok(got.ok, got.ok ? '' : `expected an answer, got ${got.code}: ${got.message}`);
          assert.match(got.value.label, /^(YES|NO|MAYBE)$/);
          byStatus.set(200, (byStatus.get(200) ?? 0) + 1);
          if (c.engineInput) {
            const direct = await engine.check(c.engineInput);
            for (const label of ['YES', 'NO', 'MAYBE'] as const)
              assert.ok(Math.abs(got.value.scores[label] - direct.scores[label]) < 1e-5, `${label} score`);
          }
        } else {
          assert.ok(!got.ok, `expected ${c.expect}, got an answer`);
          assert.equal(got.code, c.expect, got.message);
          assert.ok(got.message.length > 0 && !/\bat \S+:\d+/.test(got.message), 'a message for people, no stack');
          const status = ERROR_STATUS[c.expect];
          byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        }
        const afterTotal = requestTotals((await runtime.metrics.scrape(false)).body).total;
        assert.equal(afterTotal, before + 1, 'counted exactly once');
      });
    }

    it('still answers afterwards, and the counters equal the calls made, per status', async () => {
      const got = await callIpc(runtime, { image: bytes, text: 'a dog on the grass', name: 'photo.png' });
      assert.ok(got.ok);
      calls += 1;
      byStatus.set(200, (byStatus.get(200) ?? 0) + 1);
      const { total, series } = requestTotals((await runtime.metrics.scrape(false)).body);
      assert.equal(total, calls);
      for (const [status, n] of byStatus) {
        const counted = [...series].filter(([labels]) => labels.includes(`status_code="${status}"`)).reduce((sum, [, v]) => sum + v, 0);
        assert.equal(counted, n, `status ${status}`);
      }
      assert.equal(runtime.stats.snapshot(900).totals.requests, calls, 'the live stats saw the same calls');
    });
  });
}

runTable(
  'IPC check:run with the generated image corpus (limits: IMAGE_CORPUS_LIMITS)',
  { maxImageBytes: IMAGE_CORPUS_LIMITS.maxBytes, maxImagePixels: IMAGE_CORPUS_LIMITS.maxPixels },
  () =>
    corpus.map((c) => {
      const text = `a picture for ${c.name}`;
      return {
        name: c.name,
        request: () => ({ image: new Uint8Array(c.bytes), name: `${c.name}.bin`, text }),
        expect: c.expect,
        engineInput: c.expect === 'ok' ? { image: c.bytes, text } : undefined,
      };
    }),
);

runTable('IPC check:run with odd captions and malformed requests (default limits)', undefined, () => [
  // Captions.
  {
    name: 'a plain caption',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog on the grass' }),
    expect: 'ok',
    engineInput: { image: bytes, text: 'a dog on the grass' },
  },
  {
    name: 'a caption and a premise',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog', premise: 'an animal outside' }),
    expect: 'ok',
    engineInput: { image: bytes, text: 'a dog', premise: 'an animal outside' },
  },
  { name: 'an empty caption', request: () => ({ image: bytes, name: 'p.png', text: '' }), expect: 'EMPTY_TEXT' },
  {
    name: 'a caption of whitespace only',
    request: () => ({ image: bytes, name: 'p.png', text: ' \t\r\n \u00a0\u3000 ' }),
    expect: 'EMPTY_TEXT',
  },
  {
    name: 'a caption of control characters only',
    request: () => ({ image: bytes, name: 'p.png', text: '\u0000\u0001\u0007\u001b' }),
    expect: 'EMPTY_TEXT',
  },
  { name: 'a caption of 1 MB', request: () => ({ image: bytes, name: 'p.png', text: 'a '.repeat(MiB / 2) }), expect: 'TEXT_TOO_LONG' },
  {
    name: 'a premise of 1 MB',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog', premise: 'a '.repeat(MiB / 2) }),
    expect: 'TEXT_TOO_LONG',
  },
  {
    name: 'a caption of exactly the byte limit',
    request: () => ({ image: bytes, name: 'p.png', text: captionOfBytes(DEFAULT_MAX_TEXT_BYTES) }),
    expect: 'ok',
  },
  {
    name: 'a caption one byte over the limit',
    request: () => ({ image: bytes, name: 'p.png', text: captionOfBytes(DEFAULT_MAX_TEXT_BYTES + 1) }),
    expect: 'TEXT_TOO_LONG',
  },
  {
    name: 'a caption with NUL and control characters among words',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog\u0000 on\u0007 the\u001b[0m grass' }),
    expect: 'ok',
  },
  { name: 'a caption of emoji', request: () => ({ image: bytes, name: 'p.png', text: '🐶 on 🌿 with 👨‍👩‍👧' }), expect: 'ok' },
  { name: 'an Arabic caption (RTL)', request: () => ({ image: bytes, name: 'p.png', text: 'كلب على العشب' }), expect: 'ok' },
  { name: 'a Chinese caption', request: () => ({ image: bytes, name: 'p.png', text: '草地上的一只狗' }), expect: 'ok' },
  {
    name: 'a caption with a lone surrogate',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog \ud800 on grass' }),
    expect: 'ok',
  },
  {
    name: 'an empty premise is ignored',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog on the grass', premise: '' }),
    expect: 'ok',
    engineInput: { image: bytes, text: 'a dog on the grass' },
  },

  // Structure: what a buggy or hostile page could pass to window.ofaVe.check().
  { name: 'no request at all (undefined)', request: () => undefined, expect: 'BAD_REQUEST' },
  { name: 'null', request: () => null, expect: 'BAD_REQUEST' },
  { name: 'a string', request: () => 'a dog', expect: 'BAD_REQUEST' },
  { name: 'a number', request: () => 42, expect: 'BAD_REQUEST' },
  { name: 'an array', request: () => [bytes, 'a dog'], expect: 'BAD_REQUEST' },
  { name: 'an empty object', request: () => ({}), expect: 'BAD_REQUEST' },
  { name: 'no image', request: () => ({ name: 'p.png', text: 'a dog' }), expect: 'BAD_REQUEST' },
  {
    name: 'the image as a base64 string',
    request: () => ({ image: photo.toString('base64'), name: 'p.png', text: 'a dog' }),
    expect: 'BAD_REQUEST',
  },
  {
    name: 'the image as an ArrayBuffer',
    request: () => ({ image: bytes.slice().buffer, name: 'p.png', text: 'a dog' }),
    expect: 'BAD_REQUEST',
  },
  {
    name: 'the image as a DataView',
    request: () => ({ image: new DataView(bytes.slice().buffer), name: 'p.png', text: 'a dog' }),
    expect: 'BAD_REQUEST',
  },
  { name: 'the image as an array of numbers', request: () => ({ image: [...bytes], name: 'p.png', text: 'a dog' }), expect: 'BAD_REQUEST' },
  {
    name: 'the image as a Float32Array',
    request: () => ({ image: new Float32Array(16), name: 'p.png', text: 'a dog' }),
    expect: 'BAD_REQUEST',
  },
  {
    name: 'the image as an object with a data field',
    request: () => ({ image: { data: bytes }, name: 'p.png', text: 'a dog' }),
    expect: 'BAD_REQUEST',
  },
  { name: 'an empty Uint8Array', request: () => ({ image: new Uint8Array(0), name: 'p.png', text: 'a dog' }), expect: 'INVALID_IMAGE' },
  {
    name: 'a Uint8Array over a larger buffer (a view at an offset)',
    request: () => ({ image: viewAtOffset(bytes, 100, 50), name: 'p.png', text: 'a dog on the grass' }),
    expect: 'ok',
    engineInput: { image: bytes, text: 'a dog on the grass' },
  },
  {
    name: 'a Uint8ClampedArray image (another typed array)',
    request: () => ({ image: new Uint8ClampedArray(bytes), name: 'p.png', text: 'a dog' }),
    expect: 'BAD_REQUEST',
  },
  { name: 'no text', request: () => ({ image: bytes, name: 'p.png' }), expect: 'BAD_REQUEST' },
  { name: 'text null', request: () => ({ image: bytes, name: 'p.png', text: null }), expect: 'BAD_REQUEST' },
  { name: 'a number for text', request: () => ({ image: bytes, name: 'p.png', text: 42 }), expect: 'BAD_REQUEST' },
  { name: 'an array for text', request: () => ({ image: bytes, name: 'p.png', text: ['a', 'dog'] }), expect: 'BAD_REQUEST' },
  {
    name: 'an object for premise',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog', premise: { text: 'x' } }),
    expect: 'BAD_REQUEST',
  },
  { name: 'a number for premise', request: () => ({ image: bytes, name: 'p.png', text: 'a dog', premise: 7 }), expect: 'BAD_REQUEST' },
  { name: 'a number for checkId', request: () => ({ image: bytes, name: 'p.png', text: 'a dog', checkId: 7 }), expect: 'BAD_REQUEST' },
  { name: 'an empty checkId', request: () => ({ image: bytes, name: 'p.png', text: 'a dog', checkId: '' }), expect: 'BAD_REQUEST' },
  {
    name: 'a checkId of 65 characters',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog', checkId: 'c'.repeat(65) }),
    expect: 'BAD_REQUEST',
  },
  {
    name: 'a checkId of 64 characters',
    request: () => ({ image: bytes, name: 'p.png', text: 'a dog', checkId: 'c'.repeat(64) }),
    expect: 'ok',
  },
  {
    name: 'a Map as the request',
    request: () =>
      new Map<string, unknown>([
        ['image', bytes],
        ['text', 'a dog'],
      ]),
    expect: 'BAD_REQUEST',
  },
  {
    name: 'prototype-pollution keys beside valid fields',
    request: () =>
      JSON.parse(`{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, "text": "a dog on the grass"}`) as object,
    expect: 'BAD_REQUEST',
  },
  {
    name: 'an image of 20 MiB + 1 byte',
    request: () => ({ image: new Uint8Array(20 * MiB + 1), name: 'big.png', text: 'a dog' }),
    expect: 'IMAGE_TOO_LARGE',
  },
]);

it('nothing on Object.prototype after the prototype-pollution case', () => {
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

describe('sizes are refused before the check is queued (as the HTTP server refuses a body)', () => {
  it('an image or a caption over the limit gets its own code even with no model loaded yet (else NOT_READY)', async () => {
    // Never started: a check that reached the queue would be answered NOT_READY.
    const runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger });
    try {
      const big = await callIpc(runtime, { image: new Uint8Array(20 * MiB + 1), text: 'a dog' });
      assert.deepEqual(big.ok ? big : big.code, 'IMAGE_TOO_LARGE');
      const long = await callIpc(runtime, { image: bytes, text: 'x'.repeat(16 * 1024 + 1) });
      assert.deepEqual(long.ok ? long : long.code, 'TEXT_TOO_LONG');
      const fine = await callIpc(runtime, { image: bytes, text: 'a dog' });
      assert.deepEqual(fine.ok ? fine : fine.code, 'NOT_READY', 'a check within the limits does reach the queue');
    } finally {
      await runtime.close(0);
    }
  });
});
