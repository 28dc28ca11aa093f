import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Mark, PeriodComparison, StageChange } from '../../preload/wire-types.ts';
import * as compareFormat from '../../renderer/dashboard/compare-format.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const mark = (name: string, minutesAgo: number): Mark => ({ name, at_ms: NOW - minutesAgo * 60_000, kind: 'user' });

function stage(name: StageChange['stage'], a: number, b: number, significant: boolean, share: number | null): StageChange {
  const mean = { a_ms: a, b_ms: b, difference_ms: b - a, low_ms: b - a - 1, high_ms: b - a + 1, testable: true, significant };
  return { stage: name, count_a: 100, count_b: 120, mean, quantiles: [], share_of_change: share, significant };
}

function comparison(changed: boolean): PeriodComparison {
  const range = {
    from: new Date(NOW - 60_000).toISOString(),
    to: new Date(NOW).toISOString(),
    resolution_s: 10,
    requests: 100,
    successes: 100,
    error_rate: 0,
    client_error_rate: 0,
  };
  return {
    a: range,
    b: range,
    interval_confidence: 0.95,
    family_error_rate: 0.05,
    tests: 48,
    method: '',
    end_to_end: stage('end_to_end', 400, changed ? 440 : 401, changed, 1),
    stages: [stage('tokenize', 5, changed ? 41 : 5, changed, 0.9), stage('inference', 300, 302, false, 0.05)],
    untimed: { a_ms: 1, b_ms: 1, difference_ms: 0, share_of_change: 0 },
    explained_by: changed ? { stage: 'tokenize', share_of_change: 0.9 } : null,
    slices: changed
      ? {
          attribute: 'caption_script',
          slices: [],
          cause: { slice: 'cjk', kind: 'within', stage: 'tokenize', contribution_ms: 36, share_of_change: 0.9, significant: true },
        }
      : null,
  };
}

