/**
 * main/cli/bench/image-set.ts: `bench --images DIR` names a folder it can use, or says why not, as a
 * usage error (exit 2, one line) raised before any load runs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { folderImageSet } from '../../../main/cli/bench/image-set.ts';
import { PathError } from '../../../main/cli/exit-codes.ts';

describe('folderImageSet', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-image-set-'));
    await writeFile(path.join(dir, 'notes.txt'), 'not an image\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const refused = (message: RegExp) => (err: unknown) => err instanceof PathError && message.test(err.message);

  it('a folder that does not exist', async () => {
    const missing = path.join(dir, 'missing');
    await assert.rejects(folderImageSet(missing), refused(new RegExp(`^--images ${missing}: no such folder$`)));
  });

  it('a file instead of a folder', async () => {
    const file = path.join(dir, 'notes.txt');
    await assert.rejects(folderImageSet(file), refused(new RegExp(`^--images ${file}: not a folder$`)));
  });

  it('a folder without images', async () => {
    await assert.rejects(folderImageSet(dir), refused(/: no images \(.*\.jpg.*\) in it$/));
  });

  it('a folder with images: each with a caption', async () => {
    await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toFile(path.join(dir, 'a.png'));
    await writeFile(path.join(dir, 'captions.csv'), 'a.png,"a tiny square"\n');
    const pairs = await folderImageSet(dir);
    assert.deepEqual(
      pairs.map((p) => [p.name, p.text]),
      [['a.png', 'a tiny square']],
    );
  });
});
