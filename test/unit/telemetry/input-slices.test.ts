import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STAGE_NAMES } from '../../../preload/wire-types.ts';
import {
  ATTRIBUTE_COUNT,
  captionScript,
  describeInput,
  SLICE_ATTRIBUTES,
  SLICE_VALUES,
  sliceIndices,
  type InputAttributes,
  type SliceAttribute,
} from '../../../main/telemetry/input-slices.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { RELATIVE_ACCURACY } from '../../../main/telemetry/quantile-sketch.ts';
import { checkMix, Clock, drive, type GeneratedCheck } from './check-mix.ts';

function slicesOf(attributes: InputAttributes | undefined): Record<SliceAttribute, string> {
  const out = new Uint8Array(ATTRIBUTE_COUNT);
  sliceIndices(attributes, out);
  return Object.fromEntries(SLICE_ATTRIBUTES.map((a, i) => [a, SLICE_VALUES[a][out[i]!]])) as Record<SliceAttribute, string>;
}

describe('input attributes', () => {
  it('caption script: English, CJK (Chinese, Japanese, Korean), other scripts and languages', () => {
    assert.equal(captionScript('two dogs play in the snow'), 'english');
    assert.equal(captionScript('people at a concert'), 'english');
    assert.equal(captionScript('两只狗在雪地里玩耍'), 'cjk');
    assert.equal(captionScript('公園のベンチに座っている女性'), 'cjk');
    assert.equal(captionScript('눈 속에서 노는 개 두 마리'), 'cjk');
    assert.equal(captionScript('un homme et une femme avec un chien dans la rue'), 'other');
    assert.equal(captionScript('رجل يركب دراجة'), 'other');
    assert.equal(captionScript('собака играет в снегу'), 'other');
    assert.equal(captionScript('12 34 🐶'), 'other');
    // An English caption with a CJK word in it stays English (the NOT_ENGLISH rule).
    assert.equal(captionScript('a sign that says 出口 above the door'), 'english');
    // Mostly Chinese with two English words: a Han character weighs about a word, not a letter.
    assert.equal(captionScript('两只狗在雪地里玩耍 🐕🐕 dogs playing'), 'cjk');
  });

  it('buckets: tokens, pixels, formats, premise, and unknown for whatever is missing', () => {
    assert.deepEqual(slicesOf(undefined), {
      caption_script: 'unknown',
      caption_tokens: 'unknown',
      image_size: 'unknown',
      image_format: 'unknown',
      premise: 'unknown',
    });
    const tokens = (n: number) => slicesOf({ captionTokens: n }).caption_tokens;
    assert.deepEqual([0, 8, 9, 16, 17, 32, 33, 500].map(tokens), ['0-8', '0-8', '9-16', '9-16', '17-32', '17-32', '33+', '33+']);
    assert.equal(tokens(-1), 'unknown');
    assert.equal(tokens(Number.NaN), 'unknown');
    const size = (w: number, h: number) => slicesOf(describeInput({ imageWidth: w, imageHeight: h })).image_size;
    assert.deepEqual(
      [size(480, 480), size(500, 500), size(1000, 999), size(1000, 1000), size(2000, 2000), size(4000, 3000)],
      ['<0.25MP', '0.25-1MP', '0.25-1MP', '1-4MP', '4MP+', '4MP+'],
    );
    const format = (f: string) => slicesOf({ imageFormat: f }).image_format;
    assert.deepEqual(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'toString'].map(format), [
      'jpeg',
      'png',
      'webp',
      'gif',
      'other',
      'other',
      'other',
    ]);
    assert.equal(slicesOf({ captionScript: 'toString' as never }).caption_script, 'unknown');
    assert.deepEqual(describeInput({ text: '猫', premise: '  ' }), { captionScript: 'cjk', premise: false });
    assert.deepEqual(describeInput({ text: 'a cat', premise: 'an animal', imageFormat: 'png', captionTokens: 3 }), {
      captionScript: 'english',
      premise: true,
      imageFormat: 'png',
      captionTokens: 3,
    });
    for (const attribute of SLICE_ATTRIBUTES) assert.equal(SLICE_VALUES[attribute].at(-1), 'unknown');
  });
});

