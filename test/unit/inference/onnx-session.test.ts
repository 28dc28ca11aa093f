/**
 * The session's threads after a run: onnxruntime's pool would spin-wait on a core for 20 ms or more
 * by default, which on a small machine is the core the next batch's preprocessing needs; the
 * session stops them when a run ends (they still spin within it).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { openSession, spinningConfig } from '../../../main/inference/onnx-session.ts';
import { DEMO_MODEL_DIR } from '../../support/shared-reference.ts';

const SIZE = 480;

function feeds(): Record<string, ort.Tensor> {
  const n = 8;
  return {
    pixel_values: new ort.Tensor('float32', new Float32Array(3 * SIZE * SIZE).fill(0.25), [1, 3, SIZE, SIZE]),
    input_ids: new ort.Tensor('int64', new BigInt64Array(n).fill(7n), [1, n]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    decoder_input_ids: new ort.Tensor('int64', new BigInt64Array(n - 1).fill(7n), [1, n - 1]),
    decoder_attention_mask: new ort.Tensor('int64', new BigInt64Array(n - 1).fill(1n), [1, n - 1]),
  };
}

/** This process's CPU time (all threads) in ms. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

describe('onnx session threads', () => {
  it('leaves no intra-op thread spinning after a run', async () => {
    // Two threads, so that there is a pool thread to spin whatever the machine's cores.
    const { session } = await openSession(path.join(DEMO_MODEL_DIR, 'model.onnx'), SIZE, { provider: 'cpu', intraOpThreads: 2 });
    try {
      const idle: number[] = [];
      for (let i = 0; i < 3; i++) {
        await session.run(feeds());
        const c0 = cpuMs();
        await sleep(60);
        idle.push(cpuMs() - c0);
      }
      idle.sort((a, b) => a - b);
      // Spinning costs 20–30 ms of it here; an idle process well under a millisecond.
      assert.ok((idle[1] as number) < 10, `CPU used in the 60 ms after a run: ${idle.map((x) => x.toFixed(1)).join(', ')} ms`);
    } finally {
      await session.release();
    }
  });

  it('spins during a run and stops when it ends, unless OFA_VE_ORT_SPINNING asks for always (1) or never (0)', () => {
    assert.deepEqual(spinningConfig({}), { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' });
    assert.deepEqual(spinningConfig({ OFA_VE_ORT_SPINNING: 'yes' }), { intra_op: { allow_spinning: '1' }, force_spinning_stop: '1' });
    assert.deepEqual(spinningConfig({ OFA_VE_ORT_SPINNING: '1' }), { intra_op: { allow_spinning: '1' }, force_spinning_stop: '0' });
    assert.deepEqual(spinningConfig({ OFA_VE_ORT_SPINNING: '0' }), { intra_op: { allow_spinning: '0' }, force_spinning_stop: '0' });
  });
});
