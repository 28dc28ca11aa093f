import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerEnv } from '../../../main/service/inference-worker-host.ts';

describe('the inference worker process environment', () => {
  it('one libuv thread per preprocessing thread, the rest of the environment kept', () => {
    const env = workerEnv(16, { PATH: '/usr/bin', OFA_VE_TOKEN: 't' });
    assert.deepEqual(env, { PATH: '/usr/bin', OFA_VE_TOKEN: 't', UV_THREADPOOL_SIZE: '16' });
  });

  it('the serial design (0 threads) and a size the user chose are left as they are', () => {
    const given = { PATH: '/usr/bin' };
    assert.equal(workerEnv(0, given), given);
    assert.deepEqual(workerEnv(8, { UV_THREADPOOL_SIZE: '3' }), { UV_THREADPOOL_SIZE: '3' });
  });

  it('libuv caps its pool at 1024 threads', () => {
    assert.equal(workerEnv(5000, {}).UV_THREADPOOL_SIZE, '1024');
  });
});