/** Exact order statistic by the nearest-rank rule: the ⌈q·n⌉-th smallest value. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(Number((q * sorted.length).toFixed(9))) - 1)]!;
}

function assertWithin(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null, `${what}: null`);
  assert.ok(Math.abs(actual - expected) <= expected * RELATIVE_ACCURACY * (1 + 1e-9), `${what}: ${actual} vs exact ${expected}`);
}

describe('LiveStats.snapshotSlices', () => {
  it('per slice: exact counts, qps, error rates, and quantiles within the sketch accuracy, over whole 10 s periods', () => {
    const clock = new Clock(1_700_000_017_250);
    const stats = new LiveStats({ now: clock.now });
    const checks = drive((s) => stats.record(s), clock, checkMix(31, { cjkTokenizeMs: 6 }), 400, 12);
    const now = Math.floor(clock.ms / 1000);
    for (const window of [1, 60, 300]) {
      for (const attribute of ['caption_script', 'image_size', 'premise'] as const) {
        const snap = stats.snapshotSlices(window, attribute);
        const start = Math.floor((now - window + 1) / 10) * 10;
        assert.equal(snap.covered_s, now - start + 1);
        assert.equal(snap.from, new Date(start * 1000).toISOString());
        const inWindow = checks.filter((c) => Math.floor(c.endedAtMs / 1000) >= start);
        const sliceOf = (c: GeneratedCheck) => slicesOf(c.attributes)[attribute];
        const expected = [...new Set(inWindow.map(sliceOf))].sort(
          (x, y) => (SLICE_VALUES[attribute] as readonly string[]).indexOf(x) - (SLICE_VALUES[attribute] as readonly string[]).indexOf(y),
        );
        assert.deepEqual(
          snap.slices.map((s) => s.slice),
          expected,
        );
        assert.equal(
          snap.slices.reduce((n, s) => n + s.requests, 0),
          inWindow.length,
          'the slices of one attribute add up to all requests',
        );
        for (const slice of snap.slices) {
          const mine = inWindow.filter((c) => sliceOf(c) === slice.slice);
          const ok = mine.filter((c) => c.statusCode === 200);
          const clientErrors = mine.length - ok.length; // the mix's only failures are 400s
          assert.equal(slice.requests, mine.length);
          assert.equal(slice.qps, mine.length / snap.covered_s);
          assert.equal(slice.client_error_rate, clientErrors / mine.length);
          assert.equal(slice.error_rate, 0);
          if (ok.length === 0) continue;
          const latencies = ok.map((c) => c.latencyMs);
          assertWithin(slice.p50_ms, exactQuantile(latencies, 0.5), `${attribute}=${slice.slice} p50 @${window}`);
          assertWithin(slice.p90_ms, exactQuantile(latencies, 0.9), `${attribute}=${slice.slice} p90 @${window}`);
          assert.ok(Math.abs(slice.mean_ms! - latencies.reduce((a, b) => a + b, 0) / latencies.length) < 1e-9);
          for (const stage of STAGE_NAMES) {
            const values = ok.map((c) => c.stages![stage]!);
            assertWithin(slice.stages[stage].p50_ms, exactQuantile(values, 0.5), `${slice.slice} ${stage} p50`);
            assertWithin(slice.stages[stage].p90_ms, exactQuantile(values, 0.9), `${slice.slice} ${stage} p90`);
          }
        }
      }
    }
    // The slow CJK tokenizer shows in its slice only.
    const script = stats.snapshotSlices(300, 'caption_script');
    const tokenize = (slice: string) => script.slices.find((s) => s.slice === slice)!.stages.tokenize.p50_ms!;
    assert.ok(tokenize('cjk') > 5 && tokenize('english') < 0.5, `${tokenize('cjk')} vs ${tokenize('english')}`);
  });

  it('a service younger than the window: read from its first second, and the QPS over the seconds it has existed', () => {
    const clock = new Clock(1_700_000_017_250);
    const stats = new LiveStats({ now: clock.now });
    const first = Math.floor(clock.ms / 1000);
    const checks = drive((s) => stats.record(s), clock, checkMix(7), 25, 4);
    const now = Math.floor(clock.ms / 1000);
    const snap = stats.snapshotSlices(300, 'premise');
    assert.equal(snap.from, new Date(first * 1000).toISOString(), 'not the 10 s period before the service started');
    assert.equal(snap.covered_s, now - first + 1);
    assert.equal(
      snap.slices.reduce((n, slice) => n + slice.requests, 0),
      checks.length,
    );
    for (const slice of snap.slices) assert.equal(slice.qps, slice.requests / snap.covered_s);
  });

  it('checks recorded without attributes count in every attribute’s unknown slice', () => {
    const stats = new LiveStats({ now: () => 1_700_000_000_000 });
    stats.record({ id: 'a', endedAtMs: 1_700_000_000_000, latencyMs: 12, statusCode: 200, resultType: 'YES' });
    stats.record({ id: 'b', endedAtMs: 1_700_000_000_000, latencyMs: 3, statusCode: 503, resultType: 'ERROR' });
    for (const attribute of SLICE_ATTRIBUTES) {
      const snap = stats.snapshotSlices(10, attribute);
      assert.deepEqual(
        snap.slices.map((s) => [s.slice, s.requests, s.error_rate]),
        [['unknown', 2, 0.5]],
      );
    }
    assert.throws(() => stats.snapshotSlices(0, 'premise'), RangeError);
    assert.throws(() => stats.snapshotSlices(60, 'colour' as never), /attribute/);
  });
});
