/**
 * The inference worker's replacement is not one-shot: every way a replacement can fail to come up
 * is retried with backoff, and the service answers checks again once one does.
 * - replacements that die while loading: retried; after failuresBeforeGivingUp in a row /healthz
 *   fails (the service cannot recover by itself) and queued checks are refused NOT_READY; a later
 *   attempt that succeeds brings /healthz, /readyz and checks back;
 * - a replacement that hangs while loading: killed at the model load timeout and retried;
 * - fork itself failing (EMFILE: the real `ofa-ve serve` with its file limit lowered from outside):
 *   reported, retried, and serve never exits;
 * - a storm of 5 worker kills in 10 s under load, against the real `ofa-ve serve`: it answers checks
 *   again after the storm (the time it takes is printed as a diagnostic).
 * Every test counts exactly: the sum of ofa_ve_request_total equals the checks sent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import type { FailedRestart, RestartPolicy } from '../../main/service/inference-worker-host.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { bodyLimitsFor } from '../../main/server/check-body-parser.ts';
import { OfaVeHttpServer } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import { childPids, HAS_PROC } from '../../bench/support/proc-stats.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { requestTotals } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

const photo = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 20, g: 120, b: 60 } } })
  .png()
  .toBuffer();

interface Answer {
  readonly status: number;
  readonly code?: string;
}

async function check(url: string, text: string): Promise<Answer> {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'photo.png');
  body.append('text', text);
  const res = await fetch(`${url}/api/v1/check`, { method: 'POST', body, signal: AbortSignal.timeout(60_000) });
  const json = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: json.error?.code };
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The real runtime and HTTP server, with a restart policy short enough for a test. */
interface Running {
  readonly runtime: ServiceRuntime;
  readonly url: string;
  close(): Promise<void>;
}

async function startRuntime(workerRestart: Partial<RestartPolicy>): Promise<Running> {
  const runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger, workerRestart });
  const server = new OfaVeHttpServer(runtime, { logger: silentLogger, bodyLimits: bodyLimitsFor(runtime.limits) });
  const address = await server.listen(0, '127.0.0.1');
  assert.ok(await runtime.start(), 'the demo model loads');
  return {
    runtime,
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      await server.close();
      await runtime.close(2000);
    },
  };
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('worker replacements that fail to come up', () => {
  it(
    'die while loading: retried with backoff; /healthz fails after 3 in a row, queued checks refused; a later success recovers',
    { timeout: 60_000 },
    async () => {
      const h = await startRuntime({ initialDelayMs: 50, maxDelayMs: 300, failuresBeforeGivingUp: 3 });
      const host = h.runtime.workerHost;
      let killing = true;
      const failed: FailedRestart[] = [];
      host.on('restart-attempt-failed', (f: FailedRestart) => failed.push(f));
      // Each replacement is killed as soon as its process exists, before it can load the model.
      host.on('restarting', () => {
        if (killing && host.pid !== undefined) process.kill(host.pid, 'SIGKILL');
      });
      let sent = 0;
      try {
        assert.equal((await check(h.url, 'before')).status, 200);
        sent += 1;
        const gaveUp = once(host, 'restart-failed');
        process.kill(host.pid!, 'SIGKILL');
        await waitFor(() => host.restarting, 'a restart begins');
        const queued = check(h.url, 'sent while the replacements keep dying');
        sent += 1;
        await gaveUp;

        assert.deepEqual(
          failed.slice(0, 3).map((f) => f.failures),
          [1, 2, 3],
        );
        for (const f of failed) {
          assert.equal(f.error.code, 'INTERNAL');
          // Killed before it read its first message (the load request fails to send: EPIPE), or while loading.
          assert.match(f.error.message, /exited while loading the model \(SIGKILL\)|could not be started: write EPIPE/);
          const base = Math.min(300, 50 * 2 ** (f.failures - 1));
          const inRange = f.retryInMs !== undefined && f.retryInMs >= base * 0.75 && f.retryInMs <= Math.min(300, base * 1.25);
          assert.ok(inRange, `backoff ${f.retryInMs} ms after ${f.failures} failures`);
        }
        assert.deepEqual(await queued, { status: 503, code: 'NOT_READY' }, 'the queued check is refused once it gave up');
        const live = await fetch(`${h.url}/healthz`);
        assert.equal(live.status, 503, '/healthz fails: it cannot recover by itself');
        assert.match(JSON.stringify(await live.json()), /failed to start 3 times in a row/);
        assert.equal(h.runtime.liveness().ok, false);
        assert.equal((await fetch(`${h.url}/readyz`)).status, 503);
        assert.deepEqual(await check(h.url, 'while failing'), { status: 503, code: 'NOT_READY' });
        sent += 1;

        // It keeps retrying (every 300 ms here): once the kills stop, the next attempt succeeds.
        killing = false;
        await once(host, 'restarted');
        assert.deepEqual(h.runtime.liveness(), { ok: true });
        assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
        assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
        assert.equal((await check(h.url, 'after the recovery')).status, 200);
        sent += 1;

        const metrics = await metricsText(h.url);
        assert.equal(requestTotals(metrics).total, sent, 'sum of ofa_ve_request_total = checks sent');
        const failures = metric(metrics, 'ofa_ve_worker_restart_failures_total');
        assert.ok(failures >= 3, `failures counted (${failures})`);
        const restarts = metric(metrics, 'ofa_ve_worker_restarts_total');
        assert.equal(restarts, failures + 1, 'every attempt counted: the failed ones and the one that came up');
        assert.equal(metric(metrics, 'ofa_ve_model_ready'), 1);
        assert.match(metrics, /^ofa_ve_model_info\{/m, 'the model is back in ofa_ve_model_info');
      } finally {
        killing = false;
        await h.close();
      }
    },
  );

  it('hangs while loading: killed at the load timeout and retried; a check sent meanwhile is answered', { timeout: 60_000 }, async () => {
    const LOAD_TIMEOUT_MS = 6000;
    const h = await startRuntime({ initialDelayMs: 50, loadTimeoutMs: LOAD_TIMEOUT_MS });
    const host = h.runtime.workerHost;
    let hung: number | undefined;
    host.once('restarting', () => {
      hung = host.pid;
      if (hung !== undefined) process.kill(hung, 'SIGSTOP');
    });
    const failed: FailedRestart[] = [];
    host.on('restart-attempt-failed', (f: FailedRestart) => failed.push(f));
    let sent = 0;
    try {
      const restarted = once(host, 'restarted');
      process.kill(host.pid!, 'SIGKILL');
      await waitFor(() => hung !== undefined, 'the replacement is held');
      assert.equal(h.runtime.readiness().ready, false);
      const during = check(h.url, 'sent while the replacement hangs');
      sent += 1;
      await restarted;

      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.error.code, 'TIMEOUT');
      assert.match(failed[0]?.error.message ?? '', /did not load the model within 6000 ms \(--model-load-timeout-ms\)/);
      await waitFor(() => processGone(hung!), 'the hung worker was killed', 5000);
      hung = undefined;
      assert.deepEqual(await during, { status: 200, code: undefined }, 'the check waited and was answered');
      assert.equal(h.runtime.readiness().ready, true);
      const metrics = await metricsText(h.url);
      assert.equal(requestTotals(metrics).total, sent);
      assert.equal(metric(metrics, 'ofa_ve_worker_restarts_total'), 2);
      assert.equal(metric(metrics, 'ofa_ve_worker_restart_failures_total'), 1);
    } finally {
      if (hung !== undefined && !processGone(hung)) process.kill(hung, 'SIGKILL');
      await h.close();
    }
  });
});

