/**
 * `warnings` on every check result, over HTTP and IPC alike (they come from the one CheckService
 * path): a caption over the model's max_words gets CAPTION_TRUNCATED, a Chinese one NOT_ENGLISH, a
 * plain English one an empty array; ofa_ve_check_warnings_total{code} counts the checks that got
 * each code, and nothing else.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { CheckResult } from '../../preload/wire-types.ts';
import { startHarness, type Harness } from '../support/service-harness.ts';

function warningCounts(exposition: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of exposition.matchAll(/^ofa_ve_check_warnings_total\{code="([A-Z_]+)"\} (\S+)$/gm)) counts[m[1] as string] = Number(m[2]);
  return counts;
}

describe('check warnings (demo model, max_words 80)', () => {
  let h: Harness;
  let photo: Buffer;
  const check = async (text: string, premise?: string): Promise<CheckResult> => {
    const body = new FormData();
    body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'photo.png');
    body.append('text', text);
    if (premise !== undefined) body.append('premise', premise);
    const res = await fetch(`${h.url}/api/v1/check`, { method: 'POST', body });
    assert.equal(res.status, 200);
    return (await res.json()) as CheckResult;
  };
  const metrics = async () => warningCounts(await (await fetch(`${h.url}/metrics`)).text());

  before(async () => {
    h = await startHarness();
    photo = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 120, b: 60 } } })
      .png()
      .toBuffer();
  });
  after(async () => h.close());

  it('starts with every warning code at 0', async () => {
    assert.deepEqual(await metrics(), { CAPTION_TRUNCATED: 0, NOT_ENGLISH: 0 });
  });

  it('answers [] for a plain English caption', async () => {
    assert.deepEqual((await check('a dog runs on the green grass')).warnings, []);
    assert.deepEqual((await check(`${'word '.repeat(80).trim()}`)).warnings, [], 'exactly max_words is not cut');
  });

  it('says where an over-long caption is cut (CAPTION_TRUNCATED)', async () => {
    const caption = Array.from({ length: 90 }, (_, i) => `w${i}`).join(' ');
    const { warnings } = await check(caption);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.code, 'CAPTION_TRUNCATED');
    assert.match(warnings[0]?.message ?? '', /90 words; the model reads only the first 80, up to "[^"]*w79"/);
  });

  it('flags a Chinese caption (NOT_ENGLISH), and a foreign premise too', async () => {
    assert.deepEqual(
      (await check('一只狗在草地上奔跑')).warnings.map((w) => w.code),
      ['NOT_ENGLISH'],
    );
    const both = await check('a dog on the grass', 'un homme et une femme avec deux chiens dans le parc');
    assert.deepEqual(
      both.warnings.map((w) => w.code),
      ['NOT_ENGLISH'],
    );
    assert.match(both.warnings[0]?.message ?? '', /premise/);
  });

  it('gives IPC checks the same warnings', async () => {
    const result = await h.runtime.checkStructured({ image: new Uint8Array(photo), text: '一只猫坐在窗台上' });
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['NOT_ENGLISH'],
    );
  });

  it('counts each warned check once per code in ofa_ve_check_warnings_total, refused checks never', async () => {
    const res = await fetch(`${h.url}/api/v1/check`, {
      method: 'POST',
      body: JSON.stringify({ image: 'AAAA', text: '一只狗' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 400, 'an image that is no image is refused');
    // Caption and premise both cut count one CAPTION_TRUNCATED check.
    const long = Array.from({ length: 85 }, (_, i) => `x${i}`).join(' ');
    assert.deepEqual(
      (await check(long, long)).warnings.map((w) => w.code),
      ['CAPTION_TRUNCATED', 'CAPTION_TRUNCATED'],
    );
    assert.deepEqual(await metrics(), { CAPTION_TRUNCATED: 2, NOT_ENGLISH: 3 });
  });
});
