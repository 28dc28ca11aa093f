import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STAGE_NAMES, type PeriodComparison } from '../../../preload/wire-types.ts';
import { normalQuantile, orderStatisticRanks } from '../../../main/telemetry/compare-rows.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { quantileInterval } from '../../../main/telemetry/period-compare.ts';
import { DurationSketch, RELATIVE_ACCURACY } from '../../../main/telemetry/quantile-sketch.ts';
import { checkMix, Clock, drive } from './check-mix.ts';

/** A minute boundary, so periods of whole minutes line up with the history. */
const T0 = 1_700_000_040_000;

/** Every test of a comparison: end to end, each stage, and each slice's. */
function significantTests(c: PeriodComparison): string[] {
  const found: string[] = [];
  const scan = (where: string, stages: PeriodComparison['stages']) => {
    for (const s of stages) {
      if (s.mean.significant) found.push(`${where} ${s.stage} mean`);
      for (const q of s.quantiles) if (q.significant) found.push(`${where} ${s.stage} p${q.quantile * 100}`);
    }
  };
  scan('all', [c.end_to_end, ...c.stages]);
  for (const slice of c.slices?.slices ?? []) scan(slice.slice, [slice.end_to_end, ...slice.stages]);
  return found;
}

/** Share of the tests that could be run (enough values for their intervals). */
function testableShare(c: PeriodComparison): number {
  let testable = 0;
  let total = 0;
  const scan = (stages: PeriodComparison['stages']) => {
    for (const s of stages) {
      for (const t of [s.mean, ...s.quantiles]) {
        total++;
        if (t.testable) testable++;
      }
    }
  };
  scan([c.end_to_end, ...c.stages]);
  for (const slice of c.slices?.slices ?? []) scan([slice.end_to_end, ...slice.stages]);
  return testable / total;
}

/**
 * Period a: `minutes` minutes of the usual mix; period b right after it: the same mix, CJK captions
 * tokenizing at `cjkTokenizeMs` (or the usual 0.4 ms). Returns the stats and the two ranges.
 */
function twoPeriods(minutes: number, perSecond: number, seeds: [number, number], cjkTokenizeMs?: number) {
  const clock = new Clock(T0 - 1);
  const stats = new LiveStats({ now: clock.now });
  const record = (s: Parameters<LiveStats['record']>[0]) => stats.record(s);
  drive(record, clock, checkMix(seeds[0]), minutes * 60, perSecond);
  drive(record, clock, checkMix(seeds[1], { cjkTokenizeMs }), minutes * 60, perSecond);
  const a = { fromMs: T0, toMs: T0 + minutes * 60_000 };
  const b = { fromMs: a.toMs, toMs: a.toMs + minutes * 60_000 };
  return { stats, clock, a, b };
}

function assertCjkTokenizeFound(c: PeriodComparison, what: string): void {
  assert.equal(c.explained_by?.stage, 'tokenize', `${what}: explained by ${JSON.stringify(c.explained_by)}`);
  assert.equal(c.stages[0]!.stage, 'tokenize', `${what}: tokenize is named first`);
  assert.ok(c.end_to_end.mean.significant, `${what}: the end-to-end mean change is significant`);
  assert.ok(c.stages[0]!.significant, `${what}: tokenize's change is significant`);
  const cause = c.slices?.cause;
  assert.equal(cause?.slice, 'cjk', `${what}: cause ${JSON.stringify(cause)}`);
  assert.equal(cause.kind, 'within');
  assert.equal(cause.stage, 'tokenize');
  assert.ok(cause.significant);
  assert.ok(cause.share_of_change > 0.8, `${what}: the CJK slice carries most of the change (${cause.share_of_change})`);
  const cjk = c.slices!.slices[0]!;
  assert.equal(cjk.slice, 'cjk');
  const tokenize = cjk.stages[0]!;
  assert.equal(tokenize.stage, 'tokenize');
  assert.ok(tokenize.mean.significant && tokenize.mean.low_ms! > 0, `${what}: CJK tokenize mean ${JSON.stringify(tokenize.mean)}`);
  for (const q of tokenize.quantiles) {
    if (c.b.resolution_s === 60) {
      // The history keeps a slice's stages as moments: means, no quantiles (never a guess).
      assert.equal(q.b.value_ms, null);
      assert.equal(q.testable, false);
      continue;
    }
    assert.ok(q.significant, `${what}: CJK tokenize p${q.quantile * 100} ${q.a.value_ms} → ${q.b.value_ms}`);
    assert.ok(q.low_ms! > 0, 'the whole interval of the difference is above 0');
  }
  // English and other captions tokenize as before: nothing significant there.
  for (const slice of c.slices!.slices.filter((s) => s.slice !== 'cjk')) {
    assert.ok(!slice.stages.find((s) => s.stage === 'tokenize')!.significant, `${what}: ${slice.slice} tokenize unchanged`);
  }
  // The slices' parts add up to the change of the overall mean.
  const parts = c.slices!.slices.reduce((sum, s) => sum + (s.contribution_ms ?? NaN), 0);
  assert.ok(Math.abs(parts - c.end_to_end.mean.difference_ms!) < 1e-9);
}

