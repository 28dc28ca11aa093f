/**
 * Logging never takes `ofa-ve serve` down: with its stdout read by `head -1` (the pipe closes after
 * the first line: `ofa-ve serve | head -1`, a log shipper that went away) or its stderr closed as
 * it starts while something writes there on every request (NODE_DEBUG=http, Node's own debug
 * output), the real process keeps answering checks and /metrics, counts exactly, and stops cleanly.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { requestTotals } from '../support/service-harness.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');
const png = (
  await sharp({ create: { width: 24, height: 24, channels: 3, background: '#a52' } })
    .png()
    .toBuffer()
).toString('base64');

/** A process that echoes the first line of its stdin and exits, closing the pipe. */
function headOne(): ChildProcess {
  const script = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => { console.log(l); process.exit(0); });`;
  return spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const [line] = (await once(createInterface({ input: stream }), 'line')) as [string];
  return line;
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (
    (await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    assert.ok(Date.now() < deadline, 'ready within 30 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** 30 checks (20 answered, 10 refused: empty caption), a /metrics scrape after each batch of 10. */
async function exercise(url: string, serve: ChildProcess): Promise<void> {
  const headers = { 'content-type': 'application/json' };
  const post = (text: string) => fetch(`${url}/api/v1/check`, { method: 'POST', headers, body: JSON.stringify({ image: png, text }) });
  const statuses: number[] = [];
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 3 === 0 ? ' ' : `a rusty square ${round}.${i}`)));
    statuses.push(...answers.map((r) => r.status));
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    assert.equal((await fetch(`${url}/metrics`)).status, 200, 'still scraped');
  }
  assert.equal(serve.exitCode, null, 'serve is still running');
  assert.deepEqual([...new Set(statuses)].sort(), [200, 400], 'answered and refused, nothing else');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.equal(requestTotals(metrics).total, statuses.length, 'sum of ofa_ve_request_total = checks sent');
}

async function stop(serve: ChildProcess): Promise<number | null> {
  if (serve.exitCode !== null) return serve.exitCode;
  const exited = once(serve, 'exit');
  serve.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('ofa-ve serve with a closed stdout or stderr', () => {
  it(
    'stdout read by `head -1`: the pipe closes after the listening line; serve keeps serving and logging nowhere',
    { timeout: 60_000 },
    async () => {
      const head = headOne();
      // Every check writes an access line, so the closed pipe is hit again and again.
      const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', 'none', '--access-log-rate', '1000'], {
        stdio: ['ignore', head.stdin!, 'pipe'],
        env: { ...process.env, OFA_VE_TOKEN: '' },
      });
      head.stdin!.destroy(); // serve holds the only write end now
      let stderr = '';
      serve.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        const url = String((JSON.parse(await firstLine(head.stdout!)) as { url: string }).url);
        await once(head, 'exit');
        await waitReady(url);
        await exercise(url, serve);
      } finally {
        assert.equal(await stop(serve), 0, `exits 0 after SIGTERM (its shutdown lines go nowhere)\n${stderr}`);
      }
      assert.doesNotMatch(stderr, /EPIPE|Unhandled 'error'/);
    },
  );

  it(
    'stderr closed as it starts, while Node writes debug output there on every request (NODE_DEBUG=http)',
    { timeout: 60_000 },
    async () => {
      // A reader that never reads, killed once serve holds the pipe: stderr has no reader from then on.
      const reader = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['pipe', 'ignore', 'inherit'] });
      const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', 'none'], {
        stdio: ['ignore', 'pipe', reader.stdin!],
        env: { ...process.env, OFA_VE_TOKEN: '', NODE_DEBUG: 'http' },
      });
      reader.stdin!.destroy();
      reader.kill('SIGKILL');
      await once(reader, 'exit');
      try {
        const url = String((JSON.parse(await firstLine(serve.stdout!)) as { url: string }).url);
        await waitReady(url);
        await exercise(url, serve);
      } finally {
        assert.equal(await stop(serve), 0, 'exits 0 after SIGTERM');
      }
    },
  );
});
