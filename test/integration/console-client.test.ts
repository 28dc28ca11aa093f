import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { CheckResult, Outcome, StatsDocument } from '../../preload/wire-types.ts';
import type { BatchProgress } from '../../renderer/api/console-client.ts';
import { HttpConsoleClient } from '../../renderer/api/http-client.ts';
import { CANCELLED_BATCH_SIZE, runCancelledBatch } from '../support/cancelled-batch.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

/** GET with the path exactly as written (fetch would normalise the dots away). */
function rawGet(url: string, rawPath: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function png(seed: number): Promise<Blob> {
  const bytes = await sharp({
    create: { width: 200 + seed * 10, height: 160, channels: 3, background: { r: (seed * 70) % 255, g: 120, b: 90 } },
  })
    .png()
    .toBuffer();
  return new Blob([new Uint8Array(bytes)], { type: 'image/png' });
}

describe('browser-mode client (HttpConsoleClient) against the real service', () => {
  let h: Harness;
  let client: HttpConsoleClient;
  let work: string;
  let sent = 0;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'ofa-ve-ui-'));
    const ui = path.join(work, 'ui');
    await mkdir(path.join(ui, 'assets'), { recursive: true });
    await writeFile(path.join(ui, 'index.html'), '<!doctype html><title>OFA-VE Console</title>');
    await writeFile(path.join(ui, 'assets', 'app-1234.js'), 'console.log(1)');
    await writeFile(path.join(work, 'secret.txt'), 'SECRET');
    await symlink(path.join(work, 'secret.txt'), path.join(ui, 'assets', 'link.js'));
    h = await startHarness({ uiDir: ui, batching: { maxBatchSize: 4 } });
    client = new HttpConsoleClient(h.url);
  });
  after(async () => {
    await h.close();
    await rm(work, { recursive: true, force: true });
  });

  it('serves the UI with its security headers, and nothing outside the UI folder', async () => {
    const page = await rawGet(h.url, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /OFA-VE Console/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    const asset = await rawGet(h.url, '/assets/app-1234.js');
    assert.equal(asset.status, 200);
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    for (const attempt of [
      '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%5c%2e%2e%5csecret.txt',
      '/assets/link.js',
      '/assets/%00.js',
      '/assets/%E0%A4%A',
      '/assets/',
    ]) {
      const res = await rawGet(h.url, attempt);
      assert.notEqual(res.status, 200, attempt);
      assert.doesNotMatch(res.body, /SECRET/, attempt);
    }
  });

  it("refuses DNS-rebound and cross-site requests (another web page in the user's browser)", async () => {
    const { hostname, port } = new URL(h.url);
    const rebound = await new Promise<number>((resolve, reject) => {
      http
        .get({ hostname, port, path: '/api/v1/stats', headers: { host: `attacker.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(rebound, 403);
    const form = new FormData();
    form.append('image', await png(1), 'x.png');
    form.append('text', 'x');
    const crossSite = await fetch(`${h.url}/api/v1/check`, {
      method: 'POST',
      body: form,
      headers: { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' },
    });
    sent += 1;
    assert.equal(crossSite.status, 403);
    assert.equal(((await crossSite.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
    const { series } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
    assert.equal(series.get('status_code="403",result_type="ERROR"'), 1, 'a refused check is still counted');
  });

  it('reads the model document and the endpoint', async () => {
    const model = await client.modelInfo();
    assert.equal(model.ready, true);
    assert.equal(model.model?.demo, true);
    assert.equal(model.model_dir, undefined, 'the HTTP API never shows server paths');
    const endpoint = await client.endpoint();
    assert.equal(endpoint.metrics_url, `${h.url}/metrics`);
    assert.match(endpoint.version, /^\d+\.\d+\.\d+/);
  });

  it('checks a batch with a corrupt file in it: every item answered, progress to the end', async () => {
    const items = [
      { name: 'a.png', image: await png(1), text: 'a green field' },
      { name: 'broken.png', image: new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])]), text: 'anything' },
      { name: 'b.png', image: await png(2), text: 'two dogs', premise: 'a park' },
      { name: 'c.png', image: await png(3), text: '' },
    ];
    const outcomes = new Map<number, Outcome<CheckResult>>();
    const progress: BatchProgress[] = [];
    await client.checkBatch(
      items,
      { onResult: (i, o) => outcomes.set(i, o), onProgress: (p) => progress.push(p) },
      new AbortController().signal,
    );
    sent += items.length;
    assert.equal(outcomes.size, 4);
    const code = (o: Outcome<CheckResult> | undefined) => (o && !o.ok ? o.error.code : undefined);
    const label = (o: Outcome<CheckResult> | undefined) => (o?.ok ? o.value.label : undefined);
    assert.ok(['YES', 'NO', 'MAYBE'].includes(label(outcomes.get(0)) ?? ''));
    assert.equal(code(outcomes.get(1)), 'INVALID_IMAGE');
    assert.ok(['YES', 'NO', 'MAYBE'].includes(label(outcomes.get(2)) ?? ''));
    assert.equal(code(outcomes.get(3)), 'EMPTY_TEXT');
    const last = progress.at(-1)!;
    assert.equal(last.done, 4);
    assert.equal(last.failed, 2);
    assert.equal(last.eta_s, 0);
  });

  it('cancels a batch: items not started are not sent', async () => {
    const results = await runCancelledBatch(client, await png(4));
    assert.ok(results >= 2 && results < CANCELLED_BATCH_SIZE, `stopped after ${results}`);
    // Let any aborted requests finish on the server before counting.
    await new Promise((r) => setTimeout(r, 500));
    const { total } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
    sent = total; // aborted requests may or may not have reached the service; the counts stay exact below
    assert.ok(total < 4 + CANCELLED_BATCH_SIZE);
  });

  it('streams stats documents with queue depth, alerts and process figures', async () => {
    const docs: StatsDocument[] = [];
    await new Promise<void>((resolve, reject) => {
      const stop = client.subscribeStats(
        60,
        (doc) => {
          docs.push(doc);
          if (docs.length === 2) {
            stop();
            resolve();
          }
        },
        (err) => reject(new Error(err.message)),
      );
    });
    const doc = docs[1]!;
    assert.equal(doc.window_s, 60);
    assert.equal(doc.series.length, 60);
    assert.equal(doc.queue_depth_series.length, 60);
    assert.deepEqual(doc.alerts.map((a) => a.name).sort(), ['OfaVeHighErrorRate', 'OfaVeHighLatencyP95']);
    assert.ok(doc.totals.requests >= 4);
    assert.ok(doc.process.rss_bytes > 0 && doc.process.uptime_s > 0);
    const slow = await client.slowest();
    // Failed checks (an aborted one has no inference stage) are listed too: take the slowest answer.
    const answered = slow.find((r) => r.status_code === 200);
    assert.ok(answered && answered.stages.inference! > 0);
  });

  it('loads another model at run time; a bad folder keeps the current one serving', async () => {
    await assert.rejects(
      h.runtime.loadModel(path.join(work, 'no-such-model')),
      (err: Error & { code?: string }) => err.code === 'MODEL_INVALID',
    );
    assert.equal((await client.modelInfo()).ready, true, 'still serving the demo model');
    const info = await h.runtime.loadModel(DEMO_MODEL_DIR);
    assert.equal(info.demo, true);
    const outcome = await client.check({ name: 'after.png', image: await png(5), text: 'after the reload' });
    sent += 1;
    assert.equal(outcome.ok, true);
    const { total } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
    assert.equal(total, sent, 'every check counted once');
  });
});

describe('a service started with a missing model folder', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-nomodel-'));
    h = await startHarness({ modelDir: path.join(dir, 'missing') });
  });
  after(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stays up, says why it is not ready, and recovers when a good model is loaded', async () => {
    const client = new HttpConsoleClient(h.url);
    const before = await client.modelInfo();
    assert.equal(before.ready, false);
    assert.match(before.error ?? '', /model\.json|not found|no such/i);
    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 503);
    const notReady = await client.check({ name: 'a.png', image: await png(1), text: 'x' });
    assert.equal(notReady.ok ? '' : notReady.error.code, 'NOT_READY');
    const ui = await fetch(`${h.url}/`);
    assert.equal(ui.status, 404, 'no UI folder given to this server');
    await h.runtime.loadModel(DEMO_MODEL_DIR);
    assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
    assert.equal((await client.check({ name: 'a.png', image: await png(1), text: 'x' })).ok, true);
  });
});
