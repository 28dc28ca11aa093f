import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  mostPreprocessThreads,
  parsePreprocessWorkers,
  preprocessThreads,
  preprocessThreadsBeforeSession,
  type ModelPlacement,
} from '../../../main/service/preprocess/preprocess-plan.ts';

const on = (provider: ModelPlacement['provider'], simulated = false, cudaInstalled = true): ModelPlacement => ({
  provider,
  simulated,
  cudaInstalled,
  cores: 16,
});

describe('the preprocessing plan', () => {
  it("'auto': one thread per core when the model runs off the CPU, the serial design on it", () => {
    assert.equal(preprocessThreads('auto', false, 16), 16);
    assert.equal(preprocessThreads('auto', true, 16), 0);
  });

  it('a number is taken as it is, wherever the model runs', () => {
    for (const onCpu of [true, false]) {
      assert.equal(preprocessThreads(3, onCpu, 16), 3);
      assert.equal(preprocessThreads(0, onCpu, 16), 0);
    }
    assert.equal(preprocessThreadsBeforeSession(5, on('auto')), 5);
    assert.equal(mostPreprocessThreads(0, on('cuda')), 0);
  });

  it("'auto' is known before the session opens for cpu, cuda and the simulated accelerator, not for provider auto", () => {
    assert.equal(preprocessThreadsBeforeSession('auto', on('cpu')), 0);
    assert.equal(preprocessThreadsBeforeSession('auto', on('cpu', true)), 16);
    assert.equal(preprocessThreadsBeforeSession('auto', on('auto', true)), 16);
    // cuda runs on the GPU or fails to load (onnx-session.ts): never on the CPU.
    assert.equal(preprocessThreadsBeforeSession('auto', on('cuda')), 16);
    // auto with CUDA installed may still fall back to the CPU: only the open session can tell.
    assert.equal(preprocessThreadsBeforeSession('auto', on('auto')), undefined);
    // Without onnxruntime's CUDA provider, auto is the CPU: known at once (libuv keeps its default).
    assert.equal(preprocessThreadsBeforeSession('auto', on('auto', false, false)), 0);
    assert.equal(mostPreprocessThreads('auto', on('auto', false, false)), 0);
    assert.equal(preprocessThreadsBeforeSession('auto', on('auto', true, false)), 16, 'the simulated device needs no CUDA');
  });

  it("the worker's libuv pool is sized for the most threads the plan can give", () => {
    assert.equal(mostPreprocessThreads('auto', on('auto')), 16);
    assert.equal(mostPreprocessThreads('auto', on('cpu')), 0);
    assert.equal(mostPreprocessThreads('auto', on('cpu', true)), 16);
  });

  it("parses 'auto' and whole numbers >= 0, and nothing else", () => {
    assert.equal(parsePreprocessWorkers('auto'), 'auto');
    assert.equal(parsePreprocessWorkers('0'), 0);
    assert.equal(parsePreprocessWorkers('12'), 12);
    assert.equal(parsePreprocessWorkers(4), 4);
    for (const bad of ['', ' ', '-1', '1.5', 'AUTO', 'two', '1e400', 'NaN', -2, 0.5, Number.NaN]) {
      assert.equal(parsePreprocessWorkers(bad), undefined, JSON.stringify(bad));
    }
  });
});
