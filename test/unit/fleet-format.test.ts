import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetDocument } from '../../preload/wire-types.ts';
import { chartPalette, seriesColors } from '../../renderer/dashboard/chart-palette.ts';
import {
  fleetChartRows,
  formatAxisQps,
  skewCell,
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
  skew: { slowest_instance: null, ratio: null, compared_p90_ms: null, compared_replicas: 0 },
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
  as_of_last_scrape: false,
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
    const skew = { slowest_instance: 'gpu-2:7860', ratio: 1.349, compared_p90_ms: 20, compared_replicas: 2 };
    assert.equal(
      skewPhrase(doc({ skew, replicas: [replica('gpu-1:7860'), replica('gpu-2:7860')] })),
      'slowest: gpu-2:7860 at 1.35× the fleet P90',
    );
    assert.deepEqual([upLabel(true), upLabel(false), upLabel(null)], ['up', 'down', 'unknown']);
  });

  it('with a replica down, compares the replicas up with their own P90 and says so; none is slowest of one', () => {
    const down = { ...replica('gpu-3:7860'), up: false, p90_skew: null, as_of_last_scrape: true };
    const replicas = [replica('gpu-1:7860'), replica('gpu-2:7860'), down];
    const skew = { slowest_instance: 'gpu-2:7860', ratio: 1.2, compared_p90_ms: 20, compared_replicas: 2 };
    assert.equal(skewPhrase(doc({ skew, replicas })), 'slowest: gpu-2:7860 at 1.20× the P90 of the 2 replicas up');
    // The one replica up, the other down: no "slowest" of one, and no ratio against the down one's latencies.
    const alone = { slowest_instance: null, ratio: null, compared_p90_ms: 20, compared_replicas: 1 };
    assert.equal(
      skewPhrase(doc({ skew: alone, replicas: [replica('gpu-1:7860'), down] })),
      'one replica up with latencies: none to compare it with',
    );
    assert.equal(skewCell(down), 'not compared (down)');
    // Gone from discovery (no `up` sample): compared with the replicas up just the same, and said so.
    const gone = { ...down, up: null };
    assert.equal(skewCell(gone), 'not compared (gone)');
    assert.equal(
      skewPhrase(doc({ skew, replicas: [replica('gpu-1:7860'), replica('gpu-2:7860'), gone] })),
      'slowest: gpu-2:7860 at 1.20× the P90 of the 2 replicas up',
    );
    assert.equal(skewCell(replica('gpu-1:7860')), '1.00×');
    assert.equal(skewCell({ ...replica('idle:1'), p90_skew: null }), '—');
  });

  it('labels the QPS axis in one format: 0 as "0" beside whole numbers, no trailing zeros', () => {
    assert.deepEqual([0, 350, 700, 1050].map(formatAxisQps), ['0', '350', '700', '1050']);
    assert.deepEqual([0, 0.5, 1, 1.5].map(formatAxisQps), ['0', '0.5', '1', '1.5']);
    assert.deepEqual([0, 0.25, 12.5].map(formatAxisQps), ['0', '0.25', '12.5']);
    assert.equal(formatAxisQps(NaN), '');
  });

  it('gives lines of one kind colours of their own, none the axis grey or the accent', () => {
    const palette = chartPalette();
    const colors = seriesColors(palette);
    assert.ok(colors.length >= 4, colors.join());
    assert.equal(new Set(colors.map((c) => c.toLowerCase())).size, colors.length, 'each once');
    for (const taken of [palette.axis, palette.accent, palette.grid]) assert.ok(!colors.includes(taken), `${taken} in ${colors.join()}`);
  });
});
