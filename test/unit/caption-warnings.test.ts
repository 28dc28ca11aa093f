import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeCaption } from '../../preload/caption-normalize.ts';
import { captionCut, captionWarnings, looksNonEnglish, wordStarts } from '../../preload/caption-warnings.ts';

/** A deterministic generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'dog', ' ', '  ', '-', '/', '\t', '\n', ',', '.', '!', 'X', 'é', '--', ' / ', '<person>', '狗', '🙂', '\r\n'];

describe('wordStarts / captionCut agree with OFA pre_caption (normalizeCaption)', () => {
  it('counts the words normalizeCaption keeps, on 20000 seeded captions made of separators and marks', () => {
    const next = random(0x0fa);
    for (let k = 0; k < 20000; k++) {
      let caption = '';
      const n = 1 + Math.floor(next() * 14);
      for (let i = 0; i < n; i++) caption += PIECES[Math.floor(next() * PIECES.length)];
      const normalized = normalizeCaption(caption, Number.MAX_SAFE_INTEGER);
      const expected = normalized === '' ? 0 : normalized.split(' ').length;
      assert.equal(wordStarts(caption).length, expected, `words of ${JSON.stringify(caption)}`);
      for (const maxWords of [1, 2, 3]) {
        const cut = captionCut(caption, maxWords);
        if (expected <= maxWords) {
          assert.equal(cut, undefined);
          continue;
        }
        // What is left of the caption before the cut is exactly what the model reads.
        const kept = normalizeCaption(caption.slice(0, cut!.cutAt), Number.MAX_SAFE_INTEGER).replace(/\s+$/u, '');
        assert.equal(kept, normalizeCaption(caption, maxWords).replace(/\s+$/u, ''), `cut of ${JSON.stringify(caption)} at ${maxWords}`);
      }
    }
  });

  it('says where an 81-word caption is cut for an 80-word model', () => {
    const words = Array.from({ length: 81 }, (_, i) => `w${i}`);
    const caption = `  ${words.join(' ')}`;
    const cut = captionCut(caption, 80);
    assert.deepEqual(cut, { words: 81, maxWords: 80, cutAt: caption.indexOf('w80') });
    assert.equal(captionCut(words.slice(0, 80).join(' '), 80), undefined);
  });
});

describe('looksNonEnglish', () => {
  const english = [
    'two dogs play in the snow',
    'people at a concert',
    'the woman holds an umbrella',
    'a dog',
    'La Sagrada Familia in Barcelona at night',
    'Le Mans race cars on the track',
    'a man 🙂 smiles',
    'a café on the corner',
    '3 + 4',
    'a photo of 東京 tower at night',
    'a sign that says 出口 above the door',
  ];
  const other = [
    '两只狗在雪地里玩',
    'كلبان يلعبان في الثلج',
    'Две собаки играют в снегу',
    '雪の中で遊ぶ二匹の犬',
    'deux chiens jouent dans la neige',
    'dos perros juegan en la nieve',
    'zwei Hunde spielen im Schnee',
    'Un homme fait du vélo',
    '两只狗在雪地里玩耍 🐕🐕 dogs playing',
    '개 두 마리가 눈 속에서 논다 two dogs',
  ];
  for (const caption of english) it(`English: ${caption}`, () => assert.equal(looksNonEnglish(caption), false));
  for (const caption of other) it(`not English: ${caption}`, () => assert.equal(looksNonEnglish(caption), true));
});

describe('captionWarnings', () => {
  it('is empty for a short English caption', () => {
    assert.deepEqual(captionWarnings('two dogs play in the snow', 80), []);
  });

  it('names the field and the limit, truncation first, for caption and premise', () => {
    const long = Array.from({ length: 85 }, () => 'dog').join(' ');
    const warnings = captionWarnings('两只狗在雪地里玩', 80, long);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['CAPTION_TRUNCATED', 'NOT_ENGLISH'],
    );
    assert.match(warnings[0]!.message, /premise has 85 words; the model reads only the first 80/);
    assert.match(warnings[1]!.message, /caption does not look like English/);
  });
});
