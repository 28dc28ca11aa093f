import { execFile } from 'node:child_process';

const NVIDIA_SMI_TIMEOUT_MS = 2000;

/** Runs nvidia-smi with `args`; its stdout, or undefined when it is absent, fails or hangs. */
function runNvidiaSmi(command: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: NVIDIA_SMI_TIMEOUT_MS }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

/** Non-empty CSV rows of nvidia-smi's `--format=csv,noheader,nounits` output, fields trimmed. */
function csvRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(',').map((field) => field.trim()));
}

/** A MiB figure, or undefined for anything that is not one ('[N/A]', '[Not Supported]', garbage). */
function mib(field: string | undefined): number | undefined {
  if (field === undefined || !/^\d+(\.\d+)?$/.test(field)) return undefined;
  return Number(field);
}

/**
 * What a GPU memory figure measures: `process`, the worker process's own compute-app rows; `device`,
 * the whole device's used memory (all devices summed), where nvidia-smi lists no figure for that pid.
 */
export type GpuMemoryScope = 'process' | 'device';

export interface GpuMemorySample {
  readonly mb: number;
  readonly scope: GpuMemoryScope;
}

/**
 * GPU memory used by process `pid`, in MiB, from nvidia-smi (onnxruntime-node exposes no allocator
 * statistics): the sum of its compute-app rows (one per device it uses), scope `process`. Falls back
 * to the whole device's used memory (all devices summed), scope `device`, when nvidia-smi lists no
 * figure for that pid, as inside containers, where it hides per-process figures or shows host pids.
 * Undefined when nvidia-smi is absent (slim CUDA runtime images), fails or prints no figure: no
 * sample, never a made-up 0. `command` is the nvidia-smi to run (tests point it at a script).
 */
export async function sampleGpuMemoryMb(pid: number, command = 'nvidia-smi'): Promise<GpuMemorySample | undefined> {
  const apps = await runNvidiaSmi(command, ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits']);
  if (apps === undefined) return undefined;
  let own = 0;
  for (const [rowPid, used] of csvRows(apps)) {
    const mb = mib(used);
    if (Number(rowPid) === pid && mb !== undefined) own += mb;
  }
  if (own > 0) return { mb: own, scope: 'process' };
  const devices = await runNvidiaSmi(command, ['--query-gpu=memory.used', '--format=csv,noheader,nounits']);
  if (devices === undefined) return undefined;
  const figures = csvRows(devices).map(([used]) => mib(used));
  if (figures.length === 0 || figures.some((mb) => mb === undefined)) return undefined;
  return { mb: figures.reduce((sum: number, mb) => sum + (mb as number), 0), scope: 'device' };
}

/**
 * A sampler for `ofa_ve_gpu_memory_mb` that measures whichever process `workerPid` names when the
 * metric is collected: the inference worker runs the model, and a restart or model swap gives it a
 * new pid. `workerPid` returns undefined while no worker is ready (crashed, or a replacement still
 * loading its model): then no sample, so neither the dead worker's figure nor the device's stands in.
 */
export function workerGpuMemorySampler(
  workerPid: () => number | undefined,
  command = 'nvidia-smi',
): () => Promise<GpuMemorySample | undefined> {
  return async () => {
    const pid = workerPid();
    return pid === undefined ? undefined : sampleGpuMemoryMb(pid, command);
  };
}
