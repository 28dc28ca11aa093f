import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlertEvaluator } from '../../main/telemetry/alert-evaluator.ts';
import { GaugeHistory } from '../../main/telemetry/gauge-history.ts';
import { LiveStats } from '../../main/telemetry/live-stats.ts';

const T0 = 1_800_000_000_000;

/** A LiveStats and an evaluator on one fake clock, and a way to send traffic second by second. */
function rig() {
  let now = T0;
  const stats = new LiveStats({ now: () => now });
  const alerts = new AlertEvaluator(stats, undefined, () => now);
  const events: string[] = [];
  alerts.on('firing', (a: { name: string }) => events.push(`firing ${a.name}`));
  alerts.on('resolved', (a: { name: string }) => events.push(`resolved ${a.name}`));
  let n = 0;
  /**
   * Runs `seconds` seconds of traffic: `perSecond` requests, `errors` of them failed with `status`
   * (default 500), then `clientErrors` more refused with a 400; successes take `latencyMs`.
   */
  const run = (seconds: number, perSecond: number, errors: number, latencyMs: number, status = 500, clientErrors = 0) => {
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < perSecond; i++) {
        const statusCode = i < errors ? status : i < errors + clientErrors ? 400 : 200;
        stats.record({ id: `r${n++}`, endedAtMs: now, latencyMs, statusCode, resultType: statusCode === 200 ? 'YES' : 'ERROR' });
      }
      alerts.evaluate();
      now += 1000;
    }
  };
  const state = (name: string) => alerts.current().find((a) => a.name === name)!;
  return { run, state, events };
}

describe('in-app alert rules (same as deploy/rules)', () => {
  it('error rate above 3%: pending at once, firing after 3 minutes, resolved when it drops', () => {
    const { run, state, events } = rig();
    run(60, 10, 0, 50);
    assert.equal(state('OfaVeHighErrorRate').state, 'inactive');
    run(1, 10, 10, 50); // 10 errors in 610 requests = 1.6%: still fine
    assert.equal(state('OfaVeHighErrorRate').state, 'inactive');
    run(20, 10, 1, 50); // 10% of requests now fail: 30 errors in 810 requests is 3.7%
    assert.equal(state('OfaVeHighErrorRate').state, 'pending');
    run(175, 10, 1, 50); // pending since the 12th bad second; 180 s later it fires
    assert.equal(state('OfaVeHighErrorRate').state, 'firing');
    assert.deepEqual(events, ['firing OfaVeHighErrorRate']);
    const firing = state('OfaVeHighErrorRate');
    assert.ok(firing.value! > 0.03 && firing.value! < 0.11, String(firing.value));
    assert.equal(firing.severity, 'critical');
    run(400, 10, 0, 50); // clean traffic pushes the errors out of the 5-minute window
    assert.equal(state('OfaVeHighErrorRate').state, 'inactive');
    assert.deepEqual(events, ['firing OfaVeHighErrorRate', 'resolved OfaVeHighErrorRate']);
  });

  it('client mistakes never fire it: 100% 4xx for 10 minutes stays inactive', () => {
    const { run, state, events } = rig();
    run(600, 10, 10, 50, 400);
    const alert = state('OfaVeHighErrorRate');
    assert.equal(alert.state, 'inactive');
    assert.equal(alert.value, 0, 'no server error among 6000 requests');
    run(60, 10, 10, 50, 413);
    run(60, 10, 10, 50, 401);
    run(60, 10, 10, 50, 499);
    assert.equal(state('OfaVeHighErrorRate').state, 'inactive');
    assert.deepEqual(events, []);
    assert.match(alert.summary, /5xx/);
  });

  it('5% 5xx fires once above 3% for 3 minutes, as the deploy rule does', () => {
    for (const status of [500, 503, 504]) {
      const { run, state, events } = rig();
      run(300, 20, 0, 50); // five clean minutes first
      // From now on 5% 5xx: after k such seconds the 5-minute window holds k 5xx in 6000 requests.
      run(180, 20, 1, 50, status);
      assert.equal(state('OfaVeHighErrorRate').state, 'inactive', `${status}: 180 / 6000 is not above 3%`);
      run(1, 20, 1, 50, status);
      assert.equal(state('OfaVeHighErrorRate').state, 'pending', `${status}: 181 / 6000 is`);
      run(179, 20, 1, 50, status);
      assert.equal(state('OfaVeHighErrorRate').state, 'pending', `${status}: 179 s pending`);
      run(1, 20, 1, 50, status);
      const firing = state('OfaVeHighErrorRate');
      assert.equal(firing.state, 'firing', `${status}: 180 s pending`);
      assert.ok(Math.abs(firing.value! - 0.05) < 1e-9, `${status}: value ${firing.value}`);
      assert.deepEqual(events, ['firing OfaVeHighErrorRate']);
    }
  });

  it('4xx are left out of both sides: they neither fire it nor dilute a real outage', () => {
    // 2% 5xx of all traffic, but 60% of it is 4xx: 1 in the 20 checks run per second is 5%, which fires.
    const mixed = rig();
    mixed.run(400, 50, 1, 50, 500, 30);
    assert.equal(mixed.state('OfaVeHighErrorRate').state, 'firing');
    assert.ok(Math.abs(mixed.state('OfaVeHighErrorRate').value! - 0.05) < 1e-9);
    // The same 2% with the rest answered: under the threshold.
    const clean = rig();
    clean.run(400, 50, 1, 50, 500);
    assert.equal(clean.state('OfaVeHighErrorRate').state, 'inactive');
    assert.ok(Math.abs(clean.state('OfaVeHighErrorRate').value! - 0.02) < 1e-9);
  });

  it('a burst that is diluted within 3 minutes goes pending and back without firing', () => {
    const { run, state, events } = rig();
    run(300, 10, 0, 50);
    run(10, 10, 10, 50); // 100 errors in 3100 requests: 3.2%
    assert.equal(state('OfaVeHighErrorRate').state, 'pending');
    run(60, 30, 0, 50); // traffic triples: 100 in ~4300 is 2.3%
    assert.equal(state('OfaVeHighErrorRate').state, 'inactive');
    assert.deepEqual(events, []);
  });

  it('P95 above 2 s fires after 5 minutes; 1.9 s never does', () => {
    const slow = rig();
    slow.run(299, 5, 0, 2500);
    assert.equal(slow.state('OfaVeHighLatencyP95').state, 'pending');
    slow.run(2, 5, 0, 2500);
    assert.equal(slow.state('OfaVeHighLatencyP95').state, 'firing');
    assert.ok(Math.abs(slow.state('OfaVeHighLatencyP95').value! - 2.5) < 0.03);
    const fine = rig();
    fine.run(400, 5, 0, 1900);
    assert.equal(fine.state('OfaVeHighLatencyP95').state, 'inactive');
  });

  it('without traffic nothing is pending (as Prometheus: no data, no alert)', () => {
    const { run, state } = rig();
    run(10, 0, 0, 0);
    assert.equal(state('OfaVeHighErrorRate').value, null);
    assert.equal(state('OfaVeHighLatencyP95').state, 'inactive');
  });
});

describe('GaugeHistory', () => {
  it('returns one value per second, zero where nothing was sampled, and wraps around', () => {
    const h = new GaugeHistory(5);
    h.sample(100, 3);
    h.sample(100, 1); // the max of a second is kept
    h.sample(102, 7);
    assert.deepEqual(h.series(99, 103), [0, 3, 0, 7, 0]);
    h.sample(105, 9); // same slot as 100
    assert.deepEqual(h.series(100, 105), [0, 0, 7, 0, 0, 9]);
  });
});
