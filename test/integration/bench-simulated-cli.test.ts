/**
 * `ofa-ve bench --simulate-accelerator 40 --concurrency 32 --json F` (issue 16's "done when"): the
 * report says it is simulated in its JSON and its text, gives QPS and the bound
 * min(accelerator capacity, preprocessing capacity), and the service under it chose one
 * preprocessing thread per core (--preprocess-workers auto: the device takes no CPU).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BenchReport } from '../../main/cli/bench-command.ts';
import { cli } from '../support/cli-in-process.ts';

describe('ofa-ve bench --simulate-accelerator', { timeout: 180_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-bench-simulated-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports simulated: true, QPS and the bound; the pool has one thread per core', async () => {
    const file = path.join(dir, 'bench.json');
    const load = ['--concurrency', '32', '--requests', '160', '--warmup', '1', '--duration', '1'];
    const { code, out, err } = await cli(['bench', '--simulate-accelerator', '40', ...load, '--json', file]);
    assert.equal(code, 0, err);
    const report = JSON.parse(await readFile(file, 'utf8')) as BenchReport;
    assert.equal(report.simulated, true);
    assert.deepEqual(report.simulated_accelerator, { ms_per_batch: 40, ms_per_pair: 0, label: report.simulated_accelerator?.label });
    assert.match(report.simulated_accelerator!.label, /simulated/i);
    assert.equal(report.preprocess_workers, os.availableParallelism());
    assert.equal(report.steps.length, 1);
    assert.equal(report.steps[0]!.errors, 0);
    const bound = report.bound!;
    assert.equal(bound.max_batch_size, 8);
    assert.equal(bound.accelerator_qps, 200, '8 pairs per 40 ms');
    assert.equal(bound.bound_qps, Math.min(bound.accelerator_qps, bound.preprocess_qps));
    assert.equal(bound.limited_by, bound.accelerator_qps <= bound.preprocess_qps ? 'accelerator' : 'preprocessing');
    assert.ok(report.qps! > 0, `QPS ${report.qps}`);
    // Nothing can beat the device: 8 pairs per 40 ms at most (a little slack for the step's clock).
    assert.ok(report.qps! <= bound.accelerator_qps * 1.05, `QPS ${report.qps} within the accelerator's ${bound.accelerator_qps}`);
    assert.equal(bound.qps_to_bound, report.qps! / bound.bound_qps);
    assert.match(out, /SIMULATED: /);
    assert.match(out, new RegExp(`${os.availableParallelism()} preprocessing workers`));
  });
});
