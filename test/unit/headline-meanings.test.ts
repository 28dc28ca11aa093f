import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { IN_APP_ALERT_RULES } from '../../main/telemetry/alert-evaluator.ts';
import { SEED_ALERT_THRESHOLDS, STAGE_NAMES, type StatsDocument } from '../../preload/wire-types.ts';
import { errorRateThreshold, headlineFigures } from '../../renderer/dashboard/headline-meanings.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

function statsDoc(over: Partial<StatsDocument> = {}, totals: Partial<StatsDocument['totals']> = {}): StatsDocument {
  const stages = {} as StatsDocument['stages'];
  for (const s of STAGE_NAMES) stages[s] = { p50_ms: 1, p90_ms: 2, mean_ms: 1 };
  return {
    window_s: 60,
    generated_at: '2024-01-01T00:01:00.000Z',
    qps: 2,
    p50_ms: 10,
    p90_ms: 20,
    p99_ms: 30,
    mean_ms: 12,
    error_rate: 0,
    client_error_rate: 0,
    totals: {
      requests: 120,
      YES: 120,
      NO: 0,
      MAYBE: 0,
      ERROR: 0,
      client_errors: 0,
      server_errors: 0,
      by_status: { '200': 120 },
      ...totals,
    },
    mean_batch_size: 2.5,
    series: [],
    stages,
    queue_depth: 0,
    queue_depth_series: [],
    alerts: [],
    process: { uptime_s: 1, rss_bytes: 1, heap_used_bytes: 1 },
    ...over,
  };
}

function figure(doc: StatsDocument, testId: string) {
  const found = headlineFigures(doc).find((f) => f.testId === testId);
  assert.ok(found, testId);
  return found;
}

describe('headline figures say what they mean', () => {
  it('states the population and the window of every figure', () => {
    const doc = statsDoc();
    assert.equal(figure(doc, 'p90').caption, 'P90 of successful checks over the last 60 s');
    assert.match(figure(statsDoc({ window_s: 300 }), 'p50').caption, /over the last 5 min$/);
    assert.match(
      figure(doc, 'mean-batch').caption,
      /mean size of the batches the model ran over the last 60 s \(ofa_ve_batch_size sum \/ count\)/,
    );
    assert.equal(figure(doc, 'mean-batch').value, '2.50');
    assert.match(figure(doc, 'mean-latency').caption, /stage breakdown divides it/);
    for (const f of headlineFigures(doc)) assert.ok(f.caption.length > 10, `${f.testId} has a caption`);
  });

  it('a service younger than the window: the QPS says it is over the time since the service started', () => {
    const young = statsDoc({ window_s: 900, covered_s: 160, qps: 1.6 });
    assert.equal(
      figure(young, 'qps').caption,
      'checks per second, answered or failed, over the 2 min 40 s since the service started (of the last 15 min)',
    );
    assert.equal(figure(young, 'qps').value, '1.60');
    assert.match(figure(statsDoc({ window_s: 900, covered_s: 900 }), 'qps').caption, /over the last 15 min$/);
    assert.match(figure(statsDoc({ window_s: 900 }), 'qps').caption, /over the last 15 min$/, 'an older service, without covered_s');
  });

  it('shows client mistakes apart from server errors: 100 % 4xx is 0 % server errors, with no warning tone', () => {
    const doc = statsDoc({ error_rate: 0, client_error_rate: 1 }, { YES: 0, ERROR: 120, client_errors: 120, by_status: { '400': 120 } });
    const server = figure(doc, 'error-rate');
    assert.equal(server.label, 'Server errors (5xx)');
    assert.equal(server.value, '0.00%');
    assert.equal(server.tone, undefined);
    assert.match(server.caption, /alert counts these/);
    const client = figure(doc, 'client-error-rate');
    assert.equal(client.label, 'Client errors (4xx)');
    assert.equal(client.value, '100.00%');
    assert.equal(client.tone, undefined);
    assert.match(client.caption, /never alerts/);
  });

  it('colours the server error rate bad from the alert threshold on, and warns below it', () => {
    const alert = {
      name: 'OfaVeHighErrorRate' as const,
      severity: 'critical' as const,
      state: 'inactive' as const,
      summary: '',
      value: 0,
      threshold: 0.1,
      active_since: null,
    };
    assert.equal(figure(statsDoc({ error_rate: 0.06, alerts: [alert] }), 'error-rate').tone, 'warn');
    assert.equal(figure(statsDoc({ error_rate: 0.1, alerts: [alert] }), 'error-rate').tone, 'bad');
    assert.equal(figure(statsDoc({ error_rate: 0.05 }), 'error-rate').tone, 'bad');
  });

  it("without alerts in the document, falls back to the seed rule's 3 %, the threshold the in-app and deploy rules use", () => {
    assert.equal(errorRateThreshold(statsDoc({ alerts: [] })), 0.03);
    assert.equal(figure(statsDoc({ error_rate: 0.03, alerts: [] }), 'error-rate').tone, 'bad');
    assert.equal(figure(statsDoc({ error_rate: 0.04 }), 'error-rate').tone, 'bad');
    assert.equal(figure(statsDoc({ error_rate: 0.029 }), 'error-rate').tone, 'warn');
    // one threshold everywhere: the shared constant, the app's own rule and Prometheus' rule
    const inApp = IN_APP_ALERT_RULES.find((r) => r.name === 'OfaVeHighErrorRate');
    assert.equal(inApp?.threshold, SEED_ALERT_THRESHOLDS.OfaVeHighErrorRate);
    const rules = readFileSync(path.join(REPO_ROOT, 'deploy', 'rules', 'ofa-ve-alerts.rules.yml'), 'utf8');
    const deployed = /- alert: OfaVeHighErrorRate\n[\s\S]*?\n\s+> ([\d.]+)\n/.exec(rules)?.[1];
    assert.equal(Number(deployed), SEED_ALERT_THRESHOLDS.OfaVeHighErrorRate);
  });

  it('prints no rate without requests', () => {
    const idle = statsDoc({ qps: 0, p50_ms: null, mean_ms: null }, { requests: 0, YES: 0 });
    assert.equal(figure(idle, 'error-rate').value, '—');
    assert.equal(figure(idle, 'client-error-rate').value, '—');
    assert.equal(figure(idle, 'p50').value, '—');
  });
});
