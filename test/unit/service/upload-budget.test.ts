/** main/service/upload-budget.ts: the bytes of check bodies (HTTP) or images (IPC) held at once. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultUploadBudgetBytes, UploadBudget } from '../../../main/service/upload-budget.ts';

describe('UploadBudget', () => {
  it('admits what fits, refuses the rest until bytes are released, and counts both', () => {
    const budget = new UploadBudget(100);
    const a = budget.reserve(60);
    assert.ok(a);
    assert.equal(budget.reserve(50), undefined, '60 + 50 is over 100');
    const b = budget.reserve(40);
    assert.ok(b);
    a();
    a(); // a second release frees nothing more
    assert.equal(budget.counts.reserved, 40);
    assert.ok(budget.reserve(60), 'room again once released');
    assert.deepEqual(budget.counts, { reserved: 100, peak: 100, refusals: 1 });
  });

  it('always admits one upload on an empty budget, whatever its size', () => {
    const budget = new UploadBudget(10);
    assert.ok(budget.reserve(1000));
    assert.equal(budget.reserve(1), undefined);
  });

  it('defaults to 128 MiB, or two bodies of the largest size', () => {
    assert.equal(defaultUploadBudgetBytes(20 * 1024 * 1024), 128 * 1024 * 1024);
    assert.equal(defaultUploadBudgetBytes(100 * 1024 * 1024), 200 * 1024 * 1024);
  });
});