describe('compare two periods', () => {
  it('slower tokenization of CJK captions: tokenize named first, CJK named as the cause, significant (live 10 s periods)', () => {
    const { stats, a, b } = twoPeriods(6, 25, [101, 202], 8);
    const c = stats.compare(a, b, { attribute: 'caption_script' });
    assert.equal(c.a.resolution_s, 10);
    assert.equal(c.b.resolution_s, 10);
    assert.equal(c.a.requests, 6 * 60 * 25);
    assert.equal(c.b.requests, 6 * 60 * 25);
    assertCjkTokenizeFound(c, 'live');
    // Another attribute does not pretend to find the cause in its slices' own stages.
    const byFormat = stats.compare(a, b, { attribute: 'image_format' });
    assert.equal(byFormat.explained_by?.stage, 'tokenize');
    for (const slice of byFormat.slices!.slices) assert.ok(slice.a.requests > 0 && slice.b.requests > 0);
  });

  it('the same regression an hour later, read from the per-minute history', () => {
    const { stats, clock, a, b } = twoPeriods(10, 20, [303, 404], 8);
    clock.ms += 3_600_000;
    const c = stats.compare(a, b, { attribute: 'caption_script' });
    assert.equal(c.a.resolution_s, 60);
    assert.equal(c.b.resolution_s, 60);
    assert.equal(c.a.requests, 10 * 60 * 20);
    assert.equal(c.a.from, new Date(a.fromMs).toISOString());
    assert.equal(c.b.to, new Date(b.toMs).toISOString());
    assertCjkTokenizeFound(c, 'history');
  });

  for (const seeds of [
    [11, 12],
    [13, 14],
    [15, 16],
  ] as Array<[number, number]>) {
    it(`two periods from the same distribution: nothing significant (seeds ${seeds.join(', ')}), live and from the history`, () => {
      const { stats, clock, a, b } = twoPeriods(6, 25, seeds);
      const attributes = [undefined, 'caption_script', 'image_size'] as const;
      const live = attributes.map((attribute) => stats.compare(a, b, { attribute }));
      clock.ms += 3_600_000;
      const history = attributes.map((attribute) => stats.compare(a, b, { attribute }));
      assert.deepEqual(
        [...live, ...history].map((c) => c.b.resolution_s),
        [1, 10, 10, 60, 60, 60],
      );
      for (const c of [...live, ...history]) {
        const attribute = c.slices?.attribute;
        assert.deepEqual(significantTests(c), [], `attribute ${attribute}`);
        assert.ok(testableShare(c) > (c.b.resolution_s === 60 && attribute ? 0.5 : 0.8), `most tests ran (${testableShare(c)})`);
        assert.equal(c.explained_by, null);
        assert.equal(c.slices?.cause ?? null, null);
        assert.ok(c.tests >= (1 + STAGE_NAMES.length) * 4);
      }
    });
  }

  it('a period without slices compares per second, and the stages with a share add up with the untimed rest', () => {
    const { stats, a, b } = twoPeriods(2, 30, [21, 22], 8);
    const c = stats.compare({ fromMs: a.fromMs + 1500, toMs: a.toMs - 2500 }, b);
    assert.equal(c.a.resolution_s, 1);
    assert.equal(c.a.from, new Date(a.fromMs + 2000).toISOString()); // rounded inward to whole seconds
    assert.equal(c.a.to, new Date(a.toMs - 3000).toISOString());
    assert.equal(c.a.requests, (2 * 60 - 5) * 30);
    assert.equal(c.slices, null);
    const shares = c.stages.reduce((sum, s) => sum + (s.share_of_change ?? 0), 0) + c.untimed.share_of_change!;
    assert.ok(Math.abs(shares - 1) < 0.02, `shares add up to ${shares}`);
  });

  it('a period without successful checks: no change, so the slices get no parts and no cause', () => {
    const clock = new Clock(T0 - 1);
    const stats = new LiveStats({ now: clock.now });
    clock.ms = T0 + 120_000; // two quiet minutes
    drive((s) => stats.record(s), clock, checkMix(5), 60, 10);
    const c = stats.compare(
      { fromMs: T0, toMs: T0 + 120_000 },
      { fromMs: T0 + 120_000, toMs: T0 + 180_000 },
      { attribute: 'caption_script' },
    );
    assert.equal(c.a.requests, 0);
    assert.equal(c.end_to_end.mean.difference_ms, null);
    assert.ok(c.slices && c.slices.slices.length > 0);
    for (const slice of c.slices.slices) {
      assert.deepEqual([slice.contribution_ms, slice.within_ms, slice.mix_ms], [null, null, null], slice.slice);
    }
    assert.equal(c.slices.cause, null);
  });

  it('refuses empty, reversed, future and expired ranges', () => {
    const { stats, clock } = twoPeriods(1, 5, [1, 2]);
    const minute = { fromMs: T0, toMs: T0 + 60_000 };
    assert.throws(() => stats.compare({ fromMs: 10, toMs: 5 }, minute), RangeError);
    assert.throws(() => stats.compare({ fromMs: clock.ms + 60_000, toMs: clock.ms + 120_000 }, minute), /future/);
    assert.throws(() => stats.compare({ fromMs: T0 - 2 * 86_400_000, toMs: T0 - 86_400_000 - 7_200_000 }, minute), /history/);
    assert.throws(() => stats.compare(minute, minute, { attribute: 'colour' as never }), /attribute/);
  });
});

