import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerGpuMemorySampler } from '../../../main/telemetry/gpu-memory.ts';
import { ServiceMetrics } from '../../../main/telemetry/service-metrics.ts';

/** The `ofa_ve_gpu_memory_mb` lines of a scrape (HELP, TYPE and the sample). */
async function gpuLines(metrics: ServiceMetrics): Promise<string[]> {
  return (await metrics.registry.metrics()).split('\n').filter((line) => line.includes('ofa_ve_gpu_memory_mb'));
}

describe('ServiceMetrics GPU memory gauge', () => {
  let dir: string;
  let smi: string;
  const metrics = new ServiceMetrics({ appVersion: '0.0.0-gpu-test', defaultMetrics: false });
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-gpu-metrics-'));
    // Two worker processes on the GPU, as nvidia-smi lists them (pid, MiB).
    smi = path.join(dir, 'nvidia-smi');
    await writeFile(
      smi,
      '#!/bin/sh\ncase "$1" in\n  --query-compute-apps=*) printf "100, 1000\\n200, 2000\\n" ;;\n  *) echo 64000 ;;\nesac\n',
    );
    await chmod(smi, 0o755);
  });
  after(async () => {
    metrics.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is absent until enabled', async () => {
    assert.deepEqual(await gpuLines(metrics), []);
  });

  it('registers once, says what it measures, and samples the worker pid current at each scrape', async () => {
    let workerPid = 100;
    metrics.enableGpuMemory(workerGpuMemorySampler(() => workerPid, smi));
    metrics.enableGpuMemory(async () => 99_999); // a second enable keeps the first gauge
    const lines = await gpuLines(metrics);
    assert.equal(lines.filter((line) => line.startsWith('# TYPE ofa_ve_gpu_memory_mb gauge')).length, 1);
    assert.match(lines.join('\n'), /# HELP ofa_ve_gpu_memory_mb GPU memory used by the inference worker process/);
    assert.match(lines.join('\n'), /per-process figures/, 'the help text says when it is the device figure');
    assert.deepEqual(
      lines.filter((line) => !line.startsWith('#')),
      ['ofa_ve_gpu_memory_mb 1000'],
    );
    workerPid = 200; // the worker restarted under a new pid
    assert.deepEqual(
      (await gpuLines(metrics)).filter((line) => !line.startsWith('#')),
      ['ofa_ve_gpu_memory_mb 2000'],
    );
  });

  it('is gone from the scrape once disabled, and disabling twice is harmless', async () => {
    metrics.disableGpuMemory();
    metrics.disableGpuMemory();
    assert.deepEqual(await gpuLines(metrics), []);
    assert.equal(metrics.registry.getSingleMetric('ofa_ve_gpu_memory_mb'), undefined);
  });

  it('can be enabled again after being disabled (the worker found the GPU again)', async () => {
    metrics.enableGpuMemory(workerGpuMemorySampler(() => 100, smi));
    assert.deepEqual(
      (await gpuLines(metrics)).filter((line) => !line.startsWith('#')),
      ['ofa_ve_gpu_memory_mb 1000'],
    );
    metrics.disableGpuMemory();
    assert.deepEqual(await gpuLines(metrics), []);
  });
});
