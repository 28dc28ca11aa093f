import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerGpuMemorySampler } from '../../../main/telemetry/gpu-memory.ts';
import { ServiceMetrics } from '../../../main/telemetry/service-metrics.ts';

/** The `ofa_ve_gpu_memory_mb` lines of a scrape (HELP, TYPE and the samples). */
async function gpuLines(metrics: ServiceMetrics): Promise<string[]> {
  return (await metrics.registry.metrics()).split('\n').filter((line) => line.includes('ofa_ve_gpu_memory_mb'));
}

/** The `ofa_ve_gpu_memory_mb` samples of a scrape (no HELP or TYPE). */
async function gpuSamples(metrics: ServiceMetrics): Promise<string[]> {
  return (await gpuLines(metrics)).filter((line) => !line.startsWith('#'));
}

describe('ServiceMetrics GPU memory gauge', () => {
  let dir: string;
  let smi: string;
  const metrics = new ServiceMetrics({ appVersion: '0.0.0-gpu-test', defaultMetrics: false });
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-gpu-metrics-'));
    // Two worker processes on the GPU, as nvidia-smi lists them (pid, MiB); it fails (as with a lost
    // driver) while a file `<script>.broken` exists.
    smi = path.join(dir, 'nvidia-smi');
    await writeFile(
      smi,
      '#!/bin/sh\n[ -e "$0.broken" ] && exit 9\n' +
        'case "$1" in\n  --query-compute-apps=*) printf "100, 1000\\n200, 2000\\n" ;;\n  *) echo 64000 ;;\nesac\n',
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

  it('registers once, says what it measures and what its scope label means, and samples the worker pid current at each scrape', async () => {
    let workerPid = 100;
    metrics.enableGpuMemory(workerGpuMemorySampler(() => workerPid, smi));
    metrics.enableGpuMemory(async () => ({ mb: 99_999, scope: 'device' })); // a second enable keeps the first gauge
    const lines = await gpuLines(metrics);
    assert.equal(lines.filter((line) => line.startsWith('# TYPE ofa_ve_gpu_memory_mb gauge')).length, 1);
    assert.match(lines.join('\n'), /# HELP ofa_ve_gpu_memory_mb GPU memory used by the inference worker process/);
    assert.match(lines.join('\n'), /per-process figures/, 'the help text says when it is the device figure');
    assert.match(lines.join('\n'), /scope="process".*scope="device"/, 'the help text explains the scope label');
    assert.deepEqual(
      lines.filter((line) => !line.startsWith('#')),
      ['ofa_ve_gpu_memory_mb{scope="process"} 1000'],
    );
    workerPid = 200; // the worker restarted under a new pid
    assert.deepEqual(await gpuSamples(metrics), ['ofa_ve_gpu_memory_mb{scope="process"} 2000']);
    workerPid = 300; // nvidia-smi lists no row for it (a container's hidden or host pids)
    assert.deepEqual(
      await gpuSamples(metrics),
      ['ofa_ve_gpu_memory_mb{scope="device"} 64000'],
      "the whole device's figure, labelled as such, and no leftover process series",
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
    assert.deepEqual(await gpuSamples(metrics), ['ofa_ve_gpu_memory_mb{scope="process"} 1000']);
    metrics.disableGpuMemory();
    assert.deepEqual(await gpuLines(metrics), []);
  });

  it('exports no sample, never 0, where nvidia-smi is absent (slim CUDA runtime images)', async () => {
    metrics.enableGpuMemory(workerGpuMemorySampler(() => 100, path.join(dir, 'no-such-nvidia-smi')));
    try {
      assert.deepEqual(await gpuSamples(metrics), []);
      assert.doesNotMatch(await metrics.registry.metrics(), /^ofa_ve_gpu_memory_mb[{ ]/m);
    } finally {
      metrics.disableGpuMemory();
    }
  });

  it('drops the last figure once nvidia-smi starts failing, and samples again once it answers', async () => {
    metrics.enableGpuMemory(workerGpuMemorySampler(() => 100, smi));
    try {
      assert.deepEqual(await gpuSamples(metrics), ['ofa_ve_gpu_memory_mb{scope="process"} 1000']);
      await writeFile(`${smi}.broken`, '');
      assert.deepEqual(await gpuSamples(metrics), [], 'no stale 1000 and no 0');
      await rm(`${smi}.broken`);
      assert.deepEqual(await gpuSamples(metrics), ['ofa_ve_gpu_memory_mb{scope="process"} 1000']);
    } finally {
      metrics.disableGpuMemory();
    }
  });

  it('exports no sample while no worker is ready (after a crash, while a replacement loads its model)', async () => {
    // As the service wires it: the worker's pid only while it is ready.
    const worker = { isReady: true, pid: 100 as number | undefined };
    metrics.enableGpuMemory(workerGpuMemorySampler(() => (worker.isReady ? worker.pid : undefined), smi));
    try {
      assert.deepEqual(await gpuSamples(metrics), ['ofa_ve_gpu_memory_mb{scope="process"} 1000']);
      worker.isReady = false; // crashed: the dead worker's figure must not stand
      assert.deepEqual(await gpuSamples(metrics), []);
      worker.pid = 200; // the replacement is forked but still loading: not the device figure either
      assert.deepEqual(await gpuSamples(metrics), []);
      worker.isReady = true;
      assert.deepEqual(await gpuSamples(metrics), ['ofa_ve_gpu_memory_mb{scope="process"} 2000']);
    } finally {
      metrics.disableGpuMemory();
    }
  });
});
