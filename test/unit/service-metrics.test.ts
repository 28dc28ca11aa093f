import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { CHECK_WARNING_CODES, STAGE_NAMES } from '../../preload/wire-types.ts';
import { REQUEST_LATENCY_BUCKETS, STAGE_LATENCY_BUCKETS } from '../../main/telemetry/metric-buckets.ts';
import { STAGE_SCRIPT_LABELS, ServiceMetrics } from '../../main/telemetry/service-metrics.ts';

/** The value of one series in a Prometheus text exposition (undefined when absent). */
function valueOf(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ServiceMetrics', () => {
  const metrics = new ServiceMetrics({ appVersion: '9.9.9' });
  after(() => metrics.close());

  it('exposes each event-loop series once, sampled off the scrape path', async () => {
    const { body } = await metrics.scrape(false);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p50_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_eventloop_lag_stddev_seconds',
    ]) {
      const lines = body.split('\n').filter((l) => l.startsWith(`${name} `));
      assert.equal(lines.length, 1, `${name} appears once`);
      assert.ok(Number(lines[0]!.split(' ')[1]) >= 0, `${name} is a number`);
      assert.equal(body.split('\n').filter((l) => l === `# TYPE ${name} gauge`).length, 1);
    }
  });

  it('passes `promtool check metrics` (the lint Prometheus ships), default Node.js metrics included', async (t) => {
    const { body } = await metrics.scrape(false);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    if ((lint.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      t.skip('promtool not installed (apt-get install prometheus)');
      return;
    }
    assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
    assert.match(body, /^# TYPE nodejs_active_handles gauge$/m, 'the per-type gauges stay');
  });

  it('keeps counter names after an OpenMetrics scrape', async () => {
    metrics.recordRequest({ id: 'r1', statusCode: 200, resultType: 'YES', latencyMs: 12, stages: { inference: 5 } });
    const om = await metrics.scrape(true);
    assert.match(om.body, /ofa_ve_request_latency_seconds_bucket\{le="0\.025"\} 1 # \{request_id="r1"\}/);
    assert.match(om.body, /# EOF\n$/);
    const plain = await metrics.scrape(false);
    assert.match(plain.body, /^ofa_ve_request_total\{status_code="200",result_type="YES"\} 1$/m);
    assert.match(plain.body, /^ofa_ve_build_info\{version="9\.9\.9"\} 1$/m);
  });

  it('exposes the warning, worker-restart and model-ready series from the start, at 0', async () => {
    const fresh = new ServiceMetrics({ appVersion: '1.0.0', defaultMetrics: false });
    const { body } = await fresh.scrape(false);
    for (const code of CHECK_WARNING_CODES) assert.equal(valueOf(body, `ofa_ve_check_warnings_total{code="${code}"}`), 0, code);
    assert.match(body, /^# HELP ofa_ve_check_warnings_total Checks answered with a warning/m);
    assert.equal(valueOf(body, 'ofa_ve_worker_restarts_total'), 0);
    assert.match(body, /^# TYPE ofa_ve_worker_restarts_total counter$/m);
    assert.equal(valueOf(body, 'ofa_ve_model_ready'), 0);
    assert.match(body, /^# TYPE ofa_ve_model_ready gauge$/m);
    fresh.workerRestarts.inc();
    fresh.modelReady.set(1);
    const after = (await fresh.scrape(false)).body;
    assert.equal(valueOf(after, 'ofa_ve_worker_restarts_total'), 1);
    assert.equal(valueOf(after, 'ofa_ve_model_ready'), 1);
  });

  it('counts each warning code of an answered check once; a failed check counts none', async () => {
    const fresh = new ServiceMetrics({ appVersion: '1.0.0', defaultMetrics: false });
    const truncated = { code: 'CAPTION_TRUNCATED', message: 'cut at 30 words' };
    const foreign = { code: 'NOT_ENGLISH', message: 'not English' };
    fresh.recordRequest({ id: 'a', statusCode: 200, resultType: 'YES', latencyMs: 10, warnings: [truncated, foreign, truncated] });
    fresh.recordRequest({ id: 'b', statusCode: 200, resultType: 'NO', latencyMs: 10, warnings: [truncated] });
    fresh.recordRequest({ id: 'c', statusCode: 200, resultType: 'NO', latencyMs: 10, warnings: [] });
    fresh.recordRequest({ id: 'd', statusCode: 200, resultType: 'MAYBE', latencyMs: 10 });
    fresh.recordRequest({ id: 'e', statusCode: 400, resultType: 'ERROR', latencyMs: 1, warnings: [truncated] });
    const { body } = await fresh.scrape(false);
    assert.equal(valueOf(body, 'ofa_ve_check_warnings_total{code="CAPTION_TRUNCATED"}'), 2);
    assert.equal(valueOf(body, 'ofa_ve_check_warnings_total{code="NOT_ENGLISH"}'), 1);
    assert.equal(valueOf(body, 'ofa_ve_request_total{status_code="200",result_type="NO"}'), 2);
  });

  it('stage histograms have every request-latency boundary (histogram_quantile resolves stages as finely)', async () => {
    for (const le of REQUEST_LATENCY_BUCKETS) assert.ok(STAGE_LATENCY_BUCKETS.includes(le), `stage buckets lack ${le}`);
    assert.deepEqual(
      [...STAGE_LATENCY_BUCKETS].sort((a, b) => a - b),
      STAGE_LATENCY_BUCKETS,
      'ascending',
    );
    const fresh = new ServiceMetrics({ appVersion: '1.0.0', defaultMetrics: false });
    fresh.recordRequest({
      id: 'a',
      statusCode: 200,
      resultType: 'YES',
      latencyMs: 40,
      stages: { inference: 30, tokenize: 0.2 },
      script: 'english',
    });
    const { body } = await fresh.scrape(false);
    for (const le of REQUEST_LATENCY_BUCKETS) {
      const series = `ofa_ve_stage_latency_seconds_bucket{le="${le}",stage="inference",script="english"}`;
      assert.equal(valueOf(body, series), le >= 0.03 ? 1 : 0, series);
    }
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_bucket{le="0.0005",stage="tokenize",script="english"}'), 1);
  });

  it('labels stages with the caption script: every stage × script series from the start, the count README states', async () => {
    assert.deepEqual(STAGE_SCRIPT_LABELS, ['english', 'cjk', 'other'], 'the caption_script slices without unknown');
    const fresh = new ServiceMetrics({ appVersion: '1.0.0', defaultMetrics: false });
    const stageLines = (body: string) => body.split('\n').filter((l) => l.startsWith('ofa_ve_stage_latency_seconds_'));
    const before = stageLines((await fresh.scrape(false)).body);
    // Per stage and script: one bucket per boundary, +Inf, _sum and _count.
    const perCombination = STAGE_LATENCY_BUCKETS.length + 3;
    assert.equal(perCombination, 23);
    assert.equal(before.length, STAGE_NAMES.length * STAGE_SCRIPT_LABELS.length * perCombination);
    assert.equal(before.length, 345, 'README states 345 series (230 more than without the script label)');
    for (const stage of STAGE_NAMES) {
      for (const script of STAGE_SCRIPT_LABELS) {
        assert.equal(valueOf(before.join('\n'), `ofa_ve_stage_latency_seconds_count{stage="${stage}",script="${script}"}`), 0);
      }
    }

    fresh.recordRequest({ id: 'c', statusCode: 200, resultType: 'YES', latencyMs: 40, stages: { tokenize: 4 }, script: 'cjk' });
    fresh.recordRequest({ id: 'e', statusCode: 200, resultType: 'NO', latencyMs: 40, stages: { tokenize: 0.3 }, script: 'english' });
    fresh.recordRequest({ id: 'f', statusCode: 500, resultType: 'ERROR', latencyMs: 40, stages: { tokenize: 9 }, script: 'cjk' });
    fresh.recordRequest({ id: 'u', statusCode: 200, resultType: 'NO', latencyMs: 40, stages: { tokenize: 1 } });
    const body = (await fresh.scrape(false)).body;
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_count{stage="tokenize",script="cjk"}'), 1, 'the failed check is not timed');
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_bucket{le="0.0025",stage="tokenize",script="cjk"}'), 0);
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_bucket{le="0.005",stage="tokenize",script="cjk"}'), 1);
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_bucket{le="0.0005",stage="tokenize",script="english"}'), 1);
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_count{stage="tokenize",script="other"}'), 0);
    // A caller that reports no script lands in the slices' unknown value (the service always reports one).
    assert.equal(valueOf(body, 'ofa_ve_stage_latency_seconds_count{stage="tokenize",script="unknown"}'), 1);
  });
});
