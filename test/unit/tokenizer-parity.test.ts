import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildPrompt } from '../../main/inference/caption-normalize.ts';
import { normalizeCaption } from '../../preload/caption-normalize.ts';
import { PromptTokenizer } from '../../main/inference/prompt-tokenizer.ts';
import { sharedReference } from '../support/shared-reference.ts';

interface ReferenceCase {
  text: string;
  premise: string | null;
  prompt: string;
  input_ids: number[];
}

const TEMPLATES = {
  prompt: ' does the image describe " {text} "?',
  promptWithPremise: ' can image and text1 " {premise} " imply text2 " {text} "?',
};

describe("text path parity with OFA's real tokenizer (../shared/ofa-tokenizer)", () => {
  const dir = sharedReference('ofa-tokenizer');
  const skip = dir ? false : '../shared/ofa-tokenizer not found (only CI has it): parity test skipped';
  const load = () => {
    const folder = dir as string;
    const tokenizerJson = JSON.parse(readFileSync(path.join(folder, 'tokenizer.json'), 'utf8'));
    const reference = JSON.parse(readFileSync(path.join(folder, 'reference-ids.json'), 'utf8')) as {
      answers: Record<'YES' | 'NO' | 'MAYBE', number[]>;
      cases: ReferenceCase[];
    };
    return { tokenizer: new PromptTokenizer(tokenizerJson, {}, { bos: 0, eos: 2 }), reference };
  };

  it('caption → normalisation → prompt → ids equals reference-ids.json exactly', { skip }, (t) => {
    const { tokenizer, reference } = load();
    assert.ok(reference.cases.length >= 6);
    for (const c of reference.cases) {
      const text = normalizeCaption(c.text, 80);
      const premise = c.premise === null ? undefined : normalizeCaption(c.premise, 80);
      const prompt = buildPrompt(TEMPLATES, text, premise);
      assert.equal(prompt, c.prompt, `prompt for ${JSON.stringify(c.text)}`);
      assert.deepEqual(tokenizer.encodePrompt(prompt), c.input_ids, `ids for ${JSON.stringify(c.text)}`);
    }
    t.diagnostic(`${reference.cases.length} reference prompts matched id for id`);
  });

  it('the answer words are single tokens 117 / 4420 / 2085', { skip }, () => {
    const { tokenizer, reference } = load();
    assert.equal(tokenizer.singleTokenId(' no'), 117);
    assert.equal(tokenizer.singleTokenId(' yes'), 4420);
    assert.equal(tokenizer.singleTokenId(' maybe'), 2085);
    assert.deepEqual(reference.answers, { NO: [117], YES: [4420], MAYBE: [2085] });
  });

  it('special-token text in a caption stays literal text, as in fairseq BPE', { skip }, () => {
    const { tokenizer } = load();
    const ids = tokenizer.encodePrompt(' does the image describe " a </s> b <pad> "?');
    assert.equal(ids.filter((id) => id === 2).length, 1, 'only the final eos');
    assert.ok(!ids.includes(1), 'no pad id from the text');
    assert.equal(ids[0], 0);
    assert.equal(ids.at(-1), 2);
  });
});
