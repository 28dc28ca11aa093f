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
    a.release();
    a.release(); // a second release frees nothing more
    assert.equal(budget.counts.reserved, 40);
    assert.ok(budget.reserve(60), 'room again once released');
    assert.deepEqual(budget.counts, { reserved: 100, peak: 100, refusals: 1 });
  });

  it('always admits one upload on an empty budget, whatever its size', () => {
    const budget = new UploadBudget(10);
    assert.ok(budget.reserve(1000));
    assert.equal(budget.reserve(1), undefined);
  });

  it('grows a reservation while the rest fits, keeps what it held when it does not, and releases all of it', () => {
    const budget = new UploadBudget(100);
    const chunked = budget.reserve(10);
    const other = budget.reserve(30);
    assert.ok(chunked && other);
    assert.ok(chunked.growTo(50));
    assert.ok(chunked.growTo(20), 'never shrinks');
    assert.equal(chunked.bytes, 50);
    assert.equal(budget.counts.reserved, 80);
    assert.equal(chunked.growTo(71), false, '71 + 30 is over 100');
    assert.equal(chunked.bytes, 50);
    assert.deepEqual(budget.counts, { reserved: 80, peak: 80, refusals: 1 });
    assert.ok(chunked.growTo(70), 'exactly the budget fits');
    chunked.release();
    assert.equal(chunked.growTo(90), true, 'a released reservation takes nothing');
    assert.equal(budget.counts.reserved, 30);
    other.release();
    assert.deepEqual(budget.counts, { reserved: 0, peak: 100, refusals: 1 });
  });

  it('lets the only upload grow past the budget (within the body limit), as it admits one of any size', () => {
    const budget = new UploadBudget(100);
    const alone = budget.reserve(10);
    assert.ok(alone);
    assert.ok(alone.growTo(500));
    assert.equal(budget.reserve(1), undefined);
    alone.release();
    assert.equal(budget.counts.reserved, 0);
  });

  it('defaults to 128 MiB, or two bodies of the largest size', () => {
    assert.equal(defaultUploadBudgetBytes(20 * 1024 * 1024), 128 * 1024 * 1024);
    assert.equal(defaultUploadBudgetBytes(100 * 1024 * 1024), 200 * 1024 * 1024);
  });
});
