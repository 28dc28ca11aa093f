/**
 * The fleet PromQL the service sends is deploy/rules' own: at the rules' 1m window each query is the
 * recorded expression (whitespace aside), so the dashboard's Fleet panel and Grafana agree.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as Q from '../../../main/telemetry/prometheus-queries.ts';
import { REPO_ROOT } from '../../support/shared-reference.ts';

const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

function recorded(file: string): Map<string, string> {
  const doc = yaml.load(readFileSync(path.join(REPO_ROOT, 'deploy', 'rules', file), 'utf8')) as {
    groups: Array<{ rules: Array<{ record?: string; expr: string }> }>;
  };
  return new Map(doc.groups.flatMap((g) => g.rules.filter((r) => r.record).map((r) => [r.record!, r.expr])));
}

/** One space between tokens, none inside parentheses. */
const normal = (expr: string) => expr.replace(/\s+/g, ' ').replace(/\(\s/g, '(').replace(/\s\)/g, ')').trim();

describe('the fleet queries are the fleet recording rules with the window as a parameter', () => {
  const fleet = recorded('ofa-ve-fleet.rules.yml');
  const slo = recorded('ofa-ve-recording.rules.yml');

  it('per replica QPS, P90 and error rate at 1m', () => {
    assert.equal(normal(Q.replicaQps('1m')), normal(fleet.get('instance:ofa_ve_requests:rate1m')!));
    assert.equal(normal(Q.replicaP90('1m')), normal(fleet.get('instance:ofa_ve_request_latency_seconds:p90_rate1m')!));
    assert.equal(normal(Q.replicaErrorRate('1m')), normal(fleet.get('instance:ofa_ve_server_errors:ratio_rate1m')!));
  });

  it('the fleet error rate is the availability SLO ratio over every job', () => {
    const rule = normal(slo.get('job:ofa_ve_availability_errors:ratio_rate5m')!);
    const ratio = /^\((.*)\) or 0 \*/.exec(rule)?.[1];
    assert.ok(ratio, rule);
    assert.equal(normal(Q.fleetErrorRate('5m')), ratio.replace(/ by \(job\) /g, ''));
  });

  it('a replica down counts in the QPS as in the quantiles and error rate: no `up` filter on any rate', () => {
    // Its requests in the window are there for histogram_quantile and the 5xx ratio: the QPS must be of the same ones.
    for (const expr of [Q.replicaQps('5m'), Q.fleetQps('1h'), Q.fleetLatencyQuantile(0.9, '5m'), Q.fleetErrorRate('5m')]) {
      assert.doesNotMatch(expr, /\bup\b/, expr);
    }
    assert.equal(Q.replicaQps('5m'), 'sum by (job, instance) (rate(ofa_ve_request_total[5m]))');
  });

  it('the fleet QPS sums the replica QPS, and the quantiles sum the bucket rates by le', () => {
    assert.equal(Q.fleetQps('2m'), `sum(${Q.replicaQps('2m')})`);
    assert.equal(
      Q.fleetLatencyQuantile(0.9, '1m'),
      'histogram_quantile(0.9, sum by (le) (rate(ofa_ve_request_latency_seconds_bucket[1m])))',
    );
    assert.equal(Q.seconds(89.6), '90s');
    assert.equal(Q.seconds(0.2), '1s');
  });
});
