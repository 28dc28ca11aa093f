import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { STAGE_NAMES } from '../../../preload/wire-types.ts';
import { PrometheusClient } from '../../../main/telemetry/prometheus-client.ts';
import { comparePrometheusRanges } from '../../../main/telemetry/prometheus-compare.ts';
import * as Q from '../../../main/telemetry/prometheus-queries.ts';
import { sample, startRecordingPrometheus, type Answer, type RecordingPrometheus } from '../../support/recording-prometheus.ts';

// Nothing listens on port 9: a range that got as far as a query would fail PROMETHEUS_UNAVAILABLE instead.
const client = new PrometheusClient('http://127.0.0.1:9');
const HOUR = 3_600_000;
const now = Date.now();
const ok = { fromMs: now - 2 * HOUR, toMs: now - HOUR };

describe('comparePrometheusRanges: a range is checked before any query', () => {
  for (const [what, range, message] of [
    ['empty', { fromMs: now - HOUR, toMs: now - HOUR }, /at least one second/],
    ['backwards', { fromMs: now - HOUR, toMs: now - 2 * HOUR }, /at least one second/],
    ['longer than 30 days (an increase() over every sample kept)', { fromMs: 0, toMs: now - HOUR }, /at most 30 days/],
    ['ending in the future', { fromMs: now - HOUR, toMs: now + 10 * HOUR }, /end by now/],
  ] as const) {
    it(`${what}: a RangeError, no query sent`, async () => {
      await assert.rejects(
        comparePrometheusRanges(client, ok, range),
        (err: Error) => err instanceof RangeError && message.test(err.message),
      );
      await assert.rejects(
        comparePrometheusRanges(client, range, ok),
        (err: Error) => err instanceof RangeError && message.test(err.message),
      );
    });
  }

  it('a valid pair of ranges goes on to Prometheus (here: nothing listening)', async () => {
    await assert.rejects(comparePrometheusRanges(client, ok, { fromMs: now - HOUR, toMs: now }), { code: 'PROMETHEUS_UNAVAILABLE' });
  });
});

/** Every stage timed: english {≤0.1: 6, ≤0.5: 8, +Inf: 8} (sum 1.2 s), cjk {≤0.1: 1, ≤0.5: 4, +Inf: 5} (sum 2 s). */
function stageAnswer(path: string, query: string): Answer {
  if (path !== '/api/v1/query') return undefined;
  const starts = (expr: (w: string) => string) => query.startsWith(expr('').slice(0, expr('').indexOf('[') + 1));
  if (starts(Q.stageBucketsIncreaseByScript)) {
    return STAGE_NAMES.flatMap((stage) => [
      sample({ stage, script: 'english', le: '0.1' }, 6),
      sample({ stage, script: 'english', le: '0.5' }, 8),
      sample({ stage, script: 'english', le: '+Inf' }, 8),
      sample({ stage, script: 'cjk', le: '0.1' }, 1),
      sample({ stage, script: 'cjk', le: '0.5' }, 4),
      sample({ stage, script: 'cjk', le: '+Inf' }, 5),
    ]);
  }
  if (starts(Q.stageSumIncreaseByScript)) {
    return STAGE_NAMES.flatMap((stage) => [sample({ stage, script: 'english' }, 1.2), sample({ stage, script: 'cjk' }, 2)]);
  }
  if (starts(Q.latencyBucketsIncrease)) return [sample({ le: '1' }, 13), sample({ le: '+Inf' }, 13)];
  if (starts(Q.latencySumIncrease)) return [sample({}, 6.5)];
  if (starts(Q.requestsByStatusIncrease)) return [sample({ status_code: '200' }, 13)];
  return undefined;
}

describe('comparePrometheusRanges with attribute=caption_script', () => {
  let prom: RecordingPrometheus;
  before(async () => {
    prom = await startRecordingPrometheus(stageAnswer);
  });
  after(() => prom.close());

  it('reads the stage histograms once per range (per stage × script) and sums the stages in-app', async () => {
    const b = { fromMs: now - HOUR, toMs: now };
    const c = await comparePrometheusRanges(new PrometheusClient(prom.url), ok, b, 'caption_script');
    // 5 queries per range: stage buckets and sums per script, end-to-end buckets and sum, answers by status.
    assert.equal(prom.queries.length, 10, prom.queries.map((q) => q.query).join('\n'));
    assert.ok(!prom.queries.some((q) => q.query.startsWith('sum by (le, stage) (')), 'no per-stage bucket query');
    // The per-stage figures' PromQL is still listed: it gives the same figures in Prometheus.
    assert.ok(c.prometheus!.queries.includes(Q.stageBucketsIncrease('3600s')));
    assert.ok(c.prometheus!.queries.includes(Q.stageBucketsIncreaseByScript('3600s')));
    for (const stage of c.stages) {
      // 8 + 5 checks per stage; mean (1.2 + 2) s / 13; P50 = rank 6.5 of {≤0.1: 7, ≤0.5: 12, +Inf: 13}.
      assert.deepEqual([stage.count_a, stage.count_b], [13, 13], stage.stage);
      assert.ok(Math.abs(stage.mean.a_ms! - 3200 / 13) < 1e-9, `${stage.stage} mean ${stage.mean.a_ms}`);
      assert.ok(Math.abs(stage.quantiles[0]!.a.value_ms! - 0.1 * (6.5 / 7) * 1000) < 1e-9, `${stage.stage} P50`);
    }
    const slices = new Map(c.slices!.slices.map((s) => [s.slice, s]));
    assert.deepEqual([...slices.keys()], ['english', 'cjk']);
    assert.equal(slices.get('english')!.stages[0]!.count_a, 8);
    assert.equal(slices.get('cjk')!.stages[0]!.count_a, 5);
  });
});
