/** The checks a structured request (a JSON body, an IPC check:run) goes through before it is a CheckPair. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
    assert.throws(() => structuredCheckRequest({ image: [1, 2, 3], text: 'a dog' }), badRequest(/"image" must be the bytes/));
    const image = new Uint8Array([1, 2, 3]);
    assert.deepEqual(structuredCheckRequest({ image, text: 'a dog', premise: 'a photo', extra: true }), {
      image,
      text: 'a dog',
      premise: 'a photo',
    });
  });
});
