/** The checks a structured request (a JSON body, an IPC check:run) goes through before it is a CheckPair. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_INPUT_LIMITS } from '../../../main/config.ts';
import { CheckError } from '../../../main/errors.ts';
import { structuredCheckRequest, structuredFields } from '../../../main/service/structured-check-request.ts';

const badRequest = (message: RegExp) => (err: unknown) =>
  err instanceof CheckError && err.code === 'BAD_REQUEST' && message.test(err.message);

describe('structuredFields', () => {
  it('refuses what is not an object, naming the value', () => {
    for (const value of [null, 'text', 3, [1, 2], undefined]) {
      assert.throws(() => structuredFields(value, 'the JSON body'), badRequest(/^the JSON body must be an object/));
    }
  });

  it('checks text and premise; the image is passed on unchecked (each adapter knows how it holds one)', () => {
    assert.throws(() => structuredFields({ image: 'x' }, 'the request'), badRequest(/"text" is required/));
    assert.throws(() => structuredFields({ image: 'x', text: 5 }, 'the request'), badRequest(/"text" must be a string/));
    assert.throws(() => structuredFields({ image: 'x', text: 'a', premise: {} }, 'the request'), badRequest(/"premise" must be a string/));
    assert.deepEqual(structuredFields({ image: 'base64', text: 'a dog', premise: null }, 'the request'), {
      image: 'base64',
      text: 'a dog',
      premise: undefined,
    });
  });
});

describe('structuredCheckRequest (IPC)', () => {
  it('needs the image as bytes', () => {
    assert.throws(
      () => structuredCheckRequest({ image: [1, 2, 3], text: 'a dog' }, DEFAULT_INPUT_LIMITS),
      badRequest(/"image" must be the bytes/),
    );
    const image = new Uint8Array([1, 2, 3]);
    assert.deepEqual(structuredCheckRequest({ image, text: 'a dog', premise: 'a photo', extra: true }, DEFAULT_INPUT_LIMITS), {
      image,
      text: 'a dog',
      premise: 'a photo',
    });
  });

  it('refuses an image or a text over the limits before the check is queued, as the decoder and tokenizer would', () => {
    const limits = { ...DEFAULT_INPUT_LIMITS, maxImageBytes: 10, maxTextBytes: 8 };
    const refused = (code: string, message: RegExp) => (err: unknown) =>
      err instanceof CheckError && err.code === code && message.test(err.message);
    const ok = new Uint8Array(10);
    assert.throws(
      () => structuredCheckRequest({ image: new Uint8Array(11), text: 'a dog' }, limits),
      refused('IMAGE_TOO_LARGE', /11 bytes; the limit is 10 bytes/),
    );
    assert.throws(
      () => structuredCheckRequest({ image: ok, text: 'ünïcödé' }, limits),
      refused('TEXT_TOO_LONG', /the text is 11 bytes; the limit is 8/),
    );
    assert.throws(
      () => structuredCheckRequest({ image: ok, text: 'a dog', premise: 'a long premise' }, limits),
      refused('TEXT_TOO_LONG', /the premise is 14 bytes/),
    );
    assert.equal(structuredCheckRequest({ image: ok, text: 'exactly8' }, limits).text, 'exactly8', 'the limit itself is accepted');
  });
});
