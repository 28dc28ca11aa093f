import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetDocument } from '../../preload/wire-types.ts';
import {
  fleetChartRows,
  IN_APP_SOURCE,
  prometheusSource,
  replicaLineNames,
  skewPhrase,
  upLabel,
} from '../../renderer/dashboard/fleet-format.ts';

const doc = (over: Partial<FleetDocument>): FleetDocument => ({
  source: 'prometheus',
  prometheus_url: 'http://prom:9090',
  window: '5m',
  window_s: 300,
  generated_at: '2026-01-01T00:00:00.000Z',
  qps: { value: 2, query: 'q' },
  p50_ms: { value: 10, query: 'q' },
  p90_ms: { value: 20, query: 'q' },
  p99_ms: { value: 30, query: 'q' },
  error_rate: { value: 0, query: 'q' },
  replicas: [],
  replica_queries: { qps: 'q', p90_ms: 'q', error_rate: 'q', up: 'q' },
  skew: { slowest_instance: null, ratio: null },
  series: { step_s: 5, rate_window: '60s', lines: [] },
  ...over,
});

const replica = (instance: string) => ({
  job: 'ofa-ve',
  instance,
  up: true,
  qps: 1,
  p90_ms: 20,
  error_rate: 0,
  p90_skew: 1,
  slowest: false,
});

describe('fleet-format', () => {
  it('merges chart lines into one row per time, oldest first, with gaps as null and only the lines asked for', () => {
    const rows = fleetChartRows(
      [
        {
          name: 'qps',
          query: 'q',
          points: [
            [20, 2],
            [10, 1],
          ],
        },
        {
          name: 'qps a:1',
          query: 'q',
          points: [
            [10, 0.5],
            [20, null],
          ],
        },
        { name: 'p90_ms', query: 'q', points: [[10, 99]] },
      ],
      ['qps', 'qps a:1'],
    );
    assert.deepEqual(rows, [
      { t: 10, qps: 1, 'qps a:1': 0.5 },
      { t: 20, qps: 2, 'qps a:1': null },
    ]);
  });

  it('names the per-replica lines present, in replica order', () => {
    const d = doc({
      replicas: [replica('b:2'), replica('a:1'), replica('c:3')],
      series: { step_s: 5, rate_window: '60s', lines: ['qps a:1', 'qps b:2'].map((name) => ({ name, query: 'q', points: [] })) },
    });
    assert.deepEqual(replicaLineNames(d), ['qps b:2', 'qps a:1']);
  });

  it('says the source and the slowest replica in words', () => {
    assert.equal(prometheusSource('http://prom:9090'), 'Prometheus at http://prom:9090, sum by (le) over instances');
    assert.equal(IN_APP_SOURCE, 'this replica, in-app');
    assert.equal(skewPhrase(doc({})), 'no replica latencies in the window');
    assert.equal(skewPhrase(doc({ skew: { slowest_instance: 'gpu-2:7860', ratio: 1.349 } })), 'slowest: gpu-2:7860 at 1.35× the fleet P90');
    assert.deepEqual([upLabel(true), upLabel(false), upLabel(null)], ['up', 'down', 'unknown']);
  });
});
