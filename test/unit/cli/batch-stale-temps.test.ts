/**
 * removeStaleRewriteTemps (main/cli/batch/batch-results-file.ts): the `.NAME.PID.tmp` files that
 * rewriteResultsFile leaves beside a results file when its process dies between creating one and
 * renaming it: removed on the next run when that PID is no live process; nothing else touched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { removeStaleRewriteTemps } from '../../../main/cli/batch/batch-results-file.ts';

/** A temporary file as a killed run left it: written two minutes ago. */
async function writeOld(file: string, text: string): Promise<void> {
  await writeFile(file, text);
  const then = new Date(Date.now() - 120_000);
  await utimes(file, then, then);
}

/** The PID of a process that has exited (and been reaped): no live process has it, barring reuse. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.equal(child.status, 0);
  const pid = child.pid as number;
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
  return pid;
}

describe('removeStaleRewriteTemps: temporary files of rewrites that never finished', () => {
  let root: string;
  let dir: string;
  let n = 0;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-stale-temps-'));
  });
  beforeEach(async () => {
    dir = path.join(root, `case-${n++}`);
    await mkdir(dir);
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it("a dead PID's temporary file is removed; a live PID's (this process), another file's and unrelated files are kept", async () => {
    const file = path.join(dir, 'results.jsonl');
    await writeFile(file, '{"line":2}\n');
    const dead = deadPid();
    const stale = `.results.jsonl.${dead}.tmp`;
    const kept = [
      'results.jsonl',
      `.results.jsonl.${process.pid}.tmp`, // a live run's rewrite in progress
      `.other.jsonl.${dead}.tmp`, // another results file's
      `.results.jsonl.${dead}.tmp.bak`,
      `results.jsonl.${dead}.tmp`, // no leading dot
      `.results.jsonl.x${dead}.tmp`,
      `.results.jsonl.${dead}.${dead}.tmp`,
      'results.jsonl.removed.jsonl',
      'notes.txt',
    ];
    for (const name of [stale, ...kept.slice(1)]) await writeOld(path.join(dir, name), 'x\n');

    assert.deepEqual(removeStaleRewriteTemps(file), [path.join(dir, stale)]);
    assert.deepEqual((await readdir(dir)).sort(), [...kept].sort());
    assert.deepEqual(removeStaleRewriteTemps(file), [], 'nothing more on a second run');
  });

  it('a directory in that place is not ours: kept', async () => {
    const file = path.join(dir, 'results.jsonl');
    await writeFile(file, '');
    const blocker = path.join(dir, `.results.jsonl.${deadPid()}.tmp`);
    await mkdir(blocker);
    assert.deepEqual(removeStaleRewriteTemps(file), []);
    assert.ok((await stat(blocker)).isDirectory());
  });

  it('through a symbolic link: the temporary file beside the file it points to (where the rewrite wrote it)', async () => {
    await mkdir(path.join(dir, 'real'));
    const real = path.join(dir, 'real', 'results.jsonl');
    const link = path.join(dir, 'link.jsonl');
    await writeFile(real, '');
    await symlink(real, link);
    const dead = deadPid();
    const stale = path.join(dir, 'real', `.results.jsonl.${dead}.tmp`);
    const besideLink = path.join(dir, `.link.jsonl.${dead}.tmp`);
    await writeOld(stale, 'x\n');
    await writeOld(besideLink, 'x\n');
    assert.deepEqual(removeStaleRewriteTemps(link), [stale]);
    assert.deepEqual(await readdir(path.join(dir, 'real')), ['results.jsonl']);
    assert.ok((await readdir(dir)).includes(path.basename(besideLink)), 'not the rewrite of this file: kept');
  });

  it('no results file yet, or no folder: nothing to do, no error', async () => {
    const stale = path.join(dir, `.results.jsonl.${deadPid()}.tmp`);
    await writeOld(stale, 'x\n');
    assert.deepEqual(removeStaleRewriteTemps(path.join(dir, 'results.jsonl')), [stale], 'a results file gone since');
    assert.deepEqual(removeStaleRewriteTemps(path.join(dir, 'none', 'results.jsonl')), []);
  });

  it('written within the last minute: kept, whatever its PID (a run on another host or in another PID namespace may be mid-rewrite)', async () => {
    const file = path.join(dir, 'results.jsonl');
    await writeFile(file, '');
    const recent = path.join(dir, `.results.jsonl.${deadPid()}.tmp`);
    await writeFile(recent, 'x\n');
    assert.deepEqual(removeStaleRewriteTemps(file), []);
    assert.deepEqual(removeStaleRewriteTemps(file, { now: Date.now() + 61_000 }), [recent], 'a minute on, it is stale');
  });
});
