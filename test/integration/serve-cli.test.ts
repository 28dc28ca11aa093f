import assert from 'node:assert/strict';
import os from 'node:os';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { REPO_ROOT } from '../support/shared-reference.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');

function serve(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  lines: Record<string, unknown>[];
  waitFor: (msg: string, ms: number) => Promise<Record<string, unknown>>;
} {
  const child = spawn(process.execPath, [BIN, 'serve', '--data-dir', 'none', ...args], {
    stdio: 'pipe',
    env: { ...process.env, OFA_VE_TOKEN: '' },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    lines.push(line);
    for (const w of waiters.filter((w) => w.msg === line.msg)) w.resolve(line);
  });
  const waitFor = (msg: string, ms: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no "${msg}" log line within ${ms} ms`)), ms);
      waiters.push({ msg, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  return { child, lines, waitFor };
}

const exitOf = (child: ChildProcessWithoutNullStreams) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('ofa-ve serve (the bin)', () => {
  it('prints its URL as a JSON log line, becomes ready, serves /metrics and stops gracefully on SIGTERM', async () => {
    const { child, lines, waitFor } = serve(['--port', '0']);
    const exited = exitOf(child);
    try {
      const listening = await waitFor('listening', 20_000);
      const url = String(listening.url);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const loaded = await waitFor('model loaded', 20_000);
      // --preprocess-workers auto: no pool when the model runs on the CPU, one thread per core on a GPU.
      assert.equal(loaded.preprocess_workers, loaded.provider === 'cpu' ? 0 : os.availableParallelism(), `on ${loaded.provider}`);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      assert.match(await (await fetch(`${url}/metrics`)).text(), /ofa_ve_build_info\{version="/);
      assert.ok(
        lines.some((l) => l.level === 'warn' && /demo model/.test(String(l.msg))),
        'warns about the demo model',
      );
      for (const line of lines) assert.ok(typeof line.ts === 'string' && typeof line.level === 'string');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.ok(lines.some((l) => l.msg === 'stopped'));
  });

  it('with a token: says how to open the UI without printing the token; logs one access line per check', async () => {
    const token = 'serve-cli-secret-77';
    const { child, lines, waitFor } = serve(['--port', '0', '--token', token, '--access-log-rate', '5']);
    const exited = exitOf(child);
    try {
      const listening = await waitFor('listening', 20_000);
      const url = String(listening.url);
      assert.equal(listening.auth, 'bearer');
      assert.match(String(listening.ui), new RegExp(`^${url}/ \\(paste the token when asked, or open ${url}/\\?token=T`));
      await waitFor('model loaded', 20_000);
      assert.ok(!lines.some((l) => JSON.stringify(l).includes(token)), 'the token is never logged');

      const auth = { authorization: `Bearer ${token}` };
      const png = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#3a6' } })
        .png()
        .toBuffer();
      const image = png.toString('base64');
      const json = { 'content-type': 'application/json' };
      const post = (body: unknown, headers: Record<string, string> = auth) =>
        fetch(`${url}/api/v1/check`, { method: 'POST', body: JSON.stringify(body), headers: { ...json, ...headers } });
      const ok = (await (await post({ image, text: 'a green picture' })).json()) as { id: string; label: string };
      assert.equal((await post({ image, text: '   ' })).status, 400);
      assert.equal((await post({ image, text: 'x' }, {})).status, 401);
      assert.equal((await fetch(`${url}/metrics`, { headers: auth })).status, 200, 'not a check: no access line');

      const deadline = Date.now() + 5000;
      while (lines.filter((l) => l.msg === 'check').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const access = lines.filter((l) => l.msg === 'check');
      assert.equal(access.length, 3);
      const [answered, empty, denied] = access as Record<string, unknown>[];
      const { ts, latency_ms: latency, ...fields } = answered ?? {};
      assert.equal(typeof ts, 'string');
      const expected = { level: 'info', msg: 'check', id: ok.id, method: 'POST', route: '/api/v1/check', status: 200, label: ok.label };
      assert.deepEqual(fields, expected);
      assert.ok(typeof latency === 'number' && latency > 0);
      assert.equal(empty?.status, 400);
      assert.equal(empty?.code, 'EMPTY_TEXT');
      assert.equal(empty?.label, undefined);
      assert.equal(denied?.status, 401);
      assert.equal(denied?.code, 'UNAUTHORIZED');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('--access-log-rate 0 turns the access log off; a bad value is a usage error', async () => {
    const { child, lines, waitFor } = serve(['--port', '0', '--access-log-rate', '0']);
    const exited = exitOf(child);
    try {
      const url = String((await waitFor('listening', 20_000)).url);
      assert.equal(String((await waitFor('listening', 20_000)).ui), `${url}/`, 'no token: the plain address');
      await waitFor('model loaded', 20_000);
      const refused = await fetch(`${url}/api/v1/check`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(refused.status, 400);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.ok(!lines.some((l) => l.msg === 'check'));
    const bad = serve(['--port', '0', '--access-log-rate', '1.5']);
    let stderr = '';
    bad.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    assert.equal(await exitOf(bad.child), 2);
    assert.match(stderr, /--access-log-rate must be a whole number >= 0/);
  });

  it('--model-load-timeout-ms: a load that takes longer leaves serve up and not ready, saying why', async () => {
    const { child, waitFor } = serve(['--port', '0', '--model-load-timeout-ms', '1']);
    const exited = exitOf(child);
    try {
      const url = String((await waitFor('listening', 20_000)).url);
      const failed = await waitFor('model not loaded', 20_000);
      assert.equal(failed.code, 'TIMEOUT');
      assert.match(String(failed.reason), /did not load the model within 1 ms \(--model-load-timeout-ms\)/);
      const ready = await fetch(`${url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /--model-load-timeout-ms/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
  });

  it('--preprocess-workers takes auto or a whole number >= 0; anything else is a usage error (exit 2)', async () => {
    for (const bad of ['two', '-1', '1.5', '']) {
      const { child } = serve(['--port', '0', `--preprocess-workers=${bad}`]);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      assert.equal(await exitOf(child), 2, bad);
      assert.match(stderr, /--preprocess-workers must be auto or a whole number >= 0/, bad);
    }
  });

  it('refuses a non-loopback address without a token (exit 2, clear message)', async () => {
    const { child } = serve(['--host', '0.0.0.0', '--port', '0']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    assert.equal(await exitOf(child), 2);
    assert.match(stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
  });

  it('refuses a blank token, from --token or OFA_VE_TOKEN, or one with whitespace around it (exit 2, clear message)', async () => {
    const refused = async (args: string[], env: Record<string, string>, message: RegExp) => {
      const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', 'none', ...args], {
        stdio: 'pipe',
        env: { ...process.env, ...env },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      assert.equal(await exitOf(child), 2, `${JSON.stringify(args)} ${JSON.stringify(env)}`);
      assert.match(stderr, message);
    };
    await refused(['--token', '   '], { OFA_VE_TOKEN: '' }, /--token is only whitespace: give a real token, or none/);
    await refused(['--token', ''], { OFA_VE_TOKEN: '' }, /--token is empty/);
    await refused([], { OFA_VE_TOKEN: ' \t ' }, /OFA_VE_TOKEN is only whitespace/);
    await refused(['--token', ' secret'], { OFA_VE_TOKEN: '' }, /--token starts or ends with whitespace, which HTTP clients cannot send/);
  });

  it('says clearly when the port is taken (exit 1, no stack trace)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const { child } = serve(['--port', String(port)]);
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      assert.equal(await exitOf(child), 1);
      assert.match(stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.doesNotMatch(stderr, /\n\s+at /);
      assert.doesNotMatch(stdout, /model loaded/, 'no model is loaded for a server that cannot listen');
    } finally {
      blocker.close();
    }
  });
});
