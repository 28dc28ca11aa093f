/**
 * fleetDocument against a recording stand-in Prometheus: how many queries one refresh sends (15
 * before the figures derived from others' samples were computed in-app, 7 now), and that the
 * derived figures are what their PromQL gives: the fleet QPS the sum of the replicas', every
 * latency quantile histogram_quantile over bucket rates summed by le, the error rates (fleet and
 * replica) 5xx over all but 4xx from the rates by status code, with no sample where PromQL has none
 * (a real Prometheus checks the same in test/integration/prometheus-fleet-api.test.ts).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { PrometheusClient } from '../../../main/telemetry/prometheus-client.ts';
import { fleetDocument } from '../../../main/telemetry/prometheus-fleet.ts';
import * as Q from '../../../main/telemetry/prometheus-queries.ts';
import { sample, series, startRecordingPrometheus, type Answer, type RecordingPrometheus } from '../../support/recording-prometheus.ts';

const A = { job: 'ofa-ve', instance: 'a:9100' };
const B = { job: 'ofa-ve', instance: 'b:9100' };
const NOW_MS = 1_700_000_000_000;
const [T1, T2] = [NOW_MS / 1000 - 60, NOW_MS / 1000];

/**
 * Bucket rates: A {≤0.1: 10, ≤0.5: 40, +Inf: 40}, B {≤0.1: 0, ≤0.5: 20, +Inf: 20}; the fleet's
 * (their sum by le) {≤0.1: 10, ≤0.5: 60, +Inf: 60}.
 */
const REPLICA_BUCKETS = [
  sample({ ...A, le: '0.1' }, 10),
  sample({ ...A, le: '0.5' }, 40),
  sample({ ...A, le: '+Inf' }, 40),
  sample({ ...B, le: '0.1' }, 0),
  sample({ ...B, le: '0.5' }, 20),
  sample({ ...B, le: '+Inf' }, 20),
];

/** Answer rates by replica and status code: A 2/s, a tenth of them 500s; B 3/s, a sixth of them 404s, no 5xx series. */
const BY_STATUS = [
  sample({ ...A, status_code: '200' }, 1.8),
  sample({ ...A, status_code: '500' }, 0.2),
  sample({ ...B, status_code: '200' }, 2.5),
  sample({ ...B, status_code: '404' }, 0.5),
];

/** What the instant queries answer; a test may replace parts of it (restored after each). */
const DEFAULT_INSTANT: { qps: Answer; byStatus: Answer; up: Answer; buckets?: Answer } = {
  qps: [sample(A, 2), sample(B, 3)],
  byStatus: BY_STATUS,
  up: [sample(A, 1), sample(B, 1)],
};
let instant = DEFAULT_INSTANT;

function answer(path: string, query: string): Answer {
  if (path === '/api/v1/query') {
    if (query === Q.replicaLatencyBucketRates('5m')) return instant.buckets ?? REPLICA_BUCKETS;
    if (query === Q.replicaQps('5m')) return instant.qps;
    if (query === Q.replicaRequestRatesByStatus('5m')) return instant.byStatus;
    if (query === Q.replicaUp) return instant.up;
  }
  if (path === '/api/v1/query_range') {
    // The chart's rate window for 5m: 60 points, a step of 5 s, the 1m minimum.
    if (query === Q.fleetLatencyBucketRates('60s')) {
      return [
        series({ le: '0.1' }, [
          [T1, 1],
          [T2, 0],
        ]),
        series({ le: '0.5' }, [
          [T1, 2],
          [T2, 0],
        ]),
        series({ le: '+Inf' }, [
          [T1, 2],
          [T2, 0],
        ]),
      ];
    }
    if (query === Q.replicaQps('60s')) {
      return [
        series(A, [
          [T1, 1],
          [T2, 2],
        ]),
        series(B, [[T1, 3]]),
      ];
    }
    if (query === Q.fleetErrorRate('60s')) return [];
  }
  return undefined;
}

const near = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(actual != null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);

