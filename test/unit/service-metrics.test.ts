import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ServiceMetrics } from '../../main/telemetry/service-metrics.ts';

describe('ServiceMetrics', () => {
  const metrics = new ServiceMetrics({ appVersion: '9.9.9' });
  after(() => metrics.close());

  it('exposes each event-loop series once, sampled off the scrape path', async () => {
    const { body } = await metrics.scrape(false);
    for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p50_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_stddev_seconds']) {
      const lines = body.split('\n').filter((l) => l.startsWith(`${name} `));
      assert.equal(lines.length, 1, `${name} appears once`);
      assert.ok(Number(lines[0]!.split(' ')[1]) >= 0, `${name} is a number`);
      assert.equal(body.split('\n').filter((l) => l === `# TYPE ${name} gauge`).length, 1);
    }
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
});
