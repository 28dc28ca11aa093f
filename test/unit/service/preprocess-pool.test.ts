/**
 * The preprocessing pool against the preparer it parallelises: the same pixels (bit for bit) and
 * encoder ids from 1 or 2 threads as from PairPreparer in this thread; a refused upload fails
 * alone with its code; `started` reports when a pair is handed to a thread; a thread that dies
 * fails only the pairs it held and is replaced.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { CheckError } from '../../../main/errors.ts';
import { PairPreparer } from '../../../main/inference/entailment-engine.ts';
import { preparedInline, PreprocessPool } from '../../../main/service/preprocess/preprocess-pool.ts';
import { DEMO_MODEL_DIR } from '../../support/shared-reference.ts';

const SCRIPT = fileURLToPath(new URL('../../../main/service/inference-worker-bootstrap.mjs', import.meta.url));

async function photo(width: number, height: number, seed: number, format: 'png' | 'jpeg'): Promise<Uint8Array> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97 + ((i / width) | 0) * 7) & 255;
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  return new Uint8Array(format === 'png' ? await image.png().toBuffer() : await image.jpeg({ quality: 90 }).toBuffer());
}

describe('PreprocessPool on the demo model', () => {
  let preparer: PairPreparer;
  const inputs: { image: Uint8Array; text: string; premise?: string }[] = [];
  const pools: PreprocessPool[] = [];
  const fatal: Error[] = [];
  const start = async (size: number) => {
    const pool = await PreprocessPool.start(size, preparer.source, { script: SCRIPT, takeImages: false, onFatal: (e) => fatal.push(e) });
    pools.push(pool);
    return pool;
  };

  before(async () => {
    preparer = await PairPreparer.load(DEMO_MODEL_DIR);
    const shapes = [
      [640, 480, 'jpeg'],
      [300, 500, 'png'],
      [1024, 768, 'jpeg'],
      [97, 61, 'png'],
    ] as const;
    for (const [i, [w, h, format]] of shapes.entries()) {
      inputs.push({ image: await photo(w, h, i, format), text: `caption number ${i}`, premise: i === 2 ? 'a premise' : undefined });
    }
  });
  after(async () => {
    for (const pool of pools) await pool.close();
    assert.deepEqual(fatal, []);
  });

  for (const size of [1, 2]) {
    it(`${size} thread(s): the same pixels and ids as preparing in this thread, written at the row asked for`, async () => {
      const pool = await start(size);
      const plane = preparer.pixelsPerPair;
      const batch = new Float32Array(inputs.length * plane);
      const rows = await Promise.all(inputs.map((input, i) => pool.prepare(input, { out: batch, offset: i * plane })));
      for (const [i, input] of inputs.entries()) {
        const expected = await preparer.prepare(input);
        assert.deepEqual(rows[i]?.encoderIds, expected.encoderIds);
        const got = batch.subarray(i * plane, (i + 1) * plane);
        assert.ok(
          Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(expected.pixels.buffer)),
          `row ${i}: pixels bit for bit`,
        );
        assert.ok((rows[i]?.decodeImageMs ?? -1) >= 0 && (rows[i]?.tokenizeMs ?? -1) >= 0);
      }
      assert.ok(
        inputs.every((input) => input.image.byteLength > 0),
        'the caller keeps its bytes (takeImages: false)',
      );
    });
  }

  it('without a row to write into, hands over its own array (a batch of one runs on it); recycle() takes it back', async () => {
    const pool = await start(1);
    const pair = await pool.prepare(inputs[1]!, undefined);
    const expected = await preparer.prepare(inputs[1]!);
    assert.equal(pair.pixels.length, preparer.pixelsPerPair);
    assert.ok(Buffer.from(pair.pixels.buffer).equals(Buffer.from(expected.pixels.buffer)), 'pixels bit for bit');
    pool.recycle(pair.pixels);
    const again = await pool.prepare(inputs[0]!, undefined);
    assert.equal(pair.pixels.byteLength, 0, 'the recycled array went back to a thread (moved, not copied)');
    assert.ok(Buffer.from(again.pixels.buffer).equals(Buffer.from((await preparer.prepare(inputs[0]!)).pixels.buffer)));
  });

  it('fails a refused upload alone, with its code', async () => {
    const pool = await start(2);
    const plane = preparer.pixelsPerPair;
    const out = new Float32Array(3 * plane);
    const outcomes = await Promise.allSettled([
      pool.prepare(inputs[0]!, { out, offset: 0 }),
      pool.prepare({ image: new Uint8Array([1, 2, 3, 4]), text: 'not an image' }, { out, offset: plane }),
      pool.prepare({ image: inputs[1]!.image, text: '...' }, { out, offset: 2 * plane }),
    ]);
    assert.equal(outcomes[0].status, 'fulfilled');
    const reasons = outcomes.slice(1).map((o) => (o.status === 'rejected' ? (o.reason as CheckError).code : 'answered'));
    assert.deepEqual(reasons, ['INVALID_IMAGE', 'EMPTY_TEXT']);
    assert.ok(outcomes.slice(1).every((o) => o.status === 'rejected' && o.reason instanceof CheckError));
  });

  it('reports a pair as started once a thread has it, and lets at most two wait in each thread', async () => {
    const pool = await start(1);
    const plane = preparer.pixelsPerPair;
    const out = new Float32Array(3 * plane);
    const started: number[] = [];
    const done = inputs.slice(0, 3).map((input, i) => pool.prepare(input, { out, offset: i * plane }, () => started.push(i)));
    assert.deepEqual(started, [0, 1], 'two handed to the thread at once');
    assert.equal(pool.backlog, 1);
    await done[0];
    await Promise.all(done);
    assert.deepEqual(started, [0, 1, 2]);
    assert.equal(pool.backlog, 0);
  });

  it('a thread that dies fails the pairs it held with INTERNAL; a replacement takes the next ones', async () => {
    const pool = await start(1);
    const plane = preparer.pixelsPerPair;
    const out = new Float32Array(plane);
    const held = pool.prepare(inputs[2]!, { out, offset: 0 });
    const thread = (pool as unknown as { threads: { worker: Worker }[] }).threads[0]!;
    await thread.worker.terminate();
    await assert.rejects(held, (err: CheckError) => err.code === 'INTERNAL' && /preprocessing thread stopped/.test(err.message));
    const row = await pool.prepare(inputs[0]!, { out, offset: 0 });
    assert.deepEqual(row.encoderIds, (await preparer.prepare(inputs[0]!)).encoderIds);
    assert.equal(pool.size, 1, 'the pool keeps its size');
  });
});

describe('preparedInline (the serial design) on the demo model', () => {
  it("a batch of one's array, recycled, is the next one's: the same pixels as a new array; one of another size is not kept", async () => {
    const preparer = await PairPreparer.load(DEMO_MODEL_DIR);
    const rows = preparedInline(preparer);
    const [a, b] = [await photo(640, 480, 1, 'jpeg'), await photo(97, 61, 2, 'png')];
    const first = await rows.prepare({ image: a, text: 'a caption' }, undefined);
    rows.recycle?.(first.pixels);
    const second = await rows.prepare({ image: b, text: 'another caption' }, undefined);
    assert.equal(second.pixels, first.pixels, 'the recycled array, written over');
    const expected = await preparer.prepare({ image: b, text: 'another caption' });
    assert.ok(Buffer.from(second.pixels.buffer).equals(Buffer.from(expected.pixels.buffer)), 'pixels bit for bit');
    rows.recycle?.(new Float32Array(3));
    assert.notEqual((await rows.prepare({ image: a, text: 'a caption' }, undefined)).pixels.length, 3);
  });
});