describe('fleetDocument: queries per refresh and the figures derived in-app', () => {
  let prom: RecordingPrometheus;
  before(async () => {
    prom = await startRecordingPrometheus(answer);
  });
  after(() => prom.close());
  afterEach(() => {
    instant = DEFAULT_INSTANT;
  });

  it('one refresh sends 7 distinct queries (4 instant, 3 range), all at once', async () => {
    await fleetDocument(new PrometheusClient(prom.url), '5m', NOW_MS);
    const instantQueries = prom.queries.filter((q) => q.path === '/api/v1/query');
    const range = prom.queries.filter((q) => q.path === '/api/v1/query_range');
    assert.equal(instantQueries.length, 4, instantQueries.map((q) => q.query).join('\n'));
    assert.equal(range.length, 3, range.map((q) => q.query).join('\n'));
    assert.equal(new Set(prom.queries.map((q) => `${q.path} ${q.query}`)).size, 7, 'no query sent twice');
    // Instant queries at the one evaluation time; range queries over the window ending then.
    for (const q of instantQueries) assert.equal(q.params.get('time'), (NOW_MS / 1000).toFixed(3));
    for (const q of range) assert.equal(q.params.get('end'), (NOW_MS / 1000).toFixed(3));
  });

  it('derives the fleet QPS and quantiles, replica P90s and the chart lines as their PromQL would', async () => {
    const fleet = await fleetDocument(new PrometheusClient(prom.url), '5m', NOW_MS);
    // Every figure still carries the PromQL that gives it.
    assert.equal(fleet.qps.query, Q.fleetQps('5m'));
    assert.equal(fleet.p50_ms.query, Q.fleetLatencyQuantile(0.5, '5m'));
    assert.equal(fleet.p90_ms.query, Q.fleetLatencyQuantile(0.9, '5m'));
    assert.equal(fleet.p99_ms.query, Q.fleetLatencyQuantile(0.99, '5m'));
    assert.equal(fleet.replica_queries.p90_ms, Q.replicaP90('5m'));

    near(fleet.qps.value, 5, 'fleet QPS = 2 + 3');
    // histogram_quantile over {0.1: 10, 0.5: 60, +Inf: 60}: rank q·60 inside (0.1, 0.5], which holds 50.
    near(fleet.p50_ms.value, (0.1 + 0.4 * (20 / 50)) * 1000, 'P50 (rank 30)');
    near(fleet.p90_ms.value, (0.1 + 0.4 * (44 / 50)) * 1000, 'P90 (rank 54)');
    near(fleet.p99_ms.value, (0.1 + 0.4 * (49.4 / 50)) * 1000, 'P99 (rank 59.4)');
    // 5xx over all but 4xx: 0.2 / (1.8 + 0.2 + 2.5).
    near(fleet.error_rate.value, 0.2 / 4.5, 'fleet error rate');
    assert.equal(fleet.error_rate.query, Q.fleetErrorRate('5m'));
    assert.equal(fleet.replica_queries.error_rate, Q.replicaErrorRate('5m'));

    const [a, b] = fleet.replicas;
    assert.deepEqual(
      fleet.replicas.map((r) => [r.instance, r.up, r.qps, r.error_rate]),
      [
        ['a:9100', true, 2, 0.1],
        ['b:9100', true, 3, 0], // no 5xx series, checks answered: 0, as in-app
      ],
    );
    near(a!.p90_ms, (0.1 + 0.4 * (26 / 30)) * 1000, 'A P90 (rank 36 of 40)');
    near(b!.p90_ms, (0.1 + 0.4 * (18 / 20)) * 1000, 'B P90 (rank 18 of 20)');
    near(b!.p90_skew, b!.p90_ms! / fleet.p90_ms.value!, 'skew: replica P90 / fleet P90 (every replica up)');
    assert.equal(fleet.skew.slowest_instance, 'b:9100');
    assert.equal(fleet.skew.compared_p90_ms, fleet.p90_ms.value);
    assert.equal(fleet.skew.compared_replicas, 2);
    assert.deepEqual(
      fleet.replicas.map((r) => r.as_of_last_scrape),
      [false, false],
    );

    const line = (name: string) => fleet.series.lines.find((l) => l.name === name);
    assert.deepEqual(line('qps')?.points, [
      [T1, 4],
      [T2, 2],
    ]);
    assert.equal(line('qps')?.query, Q.fleetQps('60s'));
    // At T1 {0.1: 1, 0.5: 2, +Inf: 2}: P50 is rank 1, the top of the first bucket; at T2 no rate, no value.
    assert.deepEqual(line('p50_ms')?.points, [
      [T1, 100],
      [T2, null],
    ]);
    assert.equal(line('p90_ms')?.query, Q.fleetLatencyQuantile(0.9, '60s'));
    assert.equal(line('error_rate'), undefined, 'no 5xx ratio series, no line');
    assert.deepEqual(
      fleet.series.lines.filter((l) => l.name.startsWith('qps ')).map((l) => l.name),
      ['qps a:9100', 'qps b:9100'],
    );
  });

  it('error rates from the one by-status query: no 5xx series is 0 where checks were answered, no sample where none were', async () => {
    const errorRates = async () => {
      const fleet = await fleetDocument(new PrometheusClient(prom.url), '5m', NOW_MS);
      return [fleet.error_rate.value, ...fleet.replicas.map((r) => r.error_rate)];
    };
    // Checks answered, none failed: no 5xx series at all, so PromQL has no ratio sample; shown as 0.
    instant = { ...DEFAULT_INSTANT, byStatus: [sample({ ...A, status_code: '200' }, 2), sample({ ...B, status_code: '200' }, 3)] };
    assert.deepEqual(await errorRates(), [0, 0, 0]);
    // 5xx series present at rate 0 (the counters start at 0): PromQL's ratio is 0 itself.
    instant = { ...DEFAULT_INSTANT, byStatus: [sample({ ...A, status_code: '200' }, 2), sample({ ...A, status_code: '503' }, 0)] };
    assert.deepEqual(await errorRates(), [0, 0, 0]);
    // Only 4xx: no check run, no ratio sample (`> 0`); answers were given, so 0 for the fleet and A.
    instant = { ...DEFAULT_INSTANT, byStatus: [sample({ ...A, status_code: '400' }, 2), sample({ ...A, status_code: '500' }, 0)] };
    assert.deepEqual(await errorRates(), [0, 0, 0]);
    // B without traffic (QPS 0) and no samples: no error rate for it; B down: none either, whatever it had.
    instant = {
      qps: [sample(A, 2), sample(B, 0)],
      byStatus: [sample({ ...A, status_code: '200' }, 2)],
      up: [sample(A, 1), sample(B, 1)],
    };
    assert.deepEqual(await errorRates(), [0, 0, null]);
    instant = { ...instant, up: [sample(A, 1), sample(B, 0)] };
    assert.deepEqual(await errorRates(), [0, 0, null]);
    // A down replica's 5xx within the window still count, as rate() over its last samples does.
    instant = {
      qps: [sample(A, 2), sample(B, 0)],
      byStatus: [...BY_STATUS.slice(0, 2), sample({ ...B, status_code: '502' }, 1)],
      up: [sample(A, 1), sample(B, 0)],
    };
    const [fleetRate, aRate, bRate] = await errorRates();
    near(fleetRate, 1.2 / 3, 'fleet: (0.2 + 1) / (2 + 1)');
    near(aRate, 0.1, 'A');
    assert.equal(bRate, 1, 'B: all its checks failed');
    // No traffic anywhere: no sample, no 0.
    instant = { qps: [], byStatus: [], up: [sample(A, 1), sample(B, 1)] };
    assert.deepEqual(await errorRates(), [null, null, null]);
  });

  it('a replica down: its window counts in the QPS and error rate, its figures are as of its last scrape, and it is not ranked', async () => {
    // B went down after taking 3/s of the window, some of it 502s: the fleet's figures keep its requests.
    instant = {
      qps: [sample(A, 2), sample(B, 3)],
      byStatus: [...BY_STATUS.slice(0, 2), sample({ ...B, status_code: '200' }, 2), sample({ ...B, status_code: '502' }, 1)],
      up: [sample(A, 1), sample(B, 0)],
    };
    const fleet = await fleetDocument(new PrometheusClient(prom.url), '5m', NOW_MS);
    near(fleet.qps.value, 5, 'fleet QPS = 2 + 3: the down replica answered its 3/s in the window');
    near(fleet.error_rate.value, 1.2 / 5, 'fleet error rate of the same requests: (0.2 + 1) / (2 + 3)');
    const [a, b] = fleet.replicas;
    assert.deepEqual([b!.up, b!.as_of_last_scrape, b!.qps, b!.p90_skew, b!.slowest], [false, true, 3, null, false]);
    near(b!.error_rate, 1 / 3, 'B: its own requests');
    near(b!.p90_ms, (0.1 + 0.4 * (18 / 20)) * 1000, 'B keeps its P90 of before it went down');
    // The fleet P90 (every request, B's too) is above A's: A compared with it would read 0.99×, "slowest"
    // of one. A is compared with the replicas up, itself alone: 1×, and none is slowest of one.
    assert.ok(a!.p90_ms! < fleet.p90_ms.value!);
    assert.equal(a!.as_of_last_scrape, false);
    near(a!.p90_skew, 1, 'A against the replicas up');
    assert.equal(a!.slowest, false);
    assert.deepEqual(fleet.skew, { slowest_instance: null, ratio: null, compared_p90_ms: a!.p90_ms, compared_replicas: 1 });
  });

  it('a replica gone from discovery (no up sample, its requests still in the window) is treated as down, not ranked', async () => {
    instant = { qps: [sample(A, 2), sample(B, 3)], byStatus: BY_STATUS, up: [sample(A, 1)] };
    const fleet = await fleetDocument(new PrometheusClient(prom.url), '5m', NOW_MS);
    const [a, b] = fleet.replicas;
    assert.deepEqual([b!.up, b!.as_of_last_scrape, b!.p90_skew, b!.slowest], [null, true, null, false]);
    near(a!.p90_skew, 1, 'A alone is compared');
    assert.equal(fleet.skew.compared_replicas, 1);
    assert.equal(fleet.skew.slowest_instance, null);
  });

  it('the slowest is ranked against the P90 of the replicas it is ranked among, never below 1×', async () => {
    // A: {0.1: 10, 0.5: 40}, P90 446.7 ms; C fast: {0.1: 20, 0.5: 20}, P90 90 ms; B down and slow.
    const C = { job: 'ofa-ve', instance: 'c:9100' };
    instant = {
      qps: [sample(A, 2), sample(B, 3), sample(C, 1)],
      byStatus: [],
      up: [sample(A, 1), sample(B, 0), sample(C, 1)],
      buckets: [...REPLICA_BUCKETS, sample({ ...C, le: '0.1' }, 20), sample({ ...C, le: '0.5' }, 20), sample({ ...C, le: '+Inf' }, 20)],
    };
    const fleet = await fleetDocument(new PrometheusClient(prom.url), '5m', NOW_MS);
    // A and C summed by le: {0.1: 30, 0.5: 60, +Inf: 60}, P90 rank 54: 0.1 + 0.4 · 24/30.
    const comparedP90 = (0.1 + 0.4 * (24 / 30)) * 1000;
    near(fleet.skew.compared_p90_ms, comparedP90, 'the P90 of the replicas up');
    assert.equal(fleet.skew.compared_replicas, 2);
    const [a, b, c] = fleet.replicas;
    near(a!.p90_skew, a!.p90_ms! / comparedP90, 'A');
    near(c!.p90_skew, c!.p90_ms! / comparedP90, 'C');
    assert.equal(b!.p90_skew, null, 'B is down: not compared');
    assert.deepEqual(
      fleet.replicas.map((r) => [r.instance, r.slowest]),
      [
        ['a:9100', true],
        ['b:9100', false],
        ['c:9100', false],
      ],
    );
    assert.equal(fleet.skew.slowest_instance, 'a:9100');
    assert.ok(fleet.skew.ratio! >= 1, `${fleet.skew.ratio}`);
  });
});
