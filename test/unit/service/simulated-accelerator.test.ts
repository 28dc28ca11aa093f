/**
 * The bench's simulated accelerator: its flag's syntax, its capacity and the bound a pipeline is
 * judged against, and the device itself (one batch at a time, logits shaped as the model's).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { pipelineBound } from '../../../main/service/preprocess/preprocess-capacity.ts';
import {
  describeSimulatedAccelerator,
  parseSimulatedAccelerator,
  simulatedBatchMs,
  simulatedCapacity,
} from '../../../main/service/simulated-accelerator-spec.ts';
import { SimulatedAccelerator } from '../../../main/service/worker/simulated-accelerator.ts';

describe('--simulate-accelerator MS_PER_BATCH[,MS_PER_PAIR]', () => {
  it('reads a time per batch and, optionally, per pair', () => {
    assert.deepEqual(parseSimulatedAccelerator('40'), { msPerBatch: 40, msPerPair: 0 });
    assert.deepEqual(parseSimulatedAccelerator('12.5, 2'), { msPerBatch: 12.5, msPerPair: 2 });
    assert.deepEqual(parseSimulatedAccelerator('0,3'), { msPerBatch: 0, msPerPair: 3 });
  });

  it('refuses what is not two non-negative numbers, or no time at all', () => {
    for (const bad of ['', 'x', '-1', '1,2,3', '40,', ',5', '0', '0,0', 'Infinity']) {
      assert.throws(() => parseSimulatedAccelerator(bad), RangeError, bad);
    }
  });

  it('takes a + b·n ms per batch of n; the bound is the slower of the device and the cores', () => {
    const spec = { msPerBatch: 40, msPerPair: 0 };
    assert.equal(simulatedBatchMs({ msPerBatch: 10, msPerPair: 2 }, 8), 26);
    assert.equal(simulatedCapacity(spec, 8), 200);
    const slowCores = pipelineBound(spec, 8, { msPerPair: 20, cores: 2, pairsPerS: 100, pairs: 50 });
    assert.deepEqual(slowCores, { acceleratorQps: 200, preprocessQps: 100, boundQps: 100, limitedBy: 'preprocessing' });
    const fastCores = pipelineBound(spec, 8, { msPerPair: 2, cores: 16, pairsPerS: 8000, pairs: 50 });
    assert.equal(fastCores.limitedBy, 'accelerator');
    assert.equal(fastCores.boundQps, 200);
    assert.match(describeSimulatedAccelerator(spec), /^simulated accelerator: 40 ms per batch \+ 0 ms per pair/);
  });
});

describe('SimulatedAccelerator', () => {
  const answers = { YES: 5, NO: 3, MAYBE: 9 };
  const feeds = (n: number, width: number, first: bigint) => ({
    pixel_values: new ort.Tensor('float32', new Float32Array(n * 3 * 4 * 4), [n, 3, 4, 4]),
    input_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: n * width }, (_, i) => first + BigInt(i)),
      [n, width],
    ),
  });

  it('answers logits [n, vocab] with one answer token raised per row', async () => {
    const device = new SimulatedAccelerator({ msPerBatch: 1, msPerPair: 0 }, answers);
    const out = await device.run(feeds(3, 4, 0n));
    const logits = out.logits as ort.Tensor;
    assert.deepEqual(logits.dims, [3, 10]);
    const data = logits.data as Float32Array;
    for (let row = 0; row < 3; row++) {
      const raised = [answers.YES, answers.NO, answers.MAYBE].filter((id) => data[row * 10 + id] === 2);
      assert.equal(raised.length, 1, `row ${row}`);
    }
  });

  it('runs one batch at a time, in the order they came', async () => {
    const device = new SimulatedAccelerator({ msPerBatch: 20, msPerPair: 0 }, answers);
    const finished: string[] = [];
    await Promise.all([
      device.run(feeds(8, 2, 0n)).then(() => finished.push('first')),
      device.run(feeds(1, 2, 0n)).then(() => finished.push('second')),
    ]);
    assert.deepEqual(finished, ['first', 'second']);
  });
});
