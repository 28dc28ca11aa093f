/**
 * main/cli/image-file.ts, the one reader of an image file for `ofa-ve check` and each row of
 * `check --batch`: devices and FIFOs refused without a read, every read bounded by the byte limit.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { namingImageFile, readImageFile } from '../../../main/cli/image-file.ts';
import { CheckError } from '../../../main/errors.ts';

/** The CheckError a read ends with (or a failed assertion when it succeeds). */
async function refusal(file: string, maxBytes: number): Promise<CheckError> {
  try {
    await readImageFile(file, maxBytes);
  } catch (err) {
    assert.ok(err instanceof CheckError, String(err));
    return err;
  }
  assert.fail(`${file} was read`);
}

describe('readImageFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-image-file-'));
    await writeFile(path.join(dir, 'ten.bin'), '0123456789');
    await writeFile(path.join(dir, 'empty.png'), '');
    await mkdir(path.join(dir, 'folder.png'));
    execFileSync('mkfifo', [path.join(dir, 'fifo.jpg')]); // no writer: an open without O_NONBLOCK would block
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads a regular file whole, up to and at the limit; a 0-byte file is read as empty', async () => {
    assert.equal(Buffer.from(await readImageFile(path.join(dir, 'ten.bin'), 10)).toString(), '0123456789');
    assert.equal((await readImageFile(path.join(dir, 'ten.bin'), 1000)).length, 10);
    assert.equal((await readImageFile(path.join(dir, 'empty.png'), 10)).length, 0);
  });

  it('IMAGE_TOO_LARGE over the limit, from its size', async () => {
    const err = await refusal(path.join(dir, 'ten.bin'), 9);
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    assert.equal(err.message, 'image file is 10 bytes; the limit is 9');
  });

  it('a regular file longer than its size says (it grew, or /proc says 0) is cut at limit + 1 and refused', async () => {
    const err = await refusal('/proc/self/status', 16);
    assert.equal(err.code, 'IMAGE_TOO_LARGE');
    assert.match(err.message, /grew past the 16-byte limit/);
    assert.ok((await readImageFile('/proc/self/status', 1 << 20)).length > 16, 'read whole within the limit');
  });

  for (const [name, file] of [
    ['/dev/zero (never ends)', () => '/dev/zero'],
    ['a FIFO with no writer (never ends)', () => path.join(dir, 'fifo.jpg')],
    ['/dev/null (a device, even if empty)', () => '/dev/null'],
  ] as const) {
    it(`INVALID_IMAGE "not a regular file" at once for ${name}`, async () => {
      const t0 = performance.now();
      const err = await refusal(file(), 20 * 1024 * 1024);
      assert.equal(err.code, 'INVALID_IMAGE');
      assert.match(err.message, /^not a regular file/);
      assert.ok(performance.now() - t0 < 2000);
    });
  }

  it('INVALID_IMAGE for a folder and a missing file, with their reason', async () => {
    assert.deepEqual((await refusal(path.join(dir, 'folder.png'), 10)).toJSON(), { code: 'INVALID_IMAGE', message: 'is a directory' });
    assert.deepEqual((await refusal(path.join(dir, 'none.png'), 10)).toJSON(), { code: 'INVALID_IMAGE', message: 'no such file' });
  });

  it('namingImageFile puts the path before an image error, and leaves other errors alone', () => {
    const named = namingImageFile('/x/a.png', new CheckError('INVALID_IMAGE', 'no such file'));
    assert.deepEqual((named as CheckError).toJSON(), { code: 'INVALID_IMAGE', message: '/x/a.png: no such file' });
    const text = new CheckError('EMPTY_TEXT', 'empty');
    assert.equal(namingImageFile('/x/a.png', text), text);
  });
});
