import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MeanChange, StageChange } from '../../../preload/wire-types.ts';
import {
  MIN_VALUES_FOR_MEAN_TEST,
  meanChange,
  normalQuantile,
  quantileChange,
  splitChange,
  untimedMean,
} from '../../../main/telemetry/compare-rows.ts';

/** A stage row whose only figure is its mean change: what splitChange reads. */
function row(stage: StageChange['stage'], difference: number | null, significant = false): StageChange {
  const mean: MeanChange = {
    a_ms: 0,
    b_ms: difference,
    difference_ms: difference,
    low_ms: null,
    high_ms: null,
    testable: false,
    significant,
  };
  return { stage, count_a: 100, count_b: 100, mean, quantiles: [], share_of_change: null, significant };
}

describe('compare rows', () => {
  it('normalQuantile matches the standard normal table', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959963985) < 1e-8);
    assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
    assert.ok(Math.abs(normalQuantile(1 - 0.05 / 200) - 3.480756404) < 1e-7);
    assert.ok(Math.abs(normalQuantile(0.001) + 3.090232306) < 1e-7);
  });

  it('a mean is tested only with enough values on both sides and variances the source can tell', () => {
    const many = MIN_VALUES_FOR_MEAN_TEST;
    const few = { count: many - 1, meanMs: 10 };
    let asked = 0;
    const variances = (): [number, number] => {
      asked++;
      return [4, 4];
    };
    assert.equal(meanChange(few, { count: many, meanMs: 20 }, 2, variances).testable, false);
    assert.equal(asked, 0, 'variances are not asked for an untestable mean');
    assert.equal(meanChange({ count: many, meanMs: 10 }, { count: many, meanMs: 20 }, 2, () => null).testable, false);
    const tested = meanChange({ count: 100, meanMs: 10 }, { count: 100, meanMs: 11 }, 2, variances);
    // half = 2·√(4/100 + 4/100) = 0.5657: 1 ms ± 0.57 excludes 0.
    assert.equal(tested.difference_ms, 1);
    assert.ok(Math.abs(tested.low_ms! - (1 - 2 * Math.sqrt(0.08))) < 1e-12);
    assert.equal(tested.significant, true);
    assert.equal(meanChange({ count: 100, meanMs: 10 }, { count: 100, meanMs: 10.5 }, 2, variances).significant, false);
  });

  it('a quantile change is significant exactly when its test interval excludes 0', () => {
    const at = (value: number | null) => ({ value_ms: value, low_ms: value, high_ms: value });
    const excludes = quantileChange(0.5, at(10), at(15), (d) => ({ low_ms: d - 2, high_ms: d + 2 }));
    assert.deepEqual(
      [excludes.difference_ms, excludes.low_ms, excludes.high_ms, excludes.testable, excludes.significant],
      [5, 3, 7, true, true],
    );
    const spans = quantileChange(0.5, at(10), at(11), (d) => ({ low_ms: d - 2, high_ms: d + 2 }));
    assert.equal(spans.significant, false);
    assert.equal(spans.testable, true);
    const untestable = quantileChange(0.99, at(10), at(15), () => null);
    assert.deepEqual([untestable.low_ms, untestable.testable, untestable.significant], [null, false, false]);
    assert.equal(quantileChange(0.5, at(null), at(15), () => assert.fail('no test without both values')).difference_ms, null);
  });

  it('splits the end-to-end mean change among the stages and the untimed rest, largest share first', () => {
    const split = splitChange(row('end_to_end', 10, true), [row('decode_image', 2), row('inference', 7), row('tokenize', 0)], 3, 4);
    assert.equal(split.endToEnd.share_of_change, 1);
    assert.deepEqual(
      split.stages.map((s) => [s.stage, s.share_of_change]),
      [
        ['inference', 0.7],
        ['decode_image', 0.2],
        ['tokenize', 0],
      ],
    );
    assert.deepEqual(split.untimed, { a_ms: 3, b_ms: 4, difference_ms: 1, share_of_change: 0.1 });
    assert.deepEqual(split.top, { stage: 'inference', share: 0.7 });
    // The untimed rest explains the change when its share is the largest.
    assert.deepEqual(splitChange(row('end_to_end', 10), [row('inference', 1)], 0, 9).top, { stage: 'untimed', share: 0.9 });
    // No change: no shares, no top; the largest mean difference first.
    const none = splitChange(row('end_to_end', 0), [row('decode_image', -1), row('inference', 3)], null, null);
    assert.deepEqual([none.endToEnd.share_of_change, none.top, none.untimed.share_of_change], [null, null, null]);
    assert.deepEqual(
      none.stages.map((s) => s.stage),
      ['inference', 'decode_image'],
    );
  });

  it('the untimed mean is the end-to-end mean less the stage means', () => {
    assert.equal(untimedMean(10, [2, null, 3]), 5);
    assert.equal(untimedMean(null, [2]), null);
  });
});