describe('quantile intervals', () => {
  it('orderStatisticRanks: n·q ∓ z·√(n·q·(1−q)) widened to whole ranks, exact only inside 1 … n', () => {
    const z = normalQuantile(0.975);
    // 500 ∓ 1.96·√250 = 469.01 .. 530.99
    assert.deepEqual(orderStatisticRanks(1000, 0.5, z), { low: 469, high: 531, exact: true });
    // P99 of 100: 99 ∓ 1.95 reaches rank 101, past the data.
    assert.deepEqual(orderStatisticRanks(100, 0.99, z), { low: 97, high: 101, exact: false });
    // P50 of 3: 1.5 ∓ 1.70 starts below rank 1.
    assert.equal(orderStatisticRanks(3, 0.5, z).exact, false);
    // A fractional count (increase() extrapolates): the same formula.
    assert.deepEqual(orderStatisticRanks(99.5, 0.5, z), { low: 39, high: 60, exact: true });
  });

  it('reads the order-statistic ranks n·q ∓ z·√(n·q·(1−q)) and widens them by the sketch accuracy', () => {
    const sketch = new DurationSketch();
    for (let v = 1; v <= 1000; v++) sketch.add(v); // value = its 1-based rank
    const z = normalQuantile(0.975);
    const i = quantileInterval(sketch.data, 0.5, z);
    // ranks 500 ∓ 1.96·√250 = 469.0 .. 531.0
    const within = (got: number | null, rank: number, factor: number) =>
      assert.ok(got !== null && Math.abs(got / (rank * factor) - 1) <= RELATIVE_ACCURACY * 1.0001, `${got} vs rank ${rank}`);
    within(i.low, 469, 1 / (1 + RELATIVE_ACCURACY));
    within(i.high, 531, 1 / (1 - RELATIVE_ACCURACY));
    within(i.value, 500, 1);
    assert.equal(i.exact, true);
    // P99 of 100 values: the upper rank is past the data, so the interval is clamped and not exact.
    const small = new DurationSketch();
    for (let v = 1; v <= 100; v++) small.add(v);
    assert.equal(quantileInterval(small.data, 0.99, z).exact, false);
    assert.deepEqual(quantileInterval(null, 0.5, z), { value: null, low: null, high: null, exact: false });
  });
});
