/**
 * bodyLimitsFor (main/server/check-body-parser.ts), the one body limit of `ofa-ve serve`, the
 * desktop app's endpoint, `ofa-ve bench --http` and the test harness: the largest check the
 * service accepts (an image at its byte limit, a caption and a premise at theirs) passes the body
 * limit, as JSON (the image in base64) and as multipart; one byte more of body does not.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { InputLimits } from '../../../main/config.ts';
import { toCheckError } from '../../../main/errors.ts';
import { bodyLimitsFor, parseCheckBody } from '../../../main/server/check-body-parser.ts';

/** Texts as large as the image's base64, so that a formula leaving them out is caught. */
const LIMITS: InputLimits = { maxImageBytes: 96 * 1024, maxImagePixels: 1_000_000, maxTextBytes: 64 * 1024 };
const image = new Uint8Array(LIMITS.maxImageBytes).map((_, i) => (i * 7919) % 256);
const longest = 'a'.repeat(LIMITS.maxTextBytes);

describe('bodyLimitsFor', () => {
  let server: http.Server;
  let url: string;

  before(async () => {
    // The real parser behind a real HTTP server: what it made of the body, or the error code.
    server = http.createServer((req, res) => {
      parseCheckBody(req, bodyLimitsFor(LIMITS)).then(
        (parsed) => res.end(JSON.stringify({ image: parsed.image.length, text: parsed.text?.length, premise: parsed.premise?.length })),
        (err: unknown) => res.end(JSON.stringify({ code: toCheckError(err).code })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = async (body: string | FormData, headers: Record<string, string> = {}) =>
    (await (await fetch(url, { method: 'POST', body, headers })).json()) as Record<string, unknown>;
  const json = { 'content-type': 'application/json' };
  const largest = { image: image.length, text: LIMITS.maxTextBytes, premise: LIMITS.maxTextBytes };

  it('derives the image and field limits from the input limits', () => {
    const limits = bodyLimitsFor(LIMITS);
    assert.equal(limits.maxImageBytes, LIMITS.maxImageBytes);
    assert.equal(limits.maxFieldBytes, LIMITS.maxTextBytes);
  });

  it('admits the largest check as JSON, with the image in base64', async () => {
    const body = JSON.stringify({ image: Buffer.from(image).toString('base64'), text: longest, premise: longest });
    assert.deepEqual(await post(body, json), largest);
  });

  it('admits the largest check as multipart', async () => {
    const form = new FormData();
    form.append('image', new Blob([image]), 'largest.png');
    form.append('text', longest);
    form.append('premise', longest);
    assert.deepEqual(await post(form), largest);
  });

  it('refuses a body one byte over it', async () => {
    const { maxBodyBytes } = bodyLimitsFor(LIMITS);
    const head = JSON.stringify({ image: '', text: 'a' });
    const body = head.slice(0, -1) + ' '.repeat(maxBodyBytes + 1 - head.length) + '}';
    assert.equal(Buffer.byteLength(body), maxBodyBytes + 1);
    assert.deepEqual(await post(body, json), { code: 'PAYLOAD_TOO_LARGE' });
  });
});
