import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bucketQuantile,
  bucketQuantileInterval,
  bucketTotal,
  bucketVariance,
  cumulativeBuckets,
  type Bucket,
} from '../../../main/telemetry/prometheus-buckets.ts';
import { orderStatisticRanks } from '../../../main/telemetry/compare-rows.ts';

/** 100 values: 10 ≤ 0.1 s, 20 in (0.1, 0.2], 60 in (0.2, 0.5], 10 above 0.5 s. */
const HUNDRED: Bucket[] = [
  { le: 0.1, count: 10 },
  { le: 0.2, count: 30 },
  { le: 0.5, count: 90 },
  { le: Infinity, count: 100 },
];
const Z95 = 1.959963984540054;

const close = (actual: number | null, expected: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

describe('bucketQuantile: PromQL histogram_quantile', () => {
  it('interpolates linearly inside the bucket that holds rank q·n', () => {
    close(bucketQuantile(HUNDRED, 0.5), 0.3, 'P50: rank 50 is 20 of the 60 in (0.2, 0.5]');
    close(bucketQuantile(HUNDRED, 0.9), 0.5, 'P90: rank 90 is the top of (0.2, 0.5]');
    close(bucketQuantile(HUNDRED, 0.05), 0.05, 'P5: the first bucket starts at 0');
    close(bucketQuantile(HUNDRED, 0.2), 0.15, 'P20: rank 20 is 10 of the 20 in (0.1, 0.2]');
  });

  it('answers the highest finite bound for a rank in +Inf, and nothing without values', () => {
    close(bucketQuantile(HUNDRED, 0.99), 0.5, 'P99 in +Inf');
    assert.equal(
      bucketQuantile(
        [
          { le: 0.1, count: 0 },
          { le: Infinity, count: 0 },
        ],
        0.5,
      ),
      null,
    );
    assert.equal(bucketQuantile([{ le: Infinity, count: 5 }], 0.5), null, 'one bucket: NaN in PromQL');
  });
});

describe('bucketQuantileInterval: order-statistic ranks mapped to bucket bounds', () => {
  it('P50 of 100: ranks 40 and 60 both in (0.2, 0.5]', () => {
    // spread = 1.96·√(100·0.5·0.5) = 9.8: ranks ⌊40.2⌋ = 40 and ⌈59.8⌉ = 60.
    const i = bucketQuantileInterval(HUNDRED, 0.5, Z95);
    close(i.value, 0.3, 'estimate');
    assert.deepEqual([i.low, i.high, i.exact], [0.2, 0.5, true]);
  });

  it('P10 of 100: ranks 4 and 16, from 0 to 0.2', () => {
    // spread = 1.96·3 = 5.88: ranks ⌊4.12⌋ = 4 (first bucket, from 0) and ⌈15.88⌉ = 16 (second bucket).
    const i = bucketQuantileInterval(HUNDRED, 0.1, Z95);
    close(i.value, 0.1, 'estimate');
    assert.deepEqual([i.low, i.high, i.exact], [0, 0.2, true]);
  });

  it('P90 of 100: the high rank 96 falls in +Inf, so no upper bound and no test', () => {
    const i = bucketQuantileInterval(HUNDRED, 0.9, Z95);
    assert.deepEqual([i.low, i.high, i.exact], [0.2, null, false]);
  });

  it('uses the in-app ranks (orderStatisticRanks): the bounds of the buckets holding them, whatever q and z', () => {
    // Buckets with one value each (bounds 1 … 200): a rank's bucket is (rank − 1, rank].
    const ones: Bucket[] = [...Array.from({ length: 200 }, (_, i) => ({ le: i + 1, count: i + 1 })), { le: Infinity, count: 200 }];
    for (const [q, z] of [
      [0.5, Z95],
      [0.9, 3.2],
      [0.1, 1],
    ] as const) {
      const ranks = orderStatisticRanks(200, q, z);
      const i = bucketQuantileInterval(ones, q, z);
      assert.deepEqual([i.low, i.high, i.exact], [ranks.low - 1, ranks.high, ranks.exact], `q ${q}, z ${z}`);
    }
  });

  it('a rank below 1 is not exact (too few values for the interval)', () => {
    const few: Bucket[] = [
      { le: 0.1, count: 3 },
      { le: 0.2, count: 5 },
      { le: Infinity, count: 5 },
    ];
    const i = bucketQuantileInterval(few, 0.5, Z95);
    assert.equal(i.exact, false);
    assert.equal(i.low, 0);
  });
});

describe('cumulativeBuckets: as histogram_quantile takes them', () => {
  it('sorts, merges "1" with "1.0" (Prometheus 2 and 3 spellings), makes counts monotonic', () => {
    const buckets = cumulativeBuckets([
      { le: '+Inf', count: 12 },
      { le: '1.0', count: 4 },
      { le: '0.5', count: 6 },
      { le: '1', count: 3 },
    ]);
    assert.deepEqual(buckets, [
      { le: 0.5, count: 6 },
      { le: 1, count: 7 },
      { le: Infinity, count: 12 },
    ]);
    const repaired = cumulativeBuckets([
      { le: '0.1', count: 10 },
      { le: '0.2', count: 9.5 },
      { le: '+Inf', count: 12 },
    ]);
    assert.deepEqual(
      repaired?.map((b) => b.count),
      [10, 10, 12],
    );
    assert.equal(bucketTotal(repaired!), 12);
  });

  it("takes counts that differ by float noise as equal, as Prometheus' ensureMonotonicAndIgnoreSmallDeltas does", () => {
    // Sums of rate()s in another order: 4 and 4·(1 + 1e-13) are one count, and the bucket after
    // compares with the first (the noise is not carried forward); a real difference stays.
    const noisy = cumulativeBuckets([
      { le: '0.1', count: 4 },
      { le: '0.2', count: 4 * (1 + 1e-13) },
      { le: '0.4', count: 4 * (1 + 1.5e-13) },
      { le: '0.8', count: 4 * (1 + 1e-9) },
      { le: '+Inf', count: 6 },
    ]);
    assert.deepEqual(
      noisy?.map((b) => b.count),
      [4, 4, 4, 4 * (1 + 1e-9), 6],
    );
    // With 0: only a difference below the smallest normal number is noise.
    assert.deepEqual(
      cumulativeBuckets([
        { le: '0.1', count: 0 },
        { le: '0.2', count: 1e-300 },
        { le: '+Inf', count: 1 },
      ])?.map((b) => b.count),
      [0, 1e-300, 1],
    );
  });

  it('has no buckets without +Inf', () => {
    assert.equal(
      cumulativeBuckets([
        { le: '0.1', count: 1 },
        { le: '0.2', count: 2 },
      ]),
      undefined,
    );
  });
});

describe('bucketVariance', () => {
  it("puts each bucket's values at its midpoint", () => {
    // 10 values at 0.05 and 10 at 0.15, mean 0.1: Σ(x − m)² = 20 · 0.0025, over n − 1 = 19.
    const v = bucketVariance(
      [
        { le: 0.1, count: 10 },
        { le: 0.2, count: 20 },
        { le: Infinity, count: 20 },
      ],
      0.1,
    );
    close(v, 0.05 / 19, 'variance');
  });
});
