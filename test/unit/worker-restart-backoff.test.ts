import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RESTART_POLICY, restartDelayMs } from '../../main/service/inference-worker-host.ts';

describe('the worker restart backoff', () => {
  const policy = DEFAULT_RESTART_POLICY;

  it('starts at 0.1 s and doubles with each failure in a row, up to 5 s', () => {
    const middle = () => 0.5; // no jitter
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => restartDelayMs(n, policy, middle)),
      [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000],
    );
  });

  it('is jittered by a quarter either way, never past the longest delay', () => {
    assert.equal(
      restartDelayMs(1, policy, () => 0),
      75,
    );
    assert.equal(
      restartDelayMs(1, policy, () => 0.999999),
      125,
    );
    assert.equal(
      restartDelayMs(3, policy, () => 0),
      300,
    );
    assert.equal(
      restartDelayMs(10, policy, () => 0),
      3750,
    );
    assert.equal(
      restartDelayMs(10, policy, () => 0.999999),
      5000,
      'capped',
    );
  });

  it('gives a generous model load timeout by default (a real OFA-Large on CPU)', () => {
    assert.equal(policy.loadTimeoutMs, 120_000);
    assert.equal(policy.failuresBeforeGivingUp, 10);
  });
});
