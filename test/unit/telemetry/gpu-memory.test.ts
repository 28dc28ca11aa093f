import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sampleGpuMemoryMb, workerGpuMemorySampler } from '../../../main/telemetry/gpu-memory.ts';

/**
 * A stand-in nvidia-smi: a shell script that prints `apps` for `--query-compute-apps=...` and
 * `devices` for `--query-gpu=...` (each as-is), or exits with `exitCode` without printing.
 */
async function fakeNvidiaSmi(dir: string, name: string, script: { apps?: string; devices?: string; exitCode?: number }): Promise<string> {
  const file = path.join(dir, name);
  const body = script.exitCode
    ? `echo "NVIDIA-SMI has failed" >&2\nexit ${script.exitCode}\n`
    : [
        'case "$1" in',
        `  --query-compute-apps=pid,used_memory) cat <<'APPS'\n${script.apps ?? ''}\nAPPS\n  ;;`,
        `  --query-gpu=memory.used) cat <<'DEVICES'\n${script.devices ?? ''}\nDEVICES\n  ;;`,
        '  *) echo "unexpected arguments: $*" >&2; exit 2 ;;',
        'esac',
        '',
      ].join('\n');
  await writeFile(file, `#!/bin/sh\n${body}`);
  await chmod(file, 0o755);
  return file;
}

describe('sampleGpuMemoryMb', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-gpu-memory-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("sums the given process's rows (one per device it uses)", async () => {
    const smi = await fakeNvidiaSmi(dir, 'two-rows', { apps: '4242, 1500\n777, 9000\n4242, 250', devices: '20000' });
    assert.deepEqual(await sampleGpuMemoryMb(4242, smi), { mb: 1750, scope: 'process' });
  });

  it("ignores other processes' rows and falls back to the devices' used memory", async () => {
    const smi = await fakeNvidiaSmi(dir, 'other-pid', { apps: '777, 9000\n778, 100', devices: '12000\n3000' });
    assert.deepEqual(await sampleGpuMemoryMb(4242, smi), { mb: 15000, scope: 'device' });
  });

  it('falls back to the device figure where per-process figures are hidden', async () => {
    const smi = await fakeNvidiaSmi(dir, 'hidden', { apps: '4242, [N/A]', devices: '8100' });
    assert.deepEqual(await sampleGpuMemoryMb(4242, smi), { mb: 8100, scope: 'device' });
  });

  it('is undefined when nvidia-smi fails or is absent', async () => {
    const failing = await fakeNvidiaSmi(dir, 'failing', { exitCode: 1 });
    assert.equal(await sampleGpuMemoryMb(4242, failing), undefined);
    assert.equal(await sampleGpuMemoryMb(4242, path.join(dir, 'no-such-nvidia-smi')), undefined);
  });

  it('is undefined, not NaN, for output that holds no figure', async () => {
    const garbage = await fakeNvidiaSmi(dir, 'garbage', { apps: 'No devices were found', devices: 'No devices were found' });
    assert.equal(await sampleGpuMemoryMb(4242, garbage), undefined);
    const empty = await fakeNvidiaSmi(dir, 'empty', { apps: '', devices: '' });
    assert.equal(await sampleGpuMemoryMb(4242, empty), undefined, 'no devices listed is not 0 MiB');
    const partly = await fakeNvidiaSmi(dir, 'partly', { apps: '', devices: '5000\n[Not Supported]' });
    assert.equal(await sampleGpuMemoryMb(4242, partly), undefined, 'a device without a figure makes the total unknown');
  });
});

describe('workerGpuMemorySampler', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-gpu-sampler-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('samples the pid current at each call, and nothing while no worker runs', async () => {
    const smi = await fakeNvidiaSmi(dir, 'workers', { apps: '100, 1000\n200, 2000', devices: '50000' });
    let pid: number | undefined = 100;
    const sample = workerGpuMemorySampler(() => pid, smi);
    assert.deepEqual(await sample(), { mb: 1000, scope: 'process' });
    pid = 200; // the worker restarted
    assert.deepEqual(await sample(), { mb: 2000, scope: 'process' });
    pid = undefined; // between a crash and its replacement, or while the replacement loads its model
    assert.equal(await sample(), undefined, 'no worker ready: not the device figure either');
  });
});
