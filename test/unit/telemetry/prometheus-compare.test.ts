import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrometheusClient } from '../../../main/telemetry/prometheus-client.ts';
import { comparePrometheusRanges } from '../../../main/telemetry/prometheus-compare.ts';

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