/** The inference worker of a real `ofa-ve serve` (not tsx's esbuild service, its other child). */
function workerPid(servePid: number): number | undefined {
  return childPids(servePid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('inference-worker');
    } catch {
      return false;
    }
  });
}

const logLines = (serve: ServeProcess) =>
  serve.logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

const hasPrlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('ofa-ve serve (the real process) when worker starts fail', { skip: !HAS_PROC && 'needs /proc (Linux)' }, () => {
  it(
    'fork fails with EMFILE (no file descriptors left): reported, retried with backoff, serve stays up',
    { timeout: 90_000, skip: !hasPrlimit && 'needs prlimit' },
    async () => {
      const serve = await startServe();
      const pid = serve.child.pid!;
      let lowered = false;
      const softLimit = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
      assert.ok(softLimit, 'reads the file limit');
      try {
        assert.equal((await check(serve.url, 'before')).status, 200);
        const worker = workerPid(pid);
        assert.ok(worker, 'finds the worker process');
        // No file descriptor to spare: the next fork cannot make its IPC socket pair.
        const open = readdirSync(`/proc/${pid}/fd`).length;
        execFileSync('prlimit', ['--pid', String(pid), `--nofile=${open}:`]);
        lowered = true;
        process.kill(worker, 'SIGKILL');
        const failures = () => logLines(serve).filter((l) => l.msg === 'inference worker restart failed');
        await waitFor(() => failures().length >= 2, 'two failed attempts are logged');
        const first = failures()[0]!;
        assert.match(String(first.error), /EMFILE/);
        assert.ok(Number(first.retry_in_ms) > 0 && Number(first.retry_in_ms) <= 125, `retried after ${first.retry_in_ms} ms`);
        assert.equal(serve.child.exitCode, null, 'serve is still running');

        execFileSync('prlimit', ['--pid', String(pid), `--nofile=${softLimit}:`]);
        lowered = false;
        await waitFor(() => logLines(serve).some((l) => l.msg === 'inference worker restarted'), 'the worker is restarted', 20_000);
        assert.equal((await check(serve.url, 'after')).status, 200);
        const metrics = await metricsText(serve.url);
        assert.equal(requestTotals(metrics).total, 2);
        const failed = metric(metrics, 'ofa_ve_worker_restart_failures_total');
        assert.equal(failed, failures().length);
        assert.equal(metric(metrics, 'ofa_ve_worker_restarts_total'), failed + 1);
      } finally {
        if (lowered) execFileSync('prlimit', ['--pid', String(pid), `--nofile=${softLimit}:`]);
        assert.equal(await serve.stop(), 0, 'stops cleanly');
      }
    },
  );

  it('a storm of 5 worker kills in 10 s under load: it answers checks again, counts exactly', { timeout: 120_000 }, async (t) => {
    const serve = await startServe(['--access-log-rate', '0']);
    const pid = serve.child.pid!;
    const outcomes: { sentAt: number; doneAt: number; answer: Answer }[] = [];
    const failures: string[] = [];
    let stop = false;
    try {
      const clients = Array.from({ length: 4 }, async (_, c) => {
        for (let i = 0; !stop; i++) {
          const sentAt = performance.now();
          try {
            const answer = await check(serve.url, `client ${c} check ${i}`);
            outcomes.push({ sentAt, doneAt: performance.now(), answer });
          } catch (err) {
            failures.push(String(err));
          }
        }
      });
      await waitFor(() => outcomes.length >= 10, 'the load is on');

      // Kills at 0, 2.5 and 5 s (a ready worker), one of the replacement as soon as it exists
      // (it dies while loading), and a last one at 9 s.
      const kills: number[] = [];
      const start = performance.now();
      const killCurrent = async () => {
        await waitFor(() => workerPid(pid) !== undefined, 'a worker process exists', 10_000);
        process.kill(workerPid(pid)!, 'SIGKILL');
        kills.push(performance.now());
      };
      const at = async (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, start + ms - performance.now())));
      await killCurrent();
      await at(2500);
      await killCurrent();
      await at(5000);
      const killed = workerPid(pid)!;
      await killCurrent();
      await waitFor(() => (workerPid(pid) ?? killed) !== killed, 'the replacement starts', 10_000);
      await killCurrent();
      await at(9000);
      await killCurrent();
      const lastKill = kills.at(-1)!;
      assert.equal(kills.length, 5);
      assert.ok(lastKill - kills[0]! <= 10_000, `5 kills in ${((lastKill - kills[0]!) / 1000).toFixed(1)} s`);

      const answeredAfter = () => outcomes.filter((o) => o.sentAt > lastKill && o.answer.status === 200);
      await waitFor(() => answeredAfter().length > 0, 'a check sent after the storm is answered', 60_000);
      const firstAnswer = Math.min(...answeredAfter().map((o) => o.doneAt));
      await waitFor(async () => (await fetch(`${serve.url}/readyz`)).status === 200, '/readyz is 200 again');
      const ready = performance.now();
      await waitFor(() => answeredAfter().length >= 20, 'it keeps answering');
      stop = true;
      await Promise.all(clients);

      const byCode = new Map<string, number>();
      for (const { answer } of outcomes) {
        const key = `${answer.status} ${answer.code ?? 'ok'}`;
        byCode.set(key, (byCode.get(key) ?? 0) + 1);
      }
      const storm = ((lastKill - kills[0]!) / 1000).toFixed(1);
      t.diagnostic(
        `kill storm: 5 kills in ${storm} s; first check answered ${(firstAnswer - lastKill).toFixed(0)} ms after the last kill, ` +
          `/readyz 200 after ${(ready - lastKill).toFixed(0)} ms; ${outcomes.length} checks: ${JSON.stringify(Object.fromEntries(byCode))}`,
      );
      assert.deepEqual(failures, [], 'every check got an answer');
      for (const { answer } of outcomes) {
        const expected =
          answer.status === 200 ||
          (answer.status === 500 && answer.code === 'INTERNAL') ||
          (answer.status === 503 && answer.code === 'NOT_READY');
        assert.ok(expected, `only 200, 500 INTERNAL (the batch in a killed worker) or 503 NOT_READY: got ${answer.status} ${answer.code}`);
      }
      const metrics = await metricsText(serve.url);
      assert.equal(requestTotals(metrics).total, outcomes.length, 'sum of ofa_ve_request_total = checks sent');
      assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
      assert.ok(metric(metrics, 'ofa_ve_worker_restarts_total') >= 5);
      assert.equal(metric(metrics, 'ofa_ve_model_ready'), 1);
    } finally {
      stop = true;
      assert.equal(await serve.stop(), 0, 'stops cleanly');
    }
  });
});
