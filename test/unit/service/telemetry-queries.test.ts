import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { compareOf, compareQuery, slicesOf } from '../../../main/service/telemetry-queries.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';

// What a page can send over IPC (stats:slices, stats:compare) is whatever its structured clone holds.
const stats = new LiveStats();
after(() => stats.close());
const now = Math.floor(Date.now() / 60_000) * 60_000; // minute-aligned: a comparison reads whole 60 s periods
const range = { from_ms: now - 600_000, to_ms: now - 300_000 };
const badRequest = (pattern: RegExp) => (err: { code?: string; message: string }) =>
  err.code === 'BAD_REQUEST' && pattern.test(err.message);

describe('telemetry queries: one set of checks for HTTP and IPC', () => {
  it('slices: a window that is not a whole number of seconds, 1 or more, is BAD_REQUEST', () => {
    for (const windowS of [Number.NaN, -5, 0, 1.5, '60', null, undefined, Infinity]) {
      assert.throws(() => slicesOf(stats, windowS, 'caption_script'), badRequest(/window must be a whole number/), String(windowS));
    }
    assert.throws(() => slicesOf(stats, 60, 'no_such'), badRequest(/attribute must be one of/));
    assert.equal(slicesOf(stats, 60, 'caption_script').attribute, 'caption_script');
    // A window past the retention is refused, as HTTP's ?window= is (it was cut to the retention without a word).
    assert.throws(() => slicesOf(stats, 10 ** 9, 'image_format'), badRequest(/window must be a whole number of seconds from 1 to 900/));
    assert.equal(slicesOf(stats, 900, 'image_format').window_s, 900);
  });

  it('compare: times that are not whole epoch milliseconds are BAD_REQUEST, before LiveStats sees them', () => {
    for (const side of [
      undefined,
      null,
      'x',
      [],
      { from_ms: Number.NaN, to_ms: now },
      { from_ms: -1, to_ms: now },
      { from_ms: 1.5, to_ms: now },
      { from_ms: '1', to_ms: now },
    ]) {
      assert.throws(() => compareOf(stats, side, range, undefined), badRequest(/range a needs from_ms and to_ms/), JSON.stringify(side));
      assert.throws(() => compareOf(stats, range, side, undefined), badRequest(/range b needs from_ms and to_ms/), JSON.stringify(side));
    }
    assert.throws(() => compareOf(stats, range, range, 'no_such'), badRequest(/attribute must be one of/));
    const doc = compareOf(stats, range, { from_ms: now - 300_000, to_ms: now }, 'caption_script');
    assert.equal(doc.slices?.attribute, 'caption_script');
  });

  it('compare over HTTP reads the same ranges from the query string', () => {
    const url = new URL(`http://x/api/v1/compare?a_from=${range.from_ms}&a_to=${range.to_ms}&b_from=${now - 300_000}&b_to=${now}`);
    assert.deepEqual(compareQuery(stats, url), compareOf(stats, range, { from_ms: now - 300_000, to_ms: now }, undefined));
  });
});
