/** main/cli/output-file.ts: why a file named by --out or --json cannot be written, before any work is done. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { outputFileProblem } from '../../../main/cli/output-file.ts';

describe('outputFileProblem', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-output-file-'));
    await writeFile(path.join(dir, 'existing.jsonl'), '');
    await mkdir(path.join(dir, 'sub'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('none for a new file in a writable folder, or an existing writable file', async () => {
    assert.equal(await outputFileProblem(path.join(dir, 'new.json')), undefined);
    assert.equal(await outputFileProblem(path.join(dir, 'existing.jsonl')), undefined);
  });

  it('a folder where a file is wanted', async () => {
    assert.equal(await outputFileProblem(path.join(dir, 'sub')), 'it is a folder');
    assert.equal(await outputFileProblem(dir), 'it is a folder');
    // A name ending with a separator is a folder, existing or not (writeFile would fail with EISDIR).
    assert.equal(await outputFileProblem(`${path.join(dir, 'results')}/`), 'it names a folder (it ends with a separator)');
  });

  it('with readBack (results read again on --resume), a device or FIFO is refused; a regular file is fine', async () => {
    const fifo = path.join(dir, 'results.fifo');
    execFileSync('mkfifo', [fifo]);
    const notRegular = 'it is not a regular file (a device, FIFO or socket); use --out - for stdout';
    assert.equal(await outputFileProblem(fifo, { readBack: true }), notRegular);
    assert.equal(await outputFileProblem('/dev/null', { readBack: true }), notRegular);
    assert.equal(await outputFileProblem(path.join(dir, 'existing.jsonl'), { readBack: true }), undefined);
    assert.equal(await outputFileProblem('/dev/null'), undefined, 'without readBack (bench --json /dev/null) as before');
  });

  it('another failure says its code', async () => {
    const loop = path.join(dir, 'loop');
    await symlink(loop, loop);
    assert.equal(await outputFileProblem(path.join(loop, 'x.json')), `cannot be opened (ELOOP)`);
  });

  it('a folder that does not exist, or is a file', async () => {
    assert.equal(await outputFileProblem(path.join(dir, 'nope', 'x.json')), `no folder ${path.join(dir, 'nope')}`);
    const under = path.join(dir, 'existing.jsonl', 'x.json');
    assert.equal(await outputFileProblem(under), `${path.join(dir, 'existing.jsonl')} is not a folder`);
  });

  it('permission denied for a read-only file or folder', { skip: process.getuid?.() === 0 && 'root writes anywhere' }, async () => {
    const locked = path.join(dir, 'locked');
    await mkdir(locked);
    await writeFile(path.join(locked, 'old.jsonl'), '');
    await chmod(path.join(locked, 'old.jsonl'), 0o444);
    await chmod(locked, 0o555);
    try {
      assert.equal(await outputFileProblem(path.join(locked, 'new.jsonl')), 'permission denied');
      assert.equal(await outputFileProblem(path.join(locked, 'old.jsonl')), 'permission denied');
    } finally {
      await chmod(locked, 0o755);
    }
  });
});
