/**
 * A real Prometheus (Debian's `prometheus` on PATH; CI installs it) as a child process on loopback,
 * and its HTTP query API, for the tests that check what Prometheus makes of the service's metrics.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, command), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A `skip` value for node:test: false when prometheus is installed, else the reason. */
export const SKIP_WITHOUT_PROMETHEUS = onPath('prometheus') ? false : 'prometheus not installed (apt-get install prometheus): skipped';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** Starts prometheus with `configFile` (its TSDB in `dataDir`) on a free loopback port and waits until it is ready. */
export async function startPrometheus(configFile: string, dataDir: string, readyTimeoutMs = 20_000): Promise<PrometheusProcess> {
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const prom = new PrometheusProcess(child, `http://127.0.0.1:${port}`);
  try {
    await prom.waitReady(readyTimeoutMs);
  } catch (error) {
    await prom.stop();
    throw error;
  }
  return prom;
}

/** A Prometheus child process and its HTTP API. */
export class PrometheusProcess {
  private stderr = '';
  private readonly exited: Promise<void>;
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    process.once('exit', this.killOnExit);
  }

  /** The last 4000 characters of its stderr, for failure messages. */
  get log(): string {
    return this.stderr;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Polls /-/ready (at most `timeoutMs`). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`prometheus exited early: ${this.log}`);
      try {
        const res = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`prometheus not ready after ${timeoutMs} ms: ${this.log}`);
  }

  /** An instant query, at `time` (epoch ms) or now. */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', (time / 1000).toFixed(3));
    const res = await fetch(`${this.url}/api/v1/query?${params}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error ?? res.status}`);
    assert.equal(body.data?.resultType, 'vector', expr);
    return body.data.result;
  }

  /** The query's values by one label. */
  async byLabel(expr: string, label: string, time?: number): Promise<Map<string, number>> {
    const result = await this.query(expr, time);
    return new Map(result.map((s) => [s.metric[label] ?? '', Number(s.value[1])]));
  }

  /** The single value of a query that yields one sample (undefined when it yields none). */
  async scalar(expr: string, time?: number): Promise<number | undefined> {
    const result = await this.query(expr, time);
    assert.ok(result.length <= 1, `${expr}: ${result.length} samples`);
    return result[0] === undefined ? undefined : Number(result[0].value[1]);
  }

  /** Polls `check` (every `everyMs`, at most `timeoutMs`) until it returns a value; `what` names it in the timeout error. */
  async waitUntil<T>(what: string | (() => string), timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await check();
      if (value !== undefined) return value;
      await sleep(everyMs);
    }
    const named = typeof what === 'string' ? what : what();
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${named}; prometheus log: ${this.log}`);
  }

  /** Polls `expr` (at most `timeoutMs`) until `done` holds for its value; returns the value. */
  async waitFor(expr: string, done: (value: number | undefined) => boolean, timeoutMs: number, what: string): Promise<number> {
    let last: number | undefined;
    const check = async () => {
      last = await this.scalar(expr);
      return done(last) ? { value: last as number } : undefined;
    };
    return (await this.waitUntil(() => `${what} (${expr} = ${last})`, timeoutMs, check, 200)).value;
  }

  async stop(): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (!this.running) return;
    this.child.kill('SIGTERM');
    if (!(await Promise.race([this.exited.then(() => true), sleep(5000).then(() => false)]))) {
      this.child.kill('SIGKILL');
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}
