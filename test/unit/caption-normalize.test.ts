import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildPrompt } from '../../main/inference/caption-normalize.ts';
import { normalizeCaption } from '../../preload/caption-normalize.ts';

const OFA_TEMPLATES = {
  prompt: ' does the image describe " {text} "?',
  promptWithPremise: ' can image and text1 " {premise} " imply text2 " {text} "?',
};

describe('normalizeCaption (OFA pre_caption)', () => {
  const cases: [string, string][] = [
    ['Two Dogs play in the SNOW', 'two dogs play in the snow'],
    ['  An astronaut -- holding a flag/banner ', 'an astronaut holding a flag banner'],
    ['...!?A cat.', 'a cat.'],
    [',;~:#*leading marks only at the start!', 'leading marks only at the start!'],
    ['a <person> rides', 'a person rides'],
    ['tabs\t\tand\n\nnewlines', 'tabs and newlines'],
    ['trailing newline\n', 'trailing newline'],
    ['   ', ''],
    ['.,!?', ''],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizeCaption(input, 80), expected);
    });
  }

  it('keeps a single tab as Python does (only runs of two or more whitespace collapse)', () => {
    assert.equal(normalizeCaption('a\tb', 80), 'a\tb');
  });

  it('cuts to max_words words', () => {
    const long = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    const cut = normalizeCaption(long, 80).split(' ');
    assert.equal(cut.length, 80);
    assert.equal(cut.at(-1), 'w79');
  });
});

describe('buildPrompt', () => {
  it('uses the hypothesis template without a premise', () => {
    assert.equal(buildPrompt(OFA_TEMPLATES, 'a dog'), ' does the image describe " a dog "?');
  });
  it('uses the premise template with one', () => {
    assert.equal(buildPrompt(OFA_TEMPLATES, 'a dog', 'an animal'), ' can image and text1 " an animal " imply text2 " a dog "?');
  });
  it('inserts text literally, even with $ replacement patterns', () => {
    assert.equal(buildPrompt(OFA_TEMPLATES, "costs $& and $'"), ' does the image describe " costs $& and $\' "?');
  });
});
