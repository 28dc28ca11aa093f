/**
 * Bad input over HTTP: the single reference of what POST /api/v1/check answers to every kind of
 * wrong, odd or hostile request, table-driven.
 *
 * - every case of the generated image corpus (test/fixtures/image-corpus.ts), as a multipart upload
 *   and as base64 JSON, under the corpus limits: its documented status and code, or, for the valid
 *   unusual images (animated GIF/WebP, CMYK JPEG, 16-bit and palette PNG, EXIF-rotated JPEG, ...),
 *   a 200 whose scores equal what the engine gives for the same bytes in-process;
 * - under the default limits (`ofa-ve serve` without options): captions (empty, blank, 1 MB, at and
 *   one byte over the limit, NUL and control characters, emoji, Arabic, Hebrew, Chinese, invalid
 *   UTF-8 as multipart or JSON, a typed U+FFFD, declared part charsets), malformed multipart (bad
 *   boundary, truncated, no closing delimiter, bad part headers, missing/duplicate/extra parts, texts
 *   sent as files), wrong content types (JSON is application/json with at most charset=utf-8), bad
 *   JSON and base64, 20 MB+ uploads, wrong methods (405 with Allow), request targets, header blocks
 *   and chunked bodies Node's parser refuses (a JSON error all the same), and clients that hang up
 *   mid-body.
 *
 * After every request: /healthz answers, and ofa_ve_request_total moved by exactly what the case
 * says (+1 under its status, or nothing for requests that never reach the check route). At the end
 * the per-status totals equal the counts computed from the table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DEFAULT_INPUT_LIMITS } from '../../main/config.ts';
import type { ErrorCode } from '../../main/errors.ts';
import { EntailmentEngine } from '../../main/inference/entailment-engine.ts';
import { buildImageCorpus, IMAGE_CORPUS_LIMITS } from '../fixtures/image-corpus.ts';
import { DEFAULT_BOUNDARY, multipartBody, multipartType, type FormPart } from '../support/multipart-body.ts';
import { rawRequest } from '../support/raw-http.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR, REPO_ROOT } from '../support/shared-reference.ts';

const MiB = 1024 * 1024;
const DEFAULT_MAX_IMAGE_BYTES = 20 * MiB;
const DEFAULT_MAX_TEXT_BYTES = DEFAULT_INPUT_LIMITS.maxTextBytes;
const REQUEST_TIMEOUT_MS = 30_000;
const RAW_TIMEOUT_MS = 5_000;

/** How one case is sent: through fetch, or as raw bytes on a socket (for what no client would send). */
type Send =
  | { kind: 'fetch'; method?: string; body?: Uint8Array | string | (() => ReadableStream<Uint8Array>); contentType?: string }
  | { kind: 'raw'; request: (host: string) => string | Buffer; abortAfterWrite?: boolean };

interface Case {
  name: string;
  send: () => Send;
  /** 0: no response is expected (the client hangs up). */
  status: number;
  code?: ErrorCode;
  /** What the error's message must say. */
  message?: RegExp;
  /**
   * Where ofa_ve_request_total must move: 'route' (default) counts under `status`; 'none' for a
   * request that never reaches the check route (another path, or refused by Node's HTTP parser);
   * a number for a request counted under another status than the client sees (or never sees).
   */
  counted?: 'route' | 'none' | number;
  /** A bare answer without a body, as Node's HTTP parser gives it (431 for an oversized request head: no error code of ours). */
  nodeParser?: boolean;
  /** The Allow header a 405 must carry. */
  allow?: string;
  /** For 200s: the scores must equal those of the earlier case with this name. */
  sameScoresAs?: string;
  /** For 200s: the scores must equal the in-process engine's for this input. */
  engineInput?: { image: Uint8Array; text: string; premise?: string };
}

interface Answer {
  status: number;
  body: string;
  contentType: string;
  allow?: string;
}

const json = (value: unknown): Send => ({ kind: 'fetch', body: JSON.stringify(value), contentType: 'application/json' });
const form = (
  parts: FormPart[],
  options: { boundary?: string; close?: boolean } = {},
  contentType = multipartType(options.boundary),
): Send => ({
  kind: 'fetch',
  body: multipartBody(parts, options),
  contentType,
});
const raw = (request: (host: string) => string | Buffer, abortAfterWrite = false): Send => ({ kind: 'raw', request, abortAfterWrite });

/** A body of `total` bytes in 64 KiB chunks, sent with chunked transfer encoding (no Content-Length). */
function chunkedStream(total: number): () => ReadableStream<Uint8Array> {
  return () => {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        const n = Math.min(64 * 1024, total - sent);
        sent += n;
        controller.enqueue(new Uint8Array(n).fill(0x41));
      },
    });
  };
}

