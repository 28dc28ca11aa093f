/**
 * The inference worker replaced after a crash (SIGKILL from outside, as in overload.test.ts), seen
 * from the metrics and from a reviewer's check:
 * - ofa_ve_worker_restarts_total counts the replacement; ofa_ve_model_ready is 0 while it starts
 *   (held there with SIGSTOP, so nothing depends on timing) and 1 once it is ready;
 * - a check sent meanwhile waits in the queue and is answered (no NOT_READY), since a model is
 *   loaded and on its way back; /readyz says 503 meanwhile (no worker can run a check now, so a
 *   load balancer sends new work elsewhere) and /healthz stays 200 (it recovers by itself);
 * - when the replacement cannot load the model, the model is genuinely gone: model_ready stays 0,
 *   /readyz says why and checks get 503 NOT_READY.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { startHarness } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 90, g: 30, b: 160 } } })
  .png()
  .toBuffer();

function check(url: string, text: string): Promise<Response> {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'photo.png');
  body.append('text', text);
  return fetch(`${url}/api/v1/check`, { method: 'POST', body, signal: AbortSignal.timeout(30_000) });
}

async function gauges(url: string): Promise<{ restarts: number; ready: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  return { restarts: value('ofa_ve_worker_restarts_total'), ready: value('ofa_ve_model_ready') };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), what);
}

describe('the inference worker killed and replaced', () => {
  it('counts the restart, model_ready 0 while the new worker starts and 1 after, checks queue meanwhile', { timeout: 60_000 }, async () => {
    const h = await startHarness();
    let replacement: number | undefined;
    try {
      assert.deepEqual(await gauges(h.url), { restarts: 0, ready: 1 });
      assert.equal((await check(h.url, 'before the crash')).status, 200);
      const host = h.runtime.workerHost;
      const oldPid = host.pid!;
      // Hold the replacement before it loads anything, so "restarting" lasts as long as the test needs.
      const restarting = once(host, 'restarting').then(() => {
        replacement = host.pid!;
        process.kill(replacement, 'SIGSTOP');
      });
      process.kill(oldPid, 'SIGKILL');
      await restarting;
      assert.notEqual(replacement, oldPid);

      assert.deepEqual(await gauges(h.url), { restarts: 1, ready: 0 }, 'restarting: counted, and not ready');
      assert.equal(h.runtime.modelDocument().ready, true, 'a model is loaded and coming back: checks are taken');
      // No worker can run a check now: a load balancer should send new work elsewhere meanwhile.
      const notReady = await fetch(`${h.url}/readyz`);
      assert.equal(notReady.status, 503, '/readyz is 503 while no worker is up');
      assert.match(JSON.stringify(await notReady.json()), /restarting/);
      assert.equal((await fetch(`${h.url}/healthz`)).status, 200, 'alive: it recovers by itself');
      const during = check(h.url, 'sent while the worker restarts');
      await waitFor(() => h.runtime.service.queueDepth === 1, 'the check waits in the queue');

      process.kill(replacement!, 'SIGCONT');
      replacement = undefined;
      const res = await during;
      assert.equal(res.status, 200, `the check sent during the restart is answered: ${await res.clone().text()}`);
      assert.deepEqual(await gauges(h.url), { restarts: 1, ready: 1 });
      assert.equal((await fetch(`${h.url}/readyz`)).status, 200, 'ready again');
      assert.equal((await check(h.url, 'after the restart')).status, 200);
    } finally {
      if (replacement !== undefined) process.kill(replacement, 'SIGCONT');
      await h.close();
    }
    assert.equal((await h.runtime.metrics.modelReady.get()).values[0]?.value, 0, 'not ready once shut down');
  });

  it('when the replacement cannot load the model: model_ready 0, /readyz says why, checks 503 NOT_READY', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-restart-'));
    const modelDir = path.join(dir, 'demo');
    await cp(DEMO_MODEL_DIR, modelDir, { recursive: true });
    const h = await startHarness({ modelDir });
    try {
      assert.equal((await check(h.url, 'before')).status, 200);
      const host = h.runtime.workerHost;
      // The model directory breaks while the service runs (a botched redeploy), then the worker dies.
      await writeFile(path.join(modelDir, 'model.json'), '{ not json');
      const failed = once(host, 'restart-failed');
      process.kill(host.pid!, 'SIGKILL');
      await failed;

      assert.deepEqual(await gauges(h.url), { restarts: 1, ready: 0 });
      const ready = await fetch(`${h.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /model\.json/, 'says what is wrong');
      const res = await check(h.url, 'after the failed restart');
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_READY');
      // Not retried (the directory is broken), and no liveness failure: restarting the process
      // would load the same directory.
      assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    } finally {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
