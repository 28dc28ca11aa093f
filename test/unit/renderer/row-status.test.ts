/**
 * Which rows "Check" sends (renderer/checker/row-status.ts): not those the service refused for what
 * they are until their text changes, and not those whose text is over the service's byte limit,
 * measured in UTF-8 bytes as the service measures it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_STATUS } from '../../../main/errors.ts';
import { INPUT_ERROR_CODES, type CheckResult } from '../../../preload/wire-types.ts';
import {
  isRefused,
  isSendable,
  overTextLimit,
  rowStatus,
  rowsToSend,
  utf8Bytes,
  type RowText,
} from '../../../renderer/checker/row-status.ts';

const DEFAULTS = { caption: 'a dog', premise: '' };
const CHECKED = { caption: 'a dog', premise: '' };

function failed(code: string): RowText {
  return { caption: '', premise: '', state: 'error', error: { code, message: 'x' }, checked: CHECKED };
}

describe('rows refused for what they are', () => {
  it('names only codes of the service (main/errors.ts)', () => {
    for (const code of INPUT_ERROR_CODES) assert.ok(Object.hasOwn(ERROR_STATUS, code), code);
  });

  it('sends again rows that failed on our side, not rows refused for their image or text', () => {
    const pending: RowText = { caption: '', premise: '', state: 'pending' };
    const done: RowText = { caption: '', premise: '', state: 'done', result: { label: 'YES' } as CheckResult, checked: CHECKED };
    const ours = ['OVERLOADED', 'TIMEOUT', 'INTERNAL', 'NOT_READY', 'SERVICE_UNAVAILABLE'].map(failed);
    const refused = ['TEXT_TOO_LONG', 'INVALID_IMAGE', 'UNSUPPORTED_MEDIA_TYPE', 'IMAGE_TOO_LARGE', 'EMPTY_TEXT'].map(failed);
    for (const row of refused) {
      assert.equal(isRefused(row, DEFAULTS), true, row.error?.code);
      assert.equal(rowStatus(row, DEFAULTS), 'ERROR', 'still shown as an error');
    }
    assert.deepEqual(rowsToSend([pending, done, ...ours, ...refused], DEFAULTS), [pending, ...ours]);
    // Only answered and refused rows: the answered ones again, never the refused.
    assert.deepEqual(rowsToSend([done, ...refused], DEFAULTS), [done]);
    assert.deepEqual(rowsToSend(refused, DEFAULTS), []);
  });

  it('sends a refused row again once its caption or premise has changed', () => {
    const refused = failed('INVALID_IMAGE');
    const edited = { ...refused, caption: 'a cat' };
    assert.equal(isRefused(edited, DEFAULTS), false);
    assert.equal(rowStatus(edited, DEFAULTS), 'stale');
    assert.deepEqual(rowsToSend([refused, edited], DEFAULTS), [edited]);
    assert.deepEqual(rowsToSend([refused], { caption: 'a dog', premise: 'indoors' }), [refused]);
  });
});

describe('the service’s text byte limit', () => {
  it('counts UTF-8 bytes as the service does (Buffer.byteLength), surrogate pairs and lone halves included', () => {
    for (const text of ['', 'plain ascii', 'ééé', '两只狗', '🐕❄️ dogs', '\ud83d lone', 'end \ud83d', '\udc36x', 'é'.repeat(5000)]) {
      assert.equal(utf8Bytes(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text.slice(0, 12)));
    }
  });

  it('holds back a row whose caption or premise is over the limit, and only then', () => {
    const limit = 2048;
    // 1,199 characters, 2,099 bytes: over in bytes, not in characters.
    const long = Array.from({ length: 300 }, () => 'ééé').join(' ');
    assert.equal(overTextLimit({ caption: long, premise: '' }, limit), 'caption');
    assert.equal(overTextLimit({ caption: 'a dog', premise: long }, limit), 'premise');
    assert.equal(overTextLimit({ caption: long, premise: '' }, 4096), undefined);
    assert.equal(overTextLimit({ caption: 'x'.repeat(limit), premise: '' }, limit), undefined, 'the limit itself is allowed');
    assert.equal(overTextLimit({ caption: 'x'.repeat(limit + 1), premise: '' }, limit), 'caption');
    assert.equal(overTextLimit({ caption: long, premise: '' }, undefined), undefined, 'no limit known: nothing held back');
    const row: RowText = { caption: '', premise: '', state: 'pending' };
    assert.equal(isSendable(row, { caption: long, premise: '' }, limit), false);
    assert.equal(isSendable({ ...row, caption: 'a cat' }, { caption: long, premise: '' }, limit), true, 'its own caption wins');
    assert.deepEqual(rowsToSend([row], { caption: long, premise: '' }, limit), []);
  });
});
