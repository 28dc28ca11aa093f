/**
 * `ofa-ve bench --url A --url B --token T` against two real instances (runtime and HTTP server, the
 * demo model, both requiring the token): requests alternate between them, the JSON report has each
 * replica's figures with the count its own ofa_ve_request_total saw, and the text names each
 * replica per step. A replica that cannot be loaded (down, wrong token) stops the bench before any
 * load, saying which and why. (The fleet test does the same against three `ofa-ve serve` processes
 * when Prometheus is installed; this one runs everywhere.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BenchReport } from '../../main/cli/bench-command.ts';
import { DEFAULT_BATCHING } from '../../main/service/batching-options.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';
import { cli } from '../support/cli-in-process.ts';

const TOKEN = 'bench-replicas-token';

async function checksCounted(harness: Harness): Promise<number> {
  const res = await fetch(`${harness.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return requestTotals(await res.text()).total;
}

describe('ofa-ve bench with --url given once per replica', { timeout: 120_000 }, () => {
  let dir: string;
  let replicas: Harness[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-bench-replicas-'));
    replicas = await Promise.all([startHarness({ token: TOKEN }), startHarness({ token: TOKEN })]);
  });

  after(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('alternates the requests and reports each replica with what it counted', async () => {
    const [a, b] = replicas as [Harness, Harness];
    const before = await Promise.all(replicas.map(checksCounted));
    const file = path.join(dir, 'bench.json');
    // A trailing slash on one: the report names it without.
    const urls = ['--url', `${a.url}/`, '--url', b.url];
    const load = ['--concurrency', '1,3', '--requests', '12', '--warmup', '0'];
    const { code, out, err } = await cli(['bench', ...urls, '--token', TOKEN, ...load, '--json', file]);
    assert.equal(code, 0, err);
    const served = (await Promise.all(replicas.map(checksCounted))).map((n, i) => n - before[i]!);
    assert.deepEqual(served, [12, 12], 'two steps of 12, half to each');

    const report = JSON.parse(await readFile(file, 'utf8')) as BenchReport;
    assert.equal(report.mode, 'remote');
    assert.equal(report.steps.length, 2);
    for (const step of report.steps) {
      assert.equal(step.max_batch_size, DEFAULT_BATCHING.maxBatchSize, "the replicas' max batch size, read from /api/v1/model");
      const counts = step.replicas?.map((r) => [r.url, r.requests, r.errors]);
      assert.deepEqual(
        counts,
        [
          [a.url, 6, 0],
          [b.url, 6, 0],
        ],
        `concurrency ${step.concurrency}`,
      );
      assert.equal(
        step.replicas!.reduce((n, r) => n + r.requests, 0),
        step.requests,
      );
      for (const r of step.replicas!) {
        assert.ok(r.qps > 0 && r.p50_ms !== null && r.p95_ms !== null && r.p50_ms <= r.p95_ms, JSON.stringify(r));
        assert.deepEqual(Object.keys(r).sort(), ['answers_qps', 'errors', 'p50_ms', 'p95_ms', 'qps', 'requests', 'url']);
        // No errors: every answer was a success, so the answers per second (what Prometheus counts) equal the ok per second.
        assert.equal(r.answers_qps, r.qps);
      }
    }

    // The text: a line per replica per step, named host:port; the two rates named for what they count.
    assert.match(out, /\| conc \| replica \| requests \| ok\/s \| answers\/s \| P50 ms \| P95 ms \| errors \|/);
    for (const step of report.steps) {
      for (const r of step.replicas!) {
        const line = out.split('\n').find((l) => l.startsWith(`| ${step.concurrency} | ${new URL(r.url).host} | ${r.requests} |`));
        assert.ok(line, `a line for ${r.url} at concurrency ${step.concurrency} in:\n${out}`);
      }
    }
  });

  it('stops before any load when a replica is down or refuses the token, naming it', async () => {
    const [a, b] = replicas as [Harness, Harness];
    const before = await Promise.all(replicas.map(checksCounted));
    const load = ['--concurrency', '1', '--requests', '4', '--warmup', '0'];
    const down = await cli(['bench', '--url', a.url, '--url', 'http://127.0.0.1:1', '--token', TOKEN, ...load]);
    assert.equal(down.code, 1);
    assert.match(down.err, /http:\/\/127\.0\.0\.1:1: not reachable/);
    const wrongToken = await cli(['bench', '--url', a.url, '--url', b.url, '--token', 'not-the-token', ...load]);
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.err, new RegExp(`${a.url}: /api/v1/model answered 401 .*--token`));
    assert.deepEqual(await Promise.all(replicas.map(checksCounted)), before, 'no check was sent');
  });

  it('refuses the same --url twice (exit 2, with the usage)', async () => {
    const { code, err } = await cli(['bench', '--url', replicas[0]!.url, '--url', `${replicas[0]!.url}/`]);
    assert.equal(code, 2);
    assert.match(err, /given more than once[\s\S]*usage: ofa-ve bench/);
  });
});
