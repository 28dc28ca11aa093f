/**
 * The empty-caption rule (preload/caption-warnings.ts) is one for both sides: the service applies
 * isWordless to the text after OFA's normalisation (EMPTY_TEXT), the checker hasNothingToCheck to
 * the text as typed, with the model's word limit, before sending (both through OFA's normalisation,
 * preload/caption-normalize.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasNothingToCheck } from '../../preload/caption-warnings.ts';
import { isSendable, rowStatus, rowsToSend, wordlessText, type RowText } from '../../renderer/checker/row-status.ts';

describe('hasNothingToCheck: the service and the checker agree', () => {
  it('finds no words in punctuation, spaces and control characters only', () => {
    for (const text of ['', '   ', '!!! ??? ...', '-- / --', '\t\n', '"…" — «»'])
      assert.equal(hasNothingToCheck(text), true, JSON.stringify(text));
    for (const text of ['a', '!!!a', '🐕', '42', '$', '两只狗']) assert.equal(hasNothingToCheck(text), false, JSON.stringify(text));
  });

  it('looks only at the words the model reads', () => {
    assert.equal(hasNothingToCheck('! ! ! dog', 2), true, 'the word limit cuts the only word off');
    assert.equal(hasNothingToCheck('! ! ! dog', 80), false);
    assert.equal(hasNothingToCheck('. . . . . . a cat', 3), true, 'the leading "." is stripped, four more are words');
    assert.equal(hasNothingToCheck('!! ?? dog on a beach', 2), false, '"!!" stripped: "??" and "dog" are read');
    assert.equal(hasNothingToCheck('~~~ ...'), true, 'leading marks, then punctuation');
    assert.equal(hasNothingToCheck('<person>'), false, 'OFA reads it as "person"');
  });
});

describe('rows with no words are held back before sending', () => {
  const pending = (caption: string, premise = ''): RowText => ({ caption, premise, state: 'pending' });
  const defaults = { caption: '', premise: '' };

  it('names the field without words, and sends neither', () => {
    assert.equal(wordlessText({ caption: '!!! ??? ...', premise: '' }, 80), 'caption');
    assert.equal(wordlessText({ caption: 'a dog', premise: '...' }, 80), 'premise');
    assert.equal(wordlessText({ caption: 'a dog', premise: '' }, 80), undefined);
    assert.equal(wordlessText({ caption: '', premise: '' }, 80), undefined, 'no caption is not "no words"');
    assert.equal(isSendable(pending('!!! ??? ...'), defaults, undefined, 80), false);
    assert.equal(isSendable(pending('a dog', '...'), defaults, undefined, 80), false);
    assert.equal(isSendable(pending('a dog'), defaults, undefined, 80), true);
    assert.equal(rowStatus(pending('!!! ??? ...'), defaults), 'unchecked', 'not checked, and said why (not an answer)');
  });

  it('holds back a row that takes the caption field’s text with no words, not one with its own', () => {
    const rows = [pending(''), pending('a cat')];
    assert.deepEqual(rowsToSend(rows, { caption: '?!', premise: '' }, undefined, 80), [rows[1]]);
  });
});
