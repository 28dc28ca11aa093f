import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { CheckError } from '../../main/errors.ts';
import { EntailmentEngine } from '../../main/inference/entailment-engine.ts';
import { LABELS } from '../../preload/wire-types.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

/** A deterministic photo-like test image: smooth gradients plus a seeded pattern. */
async function syntheticPhoto(width: number, height: number, seed: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let state = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = ((x + y + seed * 37) % 64) * 4 + (state >>> 30);
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

async function assertCheckError(promise: Promise<unknown>, code: string): Promise<CheckError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CheckError, `expected CheckError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('EntailmentEngine on the demo model', () => {
  let engine: EntailmentEngine;
  const images: Buffer[] = [];

  before(async () => {
    engine = await EntailmentEngine.load(DEMO_MODEL_DIR, { provider: 'cpu' });
    for (const [w, h, seed] of [
      [512, 512, 1],
      [640, 427, 2],
      [300, 300, 3],
      [1024, 768, 4],
    ] as const) {
      images.push(await syntheticPhoto(w, h, seed));
    }
  });
  after(async () => engine.close());

  it('reports the model, the provider and the demo flag', () => {
    assert.equal(engine.info.demo, true);
    assert.equal(engine.info.provider, 'cpu');
    assert.equal(engine.info.imageSize, 480);
    assert.deepEqual(Object.keys(engine.info.answers).sort(), ['MAYBE', 'NO', 'YES']);
  });

  it('gives a label, a score that is the softmax at the label, and all stage timings', async () => {
    const result = await engine.check({ image: images[0] as Buffer, text: 'two dogs play in the snow' });
    assert.ok(LABELS.includes(result.label));
    const total = LABELS.reduce((sum, l) => sum + result.scores[l], 0);
    assert.ok(Math.abs(total - 1) < 1e-6, `scores sum to ${total}`);
    assert.equal(result.score, result.scores[result.label]);
    assert.equal(result.score, Math.max(...LABELS.map((l) => result.scores[l])));
    for (const stage of ['decode_image', 'tokenize', 'inference', 'postprocess'] as const) {
      assert.ok(result.stages[stage] >= 0, `${stage} timed`);
    }
  });

  it('is deterministic: the same pair gives the same answer twice', async () => {
    const a = await engine.check({ image: images[1] as Buffer, text: 'a man rides a horse' });
    const b = await engine.check({ image: images[1] as Buffer, text: 'a man rides a horse' });
    assert.equal(a.label, b.label);
    assert.deepEqual(a.scores, b.scores);
  });

  it("a pair's result in a padded batch equals its result alone (within 1e-4)", async () => {
    const pairs = [
      { image: images[0] as Buffer, text: 'a dog' },
      { image: images[1] as Buffer, text: 'a very long caption about a person riding a red bicycle down a busy city street at night' },
      { image: images[2] as Buffer, text: 'a cat sleeps', premise: 'an animal on a sofa' },
      { image: images[3] as Buffer, text: 'cars' },
    ];
    const prepared = await Promise.all(pairs.map((p) => engine.prepare(p)));
    const batched = await engine.run(prepared);
    for (let i = 0; i < pairs.length; i++) {
      const [alone] = await engine.run([prepared[i]!]);
      for (const label of LABELS) {
        const diff = Math.abs(batched[i]!.scores[label] - alone!.scores[label]);
        assert.ok(diff <= 1e-4, `pair ${i} ${label}: batch vs alone differ by ${diff}`);
      }
      assert.equal(batched[i]!.label, alone!.label);
    }
  });

  it('the caption changes the answer scores (the text reaches the model)', async () => {
    const a = await engine.check({ image: images[0] as Buffer, text: 'a dog runs on the beach' });
    const b = await engine.check({ image: images[0] as Buffer, text: 'three people eat pizza in a kitchen' });
    assert.notDeepEqual(a.scores, b.scores);
  });

  it('the premise is used (the premise template changes the ids)', () => {
    const without = engine.encodeText('a dog');
    const withPremise = engine.encodeText('a dog', 'an animal');
    assert.ok(withPremise.length > without.length);
    assert.deepEqual(engine.encodeText('a dog', '   '), without, 'a blank premise counts as none');
  });

  it('rejects an empty or whitespace-only caption with EMPTY_TEXT', async () => {
    for (const text of ['', '   ', '\n\t ', '...', '  ...', ' "?! ', '\u0000\u0007']) {
      await assertCheckError(engine.check({ image: images[0] as Buffer, text }), 'EMPTY_TEXT');
    }
  });

  it('cuts a long caption to 80 words as OFA does, and rejects one over the byte limit', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    const cut = engine.encodeText(words);
    const eighty = engine.encodeText(words.split(' ').slice(0, 80).join(' '));
    assert.deepEqual(cut, eighty);
    const huge = 'a'.repeat(engine.limits.maxTextBytes + 1);
    await assertCheckError(engine.check({ image: images[0] as Buffer, text: huge }), 'TEXT_TOO_LONG');
  });

  it('accepts unusual but valid text: emoji, RTL, Chinese, control characters', async () => {
    for (const text of ['a dog 🐕 on grass', 'كلب يلعب في الثلج', '两只狗在雪地里玩', 'a\u0000b\u0007c dog']) {
      const result = await engine.check({ image: images[2] as Buffer, text });
      assert.ok(LABELS.includes(result.label), text);
    }
  });
});
