/**
 * The real bin (`node bin/ofa-ve.js`) given paths and flags it cannot use: each a one-line message
 * naming the path or flag, exit 2, never a stack trace, and nothing loaded or measured first. (None of
 * these runs loads the model; test/integration/cli-batch.test.ts covers the runs that do.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../support/shared-reference.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');
const NO_STACK = /\n\s+at |node_modules|\.ts:\d+|\bError: |ambiguous/;

interface BinRun {
  code: number;
  out: string;
  err: string;
}

function runBin(args: string[]): Promise<BinRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, OFA_VE_DEBUG: '' }, timeout: 60_000 },
      (error, out, err) => resolve({ code: error ? Number(error.code) : 0, out, err }),
    );
  });
}

/** Exit 2 with `message` on stderr, no stack trace; returns stdout. */
function assertRefused(run: BinRun, message: RegExp): void {
  assert.equal(run.code, 2, run.err);
  assert.match(run.err, message);
  assert.doesNotMatch(run.err, NO_STACK, 'no stack trace');
}

const jsonError = (out: string) => (JSON.parse(out) as { error: { code: string; message: string } }).error;

describe('ofa-ve: unusable paths and flags (the bin)', () => {
  let dir: string;
  let list: string;
  /** A stand-in for a running instance that counts what it is sent: a bench refused up front sends nothing. */
  let server: Server;
  let url: string;
  let requests = 0;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-errors-'));
    await mkdir(path.join(dir, 'folder'));
    list = path.join(dir, 'pairs.csv');
    await writeFile(list, 'image,caption\na.png,a dog\n');
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  describe('check --batch --json', () => {
    it('--out naming a folder: "is a folder", exit 2, {error} on stdout', async () => {
      const run = await runBin(['check', '--batch', list, '--out', path.join(dir, 'folder'), '--json']);
      assertRefused(run, /^error BAD_REQUEST: cannot write \S+folder: it is a folder$/m);
      assert.deepEqual(jsonError(run.out), { code: 'BAD_REQUEST', message: `cannot write ${path.join(dir, 'folder')}: it is a folder` });
    });

    it('--out in a folder that does not exist', async () => {
      const run = await runBin(['check', '--batch', list, '--out', path.join(dir, 'nope', 'x.jsonl'), '--json']);
      assertRefused(run, /^error BAD_REQUEST: cannot write \S+x\.jsonl: no folder \S+nope$/m);
      assert.equal(jsonError(run.out).code, 'BAD_REQUEST');
    });

    const unusableLists: Array<[string, () => Promise<string>, RegExp]> = [
      ['a missing list', async () => path.join(dir, 'missing.csv'), /cannot read the list: \S+missing\.csv: no such file/],
      ['a folder for a list', async () => path.join(dir, 'folder'), /cannot read the list: \S+folder: is a directory/],
      ['an empty CSV', () => listFile('empty.csv', ''), /\S*empty\.csv lists no image\/caption pairs/],
      ['a header-only CSV', () => listFile('header.csv', 'image,caption\n'), /\S*header\.csv lists no image\/caption pairs/],
    ];
    async function listFile(name: string, text: string): Promise<string> {
      await writeFile(path.join(dir, name), text);
      return path.join(dir, name);
    }
    for (const [what, make, message] of unusableLists) {
      it(`${what}: exit 2, the reason on stderr and as {error} on stdout`, async () => {
        const run = await runBin(['check', '--batch', await make(), '--json']);
        assertRefused(run, new RegExp(`^error BAD_REQUEST: ${message.source}$`, 'm'));
        const error = jsonError(run.out);
        assert.equal(error.code, 'BAD_REQUEST');
        assert.match(error.message, message);
      });
    }

    it('an unterminated quote: reported on its own line', async () => {
      const broken = await listFile('broken.csv', 'image,caption\n"a.png,a dog\n');
      const run = await runBin(['check', '--batch', broken, '--json']);
      assertRefused(
        run,
        /broken\.csv: line 2: Unterminated quoted field starting on line 2 \(an unmatched "\): line 2 is not read \(skipped\)$/m,
      );
      assert.equal(jsonError(run.out).code, 'BAD_REQUEST');
    });
  });

  describe('bench', () => {
    it('--images naming a missing folder, or a file: exit 2 before any request is sent', async () => {
      for (const [images, why] of [
        [path.join(dir, 'missing'), 'no such folder'],
        [list, 'not a folder'],
      ] as const) {
        const run = await runBin(['bench', '--url', url, '--requests', '2', '--concurrency', '1', '--images', images]);
        assertRefused(run, new RegExp(`^ofa-ve bench: --images ${images}: ${why}$`, 'm'));
        assert.doesNotMatch(run.err, /usage:/, 'one line, not the usage text');
      }
      assert.equal(requests, 0);
    });

    it('--json in a folder that does not exist, or naming a folder: exit 2 before any request is sent', async () => {
      const missing = path.join(dir, 'nope', 'x.json');
      const run = await runBin(['bench', '--url', url, '--requests', '2', '--concurrency', '1', '--json', missing]);
      assertRefused(run, new RegExp(`^ofa-ve bench: cannot write --json ${missing}: no folder \\S+nope$`, 'm'));
      const folder = await runBin(['bench', '--url', url, '--requests', '2', '--concurrency', '1', '--json', dir]);
      assertRefused(folder, /^ofa-ve bench: cannot write --json \S+: it is a folder$/m);
      assert.equal(requests, 0);
    });

    it('--http with --url: refused, they are alternatives', async () => {
      const run = await runBin(['bench', '--http', '--url', url, '--requests', '2', '--concurrency', '1']);
      assertRefused(run, /^ofa-ve bench: --http .*cannot be combined with --url$/m);
      assert.equal(requests, 0);
    });

    it('--concurrency -1 as a separate argument: the range message, as for --concurrency=-1', async () => {
      const run = await runBin(['bench', '--url', url, '--concurrency', '-1']);
      assertRefused(run, /^ofa-ve bench: --concurrency must be whole numbers from 1 to 1024/m);
    });
  });

  it('serve --port -1: the range message, as for --port=-1', async () => {
    const run = await runBin(['serve', '--port', '-1', '--data-dir', 'none']);
    assertRefused(run, /^ofa-ve serve: --port must be a whole number >= 0$/m);
  });
});
