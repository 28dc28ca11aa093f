/**
 * The routes that read Prometheus, served by the real HTTP server and runtime with a Prometheus that
 * never answers: a client that hangs up on GET /api/v1/fleet or /api/v1/compare?source=prometheus
 * leaves no query outstanding at Prometheus (each is cancelled, not left to its 5 s timeout), and
 * that is no Prometheus failure (ofa_ve_prometheus_query_failures_total stays 0).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../main/logging/json-logger.ts';
import { bodyLimitsFor } from '../../../main/server/check-body-parser.ts';
import { OfaVeHttpServer } from '../../../main/server/http-server.ts';
import { findRoute } from '../../../main/server/routes.ts';
import { ServiceRuntime } from '../../../main/service/service-runtime.ts';
import { DEMO_MODEL_DIR } from '../../support/shared-reference.ts';
import { startRecordingPrometheus, type RecordingPrometheus } from '../../support/recording-prometheus.ts';

describe('a client hanging up on a read of Prometheus cancels its queries', () => {
  let prom: RecordingPrometheus;
  let runtime: ServiceRuntime;
  let server: OfaVeHttpServer;
  let url: string;

  before(async () => {
    prom = await startRecordingPrometheus(() => 'hang');
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger, prometheusUrl: prom.url });
    server = new OfaVeHttpServer(runtime, { logger: silentLogger, bodyLimits: bodyLimitsFor(runtime.limits) });
    const address = await server.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await server.close();
    await runtime.close(2000);
    await prom.close();
  });

  const hour = 3_600_000;
  const now = Date.now();
  const compare = new URLSearchParams({
    a_from: String(now - 2 * hour),
    a_to: String(now - hour),
    b_from: String(now - hour),
    b_to: String(now),
    source: 'prometheus',
    attribute: 'caption_script',
  });
  for (const [path, queries] of [
    ['/api/v1/fleet?window=5m', 7],
    // The scrape interval first (the jobs that export the counters, and the targets): the comparison's
    // own queries wait for it, and here it never comes.
    [`/api/v1/compare?${compare}`, 2],
  ] as const) {
    it(`${path.split('?')[0]}: every query closed once the client is gone`, { timeout: 30_000 }, async () => {
      const sentBefore = prom.queries.length;
      const client = new AbortController();
      const request = fetch(`${url}${path}`, { signal: client.signal });
      await prom.until((qs) => qs.length === sentBefore + queries);
      client.abort();
      await assert.rejects(request, { name: 'AbortError' });
      await prom.until((qs) => qs.every((q) => !q.open));
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /^ofa_ve_prometheus_query_failures_total 0$/m, 'a hang-up is not a Prometheus failure');
    });
  }

  it('the route table: the check, fleet and compare routes cancel on hang-up, stats does not', () => {
    assert.deepEqual(
      ['/api/v1/check', '/api/v1/fleet', '/api/v1/compare', '/api/v1/stats'].map((path) => findRoute(path)?.cancelOnHangUp ?? false),
      [true, true, true, false],
    );
  });
});