describe('compare-format', () => {
  it('resolves range ends against now', () => {
    assert.equal(compareFormat.resolveEnd('now', NOW), NOW);
    assert.equal(compareFormat.resolveEnd('ago:15', NOW), NOW - 15 * 60_000);
    assert.equal(compareFormat.resolveEnd(`mark:${NOW - 1234}`, NOW), NOW - 1234);
    assert.equal(compareFormat.resolveEnd('mark:soon', NOW), undefined);
    assert.equal(compareFormat.resolveEnd('later:3', NOW), undefined);
  });

  it('before / after a mark runs from the previous mark (at most 15 min back) to the next mark or now', () => {
    const marks = [mark('deploy 1', 60), mark('deploy 2', 10), mark('deploy 3', 5)];
    assert.deepEqual(compareFormat.aroundMark(marks, 0), {
      a: { from: 'ago:15', to: `mark:${marks[0]!.at_ms}` },
      b: { from: `mark:${marks[0]!.at_ms}`, to: `mark:${marks[1]!.at_ms}` },
    });
    assert.deepEqual(compareFormat.aroundMark(marks, 2), {
      a: { from: `mark:${marks[1]!.at_ms}`, to: `mark:${marks[2]!.at_ms}` },
      b: { from: `mark:${marks[2]!.at_ms}`, to: 'now' },
    });
  });

  it('prints estimates with intervals and signed differences with their share', () => {
    assert.equal(compareFormat.formatEstimate({ value_ms: 425, low_ms: 410, high_ms: 440.4 }), '425 ms [410 ms–440 ms]');
    assert.equal(compareFormat.formatEstimate({ value_ms: 12.5, low_ms: null, high_ms: null }), '12.5 ms');
    assert.equal(compareFormat.formatEstimate({ value_ms: null, low_ms: null, high_ms: null }), '—');
    assert.equal(compareFormat.formatDifference(40, 400), '+40.0 ms (+10.0%)');
    assert.equal(compareFormat.formatDifference(-3.1, 310), '−3.10 ms (−1.0%)');
    assert.equal(compareFormat.formatDifference(0, 10), '±0.00 ms (±0.0%)');
    assert.equal(compareFormat.formatDifference(5, null), '+5.00 ms');
    assert.equal(compareFormat.formatDifference(null, 10), '—');
    assert.deepEqual(compareFormat.estimateParts({ value_ms: 0.004, low_ms: 0.001, high_ms: 0.009 }), {
      value: '<0.01 ms',
      interval: '[<0.01 ms–<0.01 ms]',
    });
    assert.deepEqual(compareFormat.estimateParts({ value_ms: 12.5, low_ms: null, high_ms: null }), { value: '12.5 ms', interval: '' });
    assert.equal(compareFormat.significanceLabel({ testable: false, significant: false }), 'not tested');
    assert.equal(compareFormat.significanceLabel({ testable: true, significant: true }), 'yes');
    assert.equal(compareFormat.significanceLabel({ testable: true, significant: false }), 'no');
  });

  it('captions a stage table with its counts and its share of the change, a tiny negative share as 0%', () => {
    const post = { ...stage('postprocess', 0.01, 0.02, true, -0.0004), count_a: 688, count_b: 276 };
    assert.equal(compareFormat.stageCountsPhrase(post), '688 → 276 values · 0% of the change');
    assert.equal(compareFormat.stageCountsPhrase({ ...post, share_of_change: -0.12 }), '688 → 276 values · \u221212% of the change');
    assert.equal(compareFormat.stageCountsPhrase({ ...post, share_of_change: 0.95 }), '688 → 276 values · 95% of the change');
    assert.equal(compareFormat.stageCountsPhrase({ ...post, share_of_change: null }), '688 → 276 values');
    assert.equal(compareFormat.stageCountsPhrase({ ...post, stage: 'end_to_end', share_of_change: 1 }), '688 → 276 values');
  });

  it('prints a difference too small to show (<0.01 ms) without a sign, either way; its relative change keeps it', () => {
    assert.equal(compareFormat.formatDifference(-0.004, 0.02), '<0.01 ms (\u221220.0%)');
    assert.equal(compareFormat.formatDifference(0.004, null), '<0.01 ms');
    assert.equal(compareFormat.formatDifference(-0.01, null), '\u22120.01 ms');
  });

  it('marks estimated counts with ≈: stage captions and the period line', () => {
    const post = { ...stage('postprocess', 1, 2, true, null), count_a: 1614, count_b: 1134 };
    assert.equal(compareFormat.stageCountsPhrase(post, true), '≈1,614 → ≈1,134 values');
    assert.equal(compareFormat.formatCountOf(1104, false), '1,104');
    assert.equal(compareFormat.formatCountOf(0, true), '0', 'no increase at all is exact');
    const c = comparison(false);
    assert.match(compareFormat.periodPhrase(c.a, c), / · 100 checks · 10 s periods · /);
    const prom = { ...c, source: 'prometheus' as const, counts_estimated: true };
    assert.match(compareFormat.periodPhrase({ ...c.a, resolution_s: 15 }, prom), / · ≈100 checks · 15 s scrape interval · /);
    assert.match(compareFormat.periodPhrase({ ...c.a, resolution_s: null }, prom), / · scrape interval unknown · /);
  });

  it('names a Prometheus by host, port and path prefix', () => {
    assert.equal(compareFormat.prometheusHost('http://127.0.0.1:9397'), '127.0.0.1:9397');
    assert.equal(compareFormat.prometheusHost('https://prom.example/thanos'), 'prom.example/thanos');
  });

  it('puts end to end first, then the stages in the order the comparison gives', () => {
    assert.deepEqual(
      compareFormat.comparedRows(comparison(true)).map((s) => s.stage),
      ['end_to_end', 'tokenize', 'inference'],
    );
  });

  it('names the cause first: stage and slice, or says nothing changed significantly', () => {
    assert.equal(
      compareFormat.comparisonVerdict(comparison(true)),
      'Most of the change: tokenize (90% of it), in the cjk slice. Mean latency 400 ms → 440 ms, +40.0 ms (+10.0%), significant.',
    );
    assert.equal(
      compareFormat.comparisonVerdict(comparison(false)),
      'Mean latency 400 ms → 401 ms, +1.00 ms (+0.3%): no significant change end to end.',
    );
  });
});

describe('rangeProblem', () => {
  const now = 1_800_000_000_000;
  it('accepts a range that ends after it starts, and says what is wrong with the rest', () => {
    assert.equal(compareFormat.rangeProblem('A', { from: 'ago:15', to: 'ago:5' }, now), undefined);
    assert.equal(compareFormat.rangeProblem('B', { from: `mark:${now - 1000}`, to: 'now' }, now), undefined);
    assert.match(compareFormat.rangeProblem('A', { from: 'ago:5', to: 'ago:5' }, now)!, /^range A is empty/);
    assert.match(compareFormat.rangeProblem('B', { from: 'now', to: 'ago:5' }, now)!, /^range B ends before it starts/);
    assert.equal(compareFormat.rangeProblem('A', { from: 'mark:x', to: 'now' }, now), 'choose both ends of range A');
  });
});