async function send(h: Harness, how: Send): Promise<Answer> {
  if (how.kind === 'raw') {
    const port = Number(new URL(h.url).port);
    const res = await rawRequest(port, how.request(`127.0.0.1:${port}`), {
      timeoutMs: RAW_TIMEOUT_MS,
      abortAfterWrite: how.abortAfterWrite,
    });
    return { status: res.status, body: res.body, contentType: res.headers['content-type'] ?? '', allow: res.headers.allow };
  }
  const headers: Record<string, string> = {};
  if (how.contentType !== undefined) headers['content-type'] = how.contentType;
  const body = typeof how.body === 'function' ? how.body() : how.body instanceof Uint8Array ? new Uint8Array(how.body) : how.body;
  const init: RequestInit & { duplex?: 'half' } = {
    method: how.method ?? 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  if (typeof how.body === 'function') init.duplex = 'half';
  const res = await fetch(`${h.url}/api/v1/check`, init);
  return {
    status: res.status,
    body: await res.text(),
    contentType: res.headers.get('content-type') ?? '',
    allow: res.headers.get('allow') ?? undefined,
  };
}

async function statusTotals(h: Harness): Promise<Map<number, number>> {
  const { series } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
  const byStatus = new Map<number, number>();
  for (const [labels, value] of series) {
    const status = Number(/status_code="(\d+)"/.exec(labels)?.[1]);
    byStatus.set(status, (byStatus.get(status) ?? 0) + value);
  }
  return byStatus;
}

const asObject = (m: Map<number, number>): Record<string, number> =>
  Object.fromEntries(
    [...m]
      .filter(([, n]) => n !== 0)
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => [String(s), n]),
  );

/** Per status: how much `now` exceeds `before` (statuses that did not move are left out). */
function difference(now: Map<number, number>, before: Map<number, number>): Record<string, number> {
  const moved = new Map<number, number>();
  for (const [status, n] of now) if (n !== (before.get(status) ?? 0)) moved.set(status, n - (before.get(status) ?? 0));
  return asObject(moved);
}

/**
 * Runs the table against one harness: one `it` per case, then one for the totals. The harness is
 * created in `before` by `start`.
 */
