/**
 * What the Prometheus client makes of a Prometheus that is not there, too slow, or not Prometheus:
 * always PROMETHEUS_UNAVAILABLE with the URL and why (real loopback servers stand in for the bad
 * ones; the working Prometheus is test/integration/prometheus-fleet-api.test.ts's).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CheckError } from '../../../main/errors.ts';
import { gotNoAnswer, parsePromDuration, parsePrometheusUrl, PrometheusClient } from '../../../main/telemetry/prometheus-client.ts';
import { startRecordingPrometheus } from '../../support/recording-prometheus.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function failure(run: () => Promise<unknown>): Promise<CheckError> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof CheckError, String(err));
    return err;
  }
  assert.fail('expected a failure');
}

describe('parsePrometheusUrl', () => {
  it('keeps a path prefix, drops a trailing slash, refuses what is not an http(s) base URL', () => {
    assert.equal(parsePrometheusUrl('http://127.0.0.1:9090/'), 'http://127.0.0.1:9090');
    assert.equal(parsePrometheusUrl('https://metrics.example/prometheus/'), 'https://metrics.example/prometheus');
    for (const bad of ['127.0.0.1:9090', 'ftp://x', 'http://u:p@x', 'http://x/?a=1', '']) {
      assert.throws(() => parsePrometheusUrl(bad), RangeError, bad);
    }
  });
});

describe('PrometheusClient failures', () => {
  let answers: { url: string; close(): Promise<void> };
  let slow: { url: string; close(): Promise<void> };
  before(async () => {
    answers = await serve((req, res) => {
      if (req.url === '/html/api/v1/query') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      } else if (req.url === '/bad/api/v1/query') {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }));
      } else {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }));
      }
    });
    slow = await serve(() => undefined); // never answers
  });
  after(async () => {
    await answers.close();
    await slow.close();
  });

  it('nothing listening: cannot reach it', async () => {
    const closed = await serve(() => undefined);
    await closed.close();
    const err = await failure(() => new PrometheusClient(closed.url).query('up'));
    assert.equal(err.code, 'PROMETHEUS_UNAVAILABLE');
    assert.equal(err.status, 502);
    assert.match(err.message, /cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.ok(gotNoAnswer(err), 'no answer at all');
  });

  it('no answer in time', async () => {
    const err = await failure(() => new PrometheusClient(slow.url, 300).query('up'));
    assert.equal(err.code, 'PROMETHEUS_UNAVAILABLE');
    assert.match(err.message, /no answer within 0\.3 s/);
  });

  it("an answer that is not Prometheus' JSON, a refused query, the wrong result type", async () => {
    const html = await failure(() => new PrometheusClient(`${answers.url}/html`).query('up'));
    assert.match(html.message, /without its JSON/);
    const refused = await failure(() => new PrometheusClient(`${answers.url}/bad`).query('up('));
    assert.match(refused.message, /refused the query \(bad_data: parse error\)/);
    const wrong = await failure(() => new PrometheusClient(answers.url).query('up'));
    assert.match(wrong.message, /expected a vector/);
    for (const err of [html, refused, wrong]) assert.equal(err.code, 'PROMETHEUS_UNAVAILABLE');
    // Prometheus answered: each was refused, not unreachable (a caller may go on without an optional figure).
    for (const err of [html, refused, wrong]) assert.ok(!gotNoAnswer(err), err.message);
  });
});

describe('parsePromDuration', () => {
  it('reads Prometheus durations in seconds, null for anything else', () => {
    assert.equal(parsePromDuration('15s'), 15);
    assert.equal(parsePromDuration('1m30s'), 90);
    assert.equal(parsePromDuration('500ms'), 0.5);
    assert.equal(parsePromDuration('2h'), 7200);
    for (const bad of ['', '15', 's', '1.5s', '0s', 15, undefined]) assert.equal(parsePromDuration(bad), null, String(bad));
  });
});

describe('PrometheusClient.activeTargets', () => {
  it("reads each active target's labels and scrape interval (the older __scrape_interval__ label too), with a GET", async () => {
    const seen: string[] = [];
    const targets = await serve((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const activeTargets = [
        { labels: { job: 'ofa-ve', instance: 'a:1' }, scrapeInterval: '15s' },
        { labels: { job: 'node', instance: 'b:2' }, discoveredLabels: { __scrape_interval__: '1m' } },
        { labels: { job: 'old', instance: 'c:3' } },
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { activeTargets } }));
    });
    try {
      assert.deepEqual(await new PrometheusClient(targets.url).activeTargets(), [
        { labels: { job: 'ofa-ve', instance: 'a:1' }, scrapeIntervalS: 15 },
        { labels: { job: 'node', instance: 'b:2' }, scrapeIntervalS: 60 },
        { labels: { job: 'old', instance: 'c:3' }, scrapeIntervalS: null },
      ]);
      assert.deepEqual(seen, ['GET /api/v1/targets?state=active']);
    } finally {
      await targets.close();
    }
  });
});

describe('PrometheusClient.cancelledBy', () => {
  it('a hang-up cancels the queries outstanding (their requests close) and fails them CLIENT_CLOSED_REQUEST', async () => {
    const hung = await startRecordingPrometheus(() => 'hang');
    try {
      const hangUp = new AbortController();
      // A timeout far beyond the test's: only the hang-up can close these requests.
      const client = new PrometheusClient(hung.url, 600_000).cancelledBy(hangUp.signal);
      const running = Promise.allSettled([client.query('up'), client.queryRange('up', 0, 60, 15)]);
      await hung.until((qs) => qs.length === 2);
      hangUp.abort();
      await hung.until((qs) => qs.every((q) => !q.open));
      for (const outcome of await running) {
        assert.equal(outcome.status, 'rejected');
        assert.equal((outcome.reason as CheckError).code, 'CLIENT_CLOSED_REQUEST');
      }
      // Once hung up, nothing more is sent.
      await assert.rejects(client.query('up'), { code: 'CLIENT_CLOSED_REQUEST' });
      assert.equal(hung.queries.length, 2);
    } finally {
      await hung.close();
    }
  });
});
