import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { contentHashes } from '../../../renderer/checker/file-intake.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('contentHashes', () => {
  test('hashes each file in order; one that cannot be read gets none, and the rest go on', async () => {
    class Unreadable extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new Error('NotReadableError'));
      }
    }
    const texts = Array.from({ length: 30 }, (_, i) => `photo ${i % 10}`);
    const blobs: Blob[] = texts.map((t) => new Blob([t]));
    blobs.splice(7, 0, new Unreadable(['gone']));
    const hashes = await contentHashes(blobs);
    assert.equal(hashes.length, 31);
    assert.equal(hashes[7], undefined);
    assert.deepEqual([...hashes.slice(0, 7), ...hashes.slice(8)], texts.map(sha256));
    assert.deepEqual(await contentHashes([]), []);
  });

  test('reads a bounded number of files at a time', async () => {
    let reading = 0;
    let most = 0;
    class Slow extends Blob {
      override async arrayBuffer(): Promise<ArrayBuffer> {
        most = Math.max(most, ++reading);
        await new Promise((resolve) => setTimeout(resolve, 2));
        reading--;
        return super.arrayBuffer();
      }
    }
    const hashes = await contentHashes(Array.from({ length: 50 }, (_, i) => new Slow([String(i)])));
    assert.equal(hashes.filter(Boolean).length, 50);
    assert.ok(most > 1 && most <= 8, `${most} files read at once`);
  });
});