function runTable(title: string, start: () => Promise<Harness>, cases: () => Case[], engine: () => EntailmentEngine | undefined): void {
  describe(title, () => {
    let h: Harness;
    const expected = new Map<number, number>();
    // The server runs in this process: an error that escapes its request handling would stop
    // `ofa-ve serve`; here it is caught and pinned on the case that caused it.
    const escaped: string[] = [];
    const onEscape = (err: unknown) => escaped.push(String((err as Error)?.stack ?? err));
    const scoresOf = new Map<string, Record<string, number>>();

    before(async () => {
      h = await start();
      process.on('uncaughtException', onEscape);
      process.on('unhandledRejection', onEscape);
    });
    after(async () => {
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
      await h?.close();
    });

    for (const c of cases()) {
      it(`${c.name} → ${c.status === 0 ? 'no answer' : c.status} ${c.code ?? ''}`.trimEnd(), async () => {
        const countedUnder = c.counted === 'none' ? undefined : typeof c.counted === 'number' ? c.counted : c.status;
        if (countedUnder !== undefined) expected.set(countedUnder, (expected.get(countedUnder) ?? 0) + 1);
        const before = await statusTotals(h);
        escaped.length = 0;

        const answer = await send(h, c.send()).catch((err: unknown) => {
          throw new Error(`no answer: ${String(err)}${escaped.length ? `\nescaped from the server: ${escaped.join('\n')}` : ''}`);
        });
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(escaped, [], 'no uncaught exception or unhandled rejection in the server');
        assert.equal(answer.status, c.status, `${c.name}: ${answer.body.slice(0, 300)}`);
        if (c.allow !== undefined) assert.equal(answer.allow, c.allow, 'a 405 says which methods the route serves');
        if (c.status === 200) {
          assert.match(answer.contentType, /^application\/json/);
          const body = JSON.parse(answer.body) as { label: string; score: number; scores: Record<string, number> };
          assert.match(body.label, /^(YES|NO|MAYBE)$/);
          assert.equal(body.score, body.scores[body.label]);
          const sum = (body.scores.YES ?? 0) + (body.scores.NO ?? 0) + (body.scores.MAYBE ?? 0);
          assert.ok(Math.abs(sum - 1) < 1e-6, `scores sum to 1 (${sum})`);
          scoresOf.set(c.name, body.scores);
          if (c.sameScoresAs !== undefined) {
            const reference = scoresOf.get(c.sameScoresAs);
            assert.ok(reference, `the case "${c.sameScoresAs}" ran before this one`);
            assert.deepEqual(body.scores, reference);
          }
          if (c.engineInput) {
            const direct = await engine()!.check(c.engineInput);
            for (const label of ['YES', 'NO', 'MAYBE'] as const) {
              assert.ok(
                Math.abs((body.scores[label] ?? NaN) - direct.scores[label]) < 1e-5,
                `${label}: HTTP ${body.scores[label]} vs engine ${direct.scores[label]}`,
              );
            }
          }
        } else if (c.nodeParser) {
          assert.equal(answer.body, '', 'a 431 has no body');
        } else if (c.status !== 0) {
          assert.match(answer.contentType, /^application\/json/);
          const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
          assert.equal(body.error.code, c.code, body.error.message);
          assert.ok(body.error.message.length > 0);
          if (c.message) assert.match(body.error.message, c.message);
          assert.doesNotMatch(body.error.message, /\n\s+at |node_modules|\.ts:\d+/, 'no stack trace');
          assert.ok(!body.error.message.includes(REPO_ROOT), 'no server path');
        }

        assert.equal((await fetch(`${h.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status, 200, '/healthz after the case');
        // Answered requests are counted before the answer is sent; one the client abandoned is
        // counted when the server notices, so give that a moment.
        const want = asObject(countedUnder === undefined ? new Map() : new Map([[countedUnder, 1]]));
        let moved = difference(await statusTotals(h), before);
        for (let i = 0; i < 40 && c.status === 0 && JSON.stringify(moved) !== JSON.stringify(want); i++) {
          await new Promise((r) => setTimeout(r, 50));
          moved = difference(await statusTotals(h), before);
        }
        assert.deepEqual(moved, want, 'ofa_ve_request_total moved by exactly this case');
      });
    }

    it('ofa_ve_request_total: the sum over all series equals the check requests sent, per status as the table says', async (t) => {
      const { total } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
      const sent = [...expected.values()].reduce((a, b) => a + b, 0);
      assert.equal(total, sent);
      assert.deepEqual(asObject(await statusTotals(h)), asObject(expected));
      const stats = (await (await fetch(`${h.url}/api/v1/stats?window=900`)).json()) as {
        totals: { requests: number; by_status: Record<string, number> };
      };
      assert.equal(stats.totals.requests, sent, 'the live stats count the same requests');
      assert.deepEqual(stats.totals.by_status, asObject(expected), 'the live stats count them under the same statuses');
      t.diagnostic(`check requests per status: ${JSON.stringify(asObject(expected))}`);
    });
  });
}

// ---- inputs -------------------------------------------------------------------------------------

const corpus = await buildImageCorpus();
const photo = await sharp({ create: { width: 48, height: 32, channels: 3, background: { r: 30, g: 140, b: 200 } } })
  .png()
  .toBuffer();
const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
const b64 = photo.toString('base64');
/** A PNG padded with zeros after IEND to exactly `size` bytes (decoders ignore what follows IEND). */
const paddedPng = (size: number): Buffer => Buffer.concat([photo, Buffer.alloc(size - photo.length)]);
/** Words of "ab " up to exactly `bytes` UTF-8 bytes (OFA's 80-word cut keeps the prompt short). */
const captionOfBytes = (bytes: number): string => 'ab '.repeat(Math.floor(bytes / 3)) + 'x'.repeat(bytes % 3);
/** Base64 cut or extended to a length of 4n+1 characters: no byte sequence encodes to that. */
const base64Of4nPlus1 = (valid: string): string => {
  let out = valid.replace(/=+$/, '');
  while (out.length % 4 !== 1) out += 'A';
  return out;
};
const image = (data: Uint8Array = photo, filename = 'photo.png'): FormPart => ({ name: 'image', filename, contentType: 'image/png', data });
const text = (value: string | Uint8Array): FormPart => ({ name: 'text', data: value });
const checkRequest = (host: string, contentType: string, length: number, extraHeaders = ''): string =>
  `POST /api/v1/check HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n${extraHeaders}Connection: close\r\n\r\n`;
/** The head of a check with a chunked body (no Connection: close: the server must close it itself). */
const chunkedCheck = (host: string, contentType: string): string =>
  `POST /api/v1/check HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nTransfer-Encoding: chunked\r\n\r\n`;

// ---- the corpus, under the limits its expectations assume ---------------------------------------

let engine: EntailmentEngine | undefined;
before(async () => {
  engine = await EntailmentEngine.load(DEMO_MODEL_DIR, {
    provider: 'cpu',
    limits: { maxImageBytes: IMAGE_CORPUS_LIMITS.maxBytes, maxImagePixels: IMAGE_CORPUS_LIMITS.maxPixels },
  });
});
after(async () => engine?.close());

runTable(
  'the generated image corpus, multipart and JSON (limits: IMAGE_CORPUS_LIMITS)',
  () => startHarness({ limits: { maxImageBytes: IMAGE_CORPUS_LIMITS.maxBytes, maxImagePixels: IMAGE_CORPUS_LIMITS.maxPixels } }),
  () =>
    corpus.flatMap((c): Case[] => {
      const status =
        c.expect === 'ok' ? 200 : { INVALID_IMAGE: 400, UNSUPPORTED_MEDIA_TYPE: 415, IMAGE_TOO_LARGE: 413 }[c.expect as string];
      assert.ok(status, `a status for ${c.expect}`);
      const code = c.expect === 'ok' ? undefined : c.expect;
      const caption = `a picture for ${c.name}`;
      return [
        {
          name: `${c.name} (multipart)`,
          send: () => form([image(c.bytes, `${c.name}.bin`), text(caption)]),
          status,
          code,
          engineInput: c.expect === 'ok' ? { image: c.bytes, text: caption } : undefined,
        },
        {
          name: `${c.name} (JSON, base64)`,
          send: () => json({ image: c.bytes.toString('base64'), text: caption }),
          status,
          code,
          sameScoresAs: c.expect === 'ok' ? `${c.name} (multipart)` : undefined,
        },
      ];
    }),
  () => engine,
);

// ---- everything else, under the default limits of `ofa-ve serve` --------------------------------

runTable(
  'captions, multipart, content types, JSON, sizes and raw HTTP (default limits)',
  () => startHarness(),
  () => [
    // Captions.
    {
      name: 'a plain caption (reference)',
      send: () => form([image(), text('a dog on the grass')]),
      status: 200,
      engineInput: { image: photo, text: 'a dog on the grass' },
    },
    { name: 'an empty caption', send: () => form([image(), text('')]), status: 400, code: 'EMPTY_TEXT' },
    { name: 'an empty caption (JSON)', send: () => json({ image: b64, text: '' }), status: 400, code: 'EMPTY_TEXT' },
    { name: 'a caption of whitespace only', send: () => form([image(), text(' \t\r\n \u00a0\u3000 ')]), status: 400, code: 'EMPTY_TEXT' },
    { name: 'a caption of punctuation only', send: () => form([image(), text('?!... ;')]), status: 400, code: 'EMPTY_TEXT' },
    {
      name: 'a caption of control characters only (NUL, BEL, ESC)',
      send: () => form([image(), text('\u0000\u0001\u0007\u001b')]),
      status: 400,
      code: 'EMPTY_TEXT',
    },
    {
      name: 'a caption of zero-width characters only',
      send: () => form([image(), text('\u200b\u200d\ufeff')]),
      status: 400,
      code: 'EMPTY_TEXT',
    },
    { name: 'a caption of 1 MB', send: () => form([image(), text('a '.repeat(MiB / 2))]), status: 413, code: 'TEXT_TOO_LONG' },
    { name: 'a caption of 1 MB (JSON)', send: () => json({ image: b64, text: 'a '.repeat(MiB / 2) }), status: 413, code: 'TEXT_TOO_LONG' },
    {
      name: 'a premise of 1 MB',
      send: () => form([image(), text('a dog'), { name: 'premise', data: 'a '.repeat(MiB / 2) }]),
      status: 413,
      code: 'TEXT_TOO_LONG',
    },
    {
      name: 'a premise of 1 MB (JSON)',
      send: () => json({ image: b64, text: 'a dog', premise: 'a '.repeat(MiB / 2) }),
      status: 413,
      code: 'TEXT_TOO_LONG',
    },
    { name: 'a caption of exactly the byte limit', send: () => form([image(), text(captionOfBytes(DEFAULT_MAX_TEXT_BYTES))]), status: 200 },
    {
      name: 'a caption of exactly the byte limit (JSON)',
      send: () => json({ image: b64, text: captionOfBytes(DEFAULT_MAX_TEXT_BYTES) }),
      status: 200,
      sameScoresAs: 'a caption of exactly the byte limit',
    },
    {
      name: 'a caption one byte over the limit',
      send: () => form([image(), text(captionOfBytes(DEFAULT_MAX_TEXT_BYTES + 1))]),
      status: 413,
      code: 'TEXT_TOO_LONG',
    },
    {
      name: 'a caption one byte over the limit (JSON)',
      send: () => json({ image: b64, text: captionOfBytes(DEFAULT_MAX_TEXT_BYTES + 1) }),
      status: 413,
      code: 'TEXT_TOO_LONG',
    },
    {
      name: 'a caption of 3000 Chinese characters (one "word": too many tokens)',
      send: () => form([image(), text('草'.repeat(3000))]),
      status: 413,
      code: 'TEXT_TOO_LONG',
    },
    {
      name: 'a caption with NUL and control characters among words',
      send: () => form([image(), text('a dog\u0000 on\u0007 the\u001b[0m grass\u0008')]),
      status: 200,
    },
    { name: 'a caption of emoji', send: () => form([image(), text('🐶 on 🌿 with 👨‍👩‍👧')]), status: 200 },
    { name: 'a caption of one emoji only', send: () => form([image(), text('🐶')]), status: 200 },
    { name: 'an Arabic caption (RTL)', send: () => form([image(), text('كلب على العشب')]), status: 200 },
    { name: 'a Hebrew caption (RTL)', send: () => form([image(), text('כלב על הדשא')]), status: 200 },
    { name: 'a Chinese caption', send: () => form([image(), text('草地上的一只狗')]), status: 200 },
    {
      name: 'a Chinese caption (JSON)',
      send: () => json({ image: b64, text: '草地上的一只狗' }),
      status: 200,
      sameScoresAs: 'a Chinese caption',
    },
    { name: 'a caption with bidi override characters', send: () => form([image(), text('\u202egod a\u202c on grass')]), status: 200 },
    {
      name: 'a caption with invalid UTF-8 bytes',
      send: () => form([image(), text(Buffer.from([0x61, 0x20, 0xff, 0xfe, 0x20, 0x64, 0x6f, 0x67]))]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the caption \(text\) is not valid UTF-8$/,
    },
    {
      name: 'a caption of invalid UTF-8 bytes only (printf "\\xff\\xfe\\xfd")',
      send: () => form([image(), text(Buffer.from([0xff, 0xfe, 0xfd]))]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the caption \(text\) is not valid UTF-8$/,
    },
    {
      name: 'a caption cut in the middle of a UTF-8 character',
      send: () => form([image(), text(Buffer.from('a dog ☕', 'utf8').subarray(0, -1))]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the caption \(text\) is not valid UTF-8$/,
    },
    {
      name: 'a premise with invalid UTF-8 bytes',
      send: () => form([image(), text('a dog'), { name: 'premise', data: Buffer.from([0x61, 0xc3, 0x28]) }]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the premise is not valid UTF-8$/,
    },
    {
      name: 'a JSON body with an invalid UTF-8 byte inside the caption',
      send: () => ({
        kind: 'fetch',
        body: Buffer.concat([Buffer.from(`{"image":"${b64}","text":"a `), Buffer.from([0xff]), Buffer.from(' dog"}')]),
        contentType: 'application/json',
      }),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the JSON body is not valid UTF-8$/,
    },
    {
      name: 'a caption with a U+FFFD typed in it (valid UTF-8 bytes EF BF BD)',
      send: () => form([image(), text('a dog \ufffd on grass')]),
      status: 200,
    },
    {
      name: 'a caption with a U+FFFD typed in it (JSON)',
      send: () => json({ image: b64, text: 'a dog \ufffd on grass' }),
      status: 200,
      sameScoresAs: 'a caption with a U+FFFD typed in it (valid UTF-8 bytes EF BF BD)',
    },
    { name: 'an accented caption (café)', send: () => form([image(), text('a café with a dog')]), status: 200 },
    {
      name: 'an accented caption in a part that declares charset=utf-8 (as Spring sends it)',
      send: () => form([image(), { name: 'text', contentType: 'text/plain; charset=UTF-8', data: 'a café with a dog' }]),
      status: 200,
      sameScoresAs: 'an accented caption (café)',
    },
    {
      name: 'an accented caption in a part that declares charset=iso-8859-1 (Latin-1 bytes)',
      send: () =>
        form([image(), { name: 'text', contentType: 'text/plain; charset=ISO-8859-1', data: Buffer.from('a café with a dog', 'latin1') }]),
      status: 200,
      sameScoresAs: 'an accented caption (café)',
    },
    { name: 'a caption with a lone surrogate (JSON escape)', send: () => json({ image: b64, text: 'a dog \ud800 on grass' }), status: 200 },
    {
      name: 'an empty premise is ignored',
      send: () => json({ image: b64, text: 'a dog on the grass', premise: '' }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },

    {
      name: 'a premise of punctuation only is refused, not silently dropped',
      send: () => json({ image: b64, text: 'a dog on the grass', premise: '?!' }),
      status: 400,
      code: 'EMPTY_TEXT',
      message: /premise has no words/,
    },
    {
      name: 'a blank premise is ignored',
      send: () => json({ image: b64, text: 'a dog on the grass', premise: ' \t ' }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },

    // Multipart structure.
    {
      name: 'multipart with a boundary that is not the one in the body',
      send: () => form([image(), text('a dog')], {}, multipartType('not-the-boundary')),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart without a boundary parameter',
      send: () => form([image(), text('a dog')], {}, 'multipart/form-data'),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart cut off inside the image part',
      send: () => ({ kind: 'fetch', body: multipartBody([image(), text('a dog')]).subarray(0, 150), contentType: multipartType() }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart cut off inside the text part',
      send: () => ({
        kind: 'fetch',
        body: multipartBody([image(), text('a dog on the grass')], { close: false }).subarray(0, -8),
        contentType: multipartType(),
      }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart without the closing delimiter',
      send: () => form([image(), text('a dog')], { close: false }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart with an empty body',
      send: () => ({ kind: 'fetch', body: new Uint8Array(0), contentType: multipartType() }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart with only the closing delimiter',
      send: () => ({ kind: 'fetch', body: `--${DEFAULT_BOUNDARY}--\r\n`, contentType: multipartType() }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart with a part header line without a colon',
      send: () => form([{ ...image(), headers: ['this is not a header'] }, text('a dog')]),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart with a JSON body',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: multipartType() }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart with a quoted boundary',
      send: () => form([image(), text('a dog on the grass')], {}, `multipart/form-data; boundary="${DEFAULT_BOUNDARY}"`),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'multipart with a 70-character boundary, type in capitals',
      send: () =>
        form([image(), text('a dog on the grass')], { boundary: 'B'.repeat(70) }, `MULTIPART/FORM-DATA; boundary=${'B'.repeat(70)}`),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    { name: 'multipart without the image', send: () => form([text('a dog')]), status: 400, code: 'BAD_REQUEST' },
    { name: 'multipart without the text', send: () => form([image()]), status: 400, code: 'BAD_REQUEST' },
    {
      name: 'multipart with the image as a field, not a file',
      send: () => form([{ name: 'image', data: photo }, text('a dog')]),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'multipart with a file part without a name',
      send: () => form([{ filename: 'photo.png', data: photo }, text('a dog')]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /a file part with no name; the only file part is "image"/,
    },
    {
      name: 'multipart with the text sent as a second file (curl -F text=@caption.txt)',
      send: () => form([image(), { name: 'text', filename: 'caption.txt', contentType: 'text/plain', data: 'a dog' }]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the caption \(text\) must be a plain form field, not a file/,
    },
    {
      name: 'multipart with the text sent as a file before the image',
      send: () => form([{ name: 'text', filename: 'caption.txt', data: 'a dog' }, image()]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the caption \(text\) must be a plain form field, not a file/,
    },
    {
      name: 'multipart with the text as an application/octet-stream part (a file to busboy)',
      send: () => form([image(), { name: 'text', contentType: 'application/octet-stream', data: 'a dog' }]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the caption \(text\) must be a plain form field, not a file/,
    },
    {
      name: 'multipart with the premise sent as a file',
      send: () => form([image(), text('a dog'), { name: 'premise', filename: 'premise.txt', data: 'a park' }]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^the premise must be a plain form field, not a file/,
    },
    {
      name: 'a second caption (duplicate text field): the last one wins (reference)',
      send: () => form([image(), text('a cat indoors')]),
      status: 200,
    },
    {
      name: 'duplicate text fields',
      send: () => form([image(), text('a dog on the grass'), text('a cat indoors')]),
      status: 200,
      sameScoresAs: 'a second caption (duplicate text field): the last one wins (reference)',
    },
    {
      name: 'duplicate image parts',
      send: () => form([image(), image(photo, 'second.png'), text('a dog')]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^send one image per request$/,
    },
    {
      name: 'three image parts',
      send: () => form([image(), image(photo, 'second.png'), image(photo, 'third.png'), text('a dog')]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^send one image per request$/,
    },
    {
      name: 'an extra unknown field',
      send: () => form([image(), text('a dog on the grass'), { name: 'colour', data: 'blue' }]),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'an extra unknown file',
      send: () => form([image(), text('a dog'), { name: 'thumbnail', filename: 't.png', data: photo }]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /a file part named "thumbnail"; the only file part is "image"/,
    },
    {
      name: 'an unknown file before the image',
      send: () => form([{ name: 'thumbnail', filename: 't.png', data: photo }, image(), text('a dog')]),
      status: 400,
      code: 'BAD_REQUEST',
      message: /a file part named "thumbnail"/,
    },
    {
      name: 'an extra unknown field over the text limit',
      send: () => form([image(), text('a dog'), { name: 'notes', data: 'n'.repeat(DEFAULT_MAX_TEXT_BYTES + 1) }]),
      status: 413,
      code: 'TEXT_TOO_LONG',
    },
    {
      name: 'too many fields (9)',
      send: () => form([image(), text('a dog'), ...Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, data: 'x' }))]),
      status: 400,
      code: 'BAD_REQUEST',
    },

    // Content types.
    {
      name: 'Content-Type text/plain',
      send: () => ({ kind: 'fetch', body: 'a dog', contentType: 'text/plain' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'Content-Type application/xml',
      send: () => ({ kind: 'fetch', body: '<check><text>a dog</text></check>', contentType: 'application/xml' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'Content-Type image/png (the raw image as the body)',
      send: () => ({ kind: 'fetch', body: photo, contentType: 'image/png' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'Content-Type application/x-www-form-urlencoded',
      send: () => ({ kind: 'fetch', body: 'image=x&text=a+dog', contentType: 'application/x-www-form-urlencoded' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'Content-Type multipart/mixed',
      send: () => form([image(), text('a dog')], {}, `multipart/mixed; boundary=${DEFAULT_BOUNDARY}`),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'no Content-Type',
      send: () => ({ kind: 'fetch', body: multipartBody([image(), text('a dog')]) }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    // JSON is application/json with at most charset=utf-8: nothing that merely starts like it.
    {
      name: 'Content-Type application/json-seq',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: 'application/json-seq' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'Content-Type application/jsonx',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: 'application/jsonx' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'Content-Type text/json',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: 'text/json' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'application/json; charset=latin1',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: 'application/json; charset=latin1' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      // The refused parameter is the reason: it is shown.
      message: /"application\/json; charset=latin1"/,
    },
    {
      name: 'application/json with an unknown parameter',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: 'application/json; profile=x' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'application/json with a malformed parameter',
      send: () => ({ kind: 'fetch', body: JSON.stringify({ image: b64, text: 'a dog' }), contentType: 'application/json; charset="utf-8' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'APPLICATION/JSON; Charset="UTF-8" (case and quotes)',
      send: () => ({
        kind: 'fetch',
        body: JSON.stringify({ image: b64, text: 'a dog on the grass' }),
        contentType: 'APPLICATION/JSON; Charset="UTF-8"',
      }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },

    // JSON.
    {
      name: 'invalid JSON',
      send: () => ({ kind: 'fetch', body: '{"image": "abc", "text": ', contentType: 'application/json' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'an empty JSON body',
      send: () => ({ kind: 'fetch', body: '', contentType: 'application/json' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'JSON with a byte-order mark',
      send: () => ({ kind: 'fetch', body: `\ufeff${JSON.stringify({ image: b64, text: 'a dog' })}`, contentType: 'application/json' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    { name: 'a JSON array', send: () => json([b64, 'a dog']), status: 400, code: 'BAD_REQUEST' },
    { name: 'JSON null', send: () => json(null), status: 400, code: 'BAD_REQUEST' },
    { name: 'a JSON string', send: () => json('a dog'), status: 400, code: 'BAD_REQUEST' },
    {
      name: 'JSON nested 10000 deep',
      send: () => ({ kind: 'fetch', body: `${'['.repeat(10_000)}${']'.repeat(10_000)}`, contentType: 'application/json' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    { name: 'JSON without image and text', send: () => json({}), status: 400, code: 'BAD_REQUEST' },
    { name: 'JSON without image', send: () => json({ text: 'a dog' }), status: 400, code: 'BAD_REQUEST' },
    { name: 'JSON without text', send: () => json({ image: b64 }), status: 400, code: 'BAD_REQUEST' },
    { name: 'JSON with text null', send: () => json({ image: b64, text: null }), status: 400, code: 'BAD_REQUEST' },
    { name: 'JSON with a number for text', send: () => json({ image: b64, text: 42 }), status: 400, code: 'BAD_REQUEST' },
    { name: 'JSON with an object for image', send: () => json({ image: { data: b64 }, text: 'a dog' }), status: 400, code: 'BAD_REQUEST' },
    {
      name: 'JSON with an array for premise',
      send: () => json({ image: b64, text: 'a dog', premise: ['x'] }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    { name: 'invalid base64 (symbols)', send: () => json({ image: '***not base64***', text: 'a dog' }), status: 400, code: 'BAD_REQUEST' },
    {
      name: 'invalid base64 (URL-safe alphabet)',
      send: () => json({ image: photo.toString('base64url'), text: 'a dog' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'invalid base64 (length 4n+1)',
      send: () => json({ image: base64Of4nPlus1(b64), text: 'a dog' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'invalid base64 (padding in the middle)',
      send: () => json({ image: `QUJD=${b64}`, text: 'a dog' }),
      status: 400,
      code: 'BAD_REQUEST',
    },
    {
      name: 'base64 of text, not an image',
      send: () => json({ image: Buffer.from('just some text').toString('base64'), text: 'a dog' }),
      status: 400,
      code: 'INVALID_IMAGE',
    },
    {
      name: 'base64 of an SVG',
      send: () => json({ image: svg.toString('base64'), text: 'a dog' }),
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'base64 as a data: URL',
      send: () => json({ image: `data:image/png;base64,${b64}`, text: 'a dog on the grass' }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'base64 with line breaks',
      send: () => json({ image: b64.replace(/(.{76})/g, '$1\r\n'), text: 'a dog on the grass' }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'base64 without padding',
      send: () => json({ image: b64.replace(/=+$/, ''), text: 'a dog on the grass' }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'duplicate JSON keys: the last one wins',
      send: () => ({
        kind: 'fetch',
        body: `{"image":"${b64}","text":"a dog on the grass","text":"a cat indoors"}`,
        contentType: 'application/json',
      }),
      status: 200,
      sameScoresAs: 'a second caption (duplicate text field): the last one wins (reference)',
    },
    {
      name: 'extra unknown JSON fields',
      send: () => json({ image: b64, text: 'a dog on the grass', model: 'other', options: { beam: 5 }, list: [1, 2] }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'application/json with a charset parameter',
      send: () => ({
        kind: 'fetch',
        body: JSON.stringify({ image: b64, text: 'a dog on the grass' }),
        contentType: 'application/json; charset=utf-8',
      }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },

    // Sizes (default limits: 20 MiB image, 16 KiB text).
    {
      name: 'an image of exactly 20 MiB (the limit)',
      send: () => form([image(paddedPng(DEFAULT_MAX_IMAGE_BYTES)), text('a dog on the grass')]),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'an image of exactly 20 MiB (JSON)',
      send: () => json({ image: paddedPng(DEFAULT_MAX_IMAGE_BYTES).toString('base64'), text: 'a dog on the grass' }),
      status: 200,
      sameScoresAs: 'a plain caption (reference)',
    },
    {
      name: 'an image of 20 MiB + 1 byte',
      send: () => form([image(paddedPng(DEFAULT_MAX_IMAGE_BYTES + 1)), text('a dog')]),
      status: 413,
      code: 'IMAGE_TOO_LARGE',
    },
    {
      name: 'an image of 20 MiB + 1 byte (JSON)',
      send: () => json({ image: paddedPng(DEFAULT_MAX_IMAGE_BYTES + 1).toString('base64'), text: 'a dog' }),
      status: 413,
      code: 'IMAGE_TOO_LARGE',
    },
    {
      name: 'a 30 MB multipart upload (Content-Length over the body limit)',
      send: () => form([image(paddedPng(30 * 1000 * 1000)), text('a dog')]),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a 30 MB JSON body',
      send: () => json({ image: paddedPng(22 * 1000 * 1000).toString('base64'), text: 'a dog' }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a 30 MB chunked multipart upload (no Content-Length)',
      send: () => ({ kind: 'fetch', body: chunkedStream(30 * 1000 * 1000), contentType: multipartType() }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a 30 MB chunked JSON body (no Content-Length)',
      send: () => ({ kind: 'fetch', body: chunkedStream(30 * 1000 * 1000), contentType: 'application/json' }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },

    // Methods: 405 with Allow: POST, and only a POST is a check (a CORS preflight is an OPTIONS: refused, so the browser blocks the post).
    {
      name: 'GET /api/v1/check',
      send: () => ({ kind: 'fetch', method: 'GET' }),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      allow: 'POST',
      counted: 'none',
    },
    {
      name: 'PUT /api/v1/check with a valid body',
      send: () => ({ ...form([image(), text('a dog')]), method: 'PUT' }),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      allow: 'POST',
      counted: 'none',
    },
    {
      name: 'DELETE /api/v1/check',
      send: () => ({ kind: 'fetch', method: 'DELETE' }),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      allow: 'POST',
      counted: 'none',
    },
    {
      name: 'OPTIONS /api/v1/check (a CORS preflight)',
      send: () => ({ kind: 'fetch', method: 'OPTIONS' }),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      allow: 'POST',
      counted: 'none',
    },
    {
      name: 'PATCH /api/v1/check',
      send: () => ({ kind: 'fetch', method: 'PATCH', body: '{}', contentType: 'application/json' }),
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      allow: 'POST',
      counted: 'none',
    },

    // Raw HTTP: what Node's parser refuses in a request head never reaches the route: answered with
    // the JSON error all the same (a 431 for an oversized head, as Node answers it), never counted.
    {
      name: 'a request target that is not a URL (POST //[)',
      send: () => raw((host) => `POST //[ HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`),
      status: 400,
      code: 'BAD_REQUEST',
      counted: 'none',
    },
    {
      name: 'a request target with a bad port (GET //a:99999/)',
      send: () => raw((host) => `GET //a:99999/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
      status: 400,
      code: 'BAD_REQUEST',
      counted: 'none',
    },
    {
      name: 'a header name with a space',
      send: () => raw((host) => checkRequest(host, 'application/json', 0, 'Bad Header: x\r\n')),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request: /,
      counted: 'none',
    },
    {
      name: 'a NUL byte in a header value',
      send: () => raw((host) => checkRequest(host, 'application/json', 0, 'X-Note: a\u0000b\r\n')),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request: /,
      counted: 'none',
    },
    {
      name: 'Content-Length and Transfer-Encoding together',
      send: () => raw((host) => `${checkRequest(host, 'application/json', 5, 'Transfer-Encoding: chunked\r\n')}0\r\n\r\n`),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request: /,
      counted: 'none',
    },
    {
      name: 'two different Content-Length headers',
      send: () => raw((host) => `${checkRequest(host, 'application/json', 2, 'Content-Length: 3\r\n')}{}`),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request: /,
      counted: 'none',
    },
    {
      name: 'bytes that are not HTTP before any request line',
      send: () => raw(() => 'GARBAGE\r\n\r\n'),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request: /,
      counted: 'none',
    },
    // A chunked check body Node's parser refuses: the check is counted under the 400 its client gets, not as a hang-up (499).
    {
      name: 'a chunked JSON body with an invalid chunk size',
      send: () => raw((host) => `${chunkedCheck(host, 'application/json')}zz\r\nabc\r\n0\r\n\r\n`),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request body: /,
    },
    {
      name: 'a chunked multipart body with an invalid chunk size',
      send: () => raw((host) => `${chunkedCheck(host, multipartType())}zz\r\nabc\r\n0\r\n\r\n`),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request body: /,
    },
    {
      name: 'a chunked multipart body with a chunk not ended by CRLF',
      send: () =>
        raw((host) => {
          const body = multipartBody([image(), text('a dog')]);
          const head = Buffer.from(`${chunkedCheck(host, multipartType())}${(100).toString(16)}\r\n`);
          return Buffer.concat([head, body.subarray(0, 100), Buffer.from('XX0\r\n\r\n')]);
        }),
      status: 400,
      code: 'BAD_REQUEST',
      message: /^malformed HTTP\/1\.1 request body: /,
    },
    {
      name: 'a 20 KB header block (over the 16 KiB limit)',
      send: () => raw((host) => checkRequest(host, 'application/json', 0, `X-Big: ${'a'.repeat(20_000)}\r\n`)),
      status: 431,
      counted: 'none',
      nodeParser: true,
    },
    {
      name: 'a client that hangs up mid-way through a multipart body',
      send: () =>
        raw((host) => {
          const body = multipartBody([image(), text('a dog')]);
          return Buffer.concat([Buffer.from(checkRequest(host, multipartType(), body.length)), body.subarray(0, 120)]);
        }, true),
      status: 0,
      // 499 CLIENT_CLOSED_REQUEST (nginx's convention): the client left, the body is not malformed.
      counted: 499,
    },
    {
      name: 'a client that hangs up mid-way through a JSON body',
      send: () =>
        raw((host) => {
          const body = JSON.stringify({ image: b64, text: 'a dog' });
          return checkRequest(host, 'application/json', body.length) + body.slice(0, 40);
        }, true),
      status: 0,
      // 499 CLIENT_CLOSED_REQUEST (nginx's convention): the client left, the body is not malformed.
      counted: 499,
    },
  ],
  () => engine,
);
