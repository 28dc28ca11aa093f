import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Provider } from './provider-choice.ts';

/** Reads a file as text, undefined where it does not exist or cannot be read. */
export type ReadText = (file: string) => string | undefined;

const readText: ReadText = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The CPU quota of this process's cgroup and its parents, in cores (2.5 for `docker run --cpus 2.5`
 * or a Kubernetes `limits.cpu: 2500m`); undefined without one. cgroup v2 reads cpu.max ("QUOTA
 * PERIOD" or "max PERIOD") along the path /proc/self/cgroup names; v1 reads cpu.cfs_quota_us (-1:
 * none) and cpu.cfs_period_us of the cpu controller's path. The smallest quota on the way to the
 * root is the one that binds.
 */
export function cgroupCpuQuota(read: ReadText = readText, root = '/sys/fs/cgroup'): number | undefined {
  const membership = read('/proc/self/cgroup');
  if (membership === undefined) return undefined;
  const quotas: number[] = [];
  for (const line of membership.split('\n')) {
    // "0::/path" is v2; "N:cpu,cpuacct:/path" is v1's cpu controller.
    const match = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    if (!match) continue;
    const controllers = (match[1] as string).split(',');
    const v2 = match[1] === '';
    if (!v2 && !controllers.includes('cpu')) continue;
    // v1 mounts the controller as "cpu,cpuacct" with "cpu" a link to it, or as "cpu" alone.
    const bases = v2 ? [root] : [...new Set([`${root}/${controllers.join(',')}`, `${root}/cpu`])];
    for (const base of bases) {
      for (const dir of ancestors(match[2] as string)) {
        const quota = v2
          ? quotaV2(read(`${base}${dir}/cpu.max`))
          : quotaV1(read(`${base}${dir}/cpu.cfs_quota_us`), read(`${base}${dir}/cpu.cfs_period_us`));
        if (quota !== undefined) quotas.push(quota);
      }
    }
  }
  return quotas.length > 0 ? Math.min(...quotas) : undefined;
}

/** "/a/b" → "/a/b", "/a", "" (the controller's root). */
function ancestors(cgroupPath: string): string[] {
  const parts = cgroupPath.split('/').filter((p) => p !== '');
  return Array.from({ length: parts.length + 1 }, (_, i) => (i === parts.length ? '' : `/${parts.slice(0, parts.length - i).join('/')}`));
}

function quotaV2(text: string | undefined): number | undefined {
  const [quota, period] = (text ?? '').trim().split(/\s+/);
  return quotaCores(Number(quota), Number(period));
}

function quotaV1(quota: string | undefined, period: string | undefined): number | undefined {
  return quotaCores(Number(quota?.trim()), Number(period?.trim()));
}

/** Quota over period, where both are positive numbers ("max" and -1 are no quota). */
function quotaCores(quota: number, period: number): number | undefined {
  return Number.isFinite(quota) && Number.isFinite(period) && quota > 0 && period > 0 ? quota / period : undefined;
}

/**
 * The cores this process can use: the CPUs its affinity allows (os.availableParallelism, which on
 * Node 20's libuv ignores a quota) bounded by its cgroup's CPU quota, rounded down and at least 1.
 * Sizing a thread pool by the host's cores in a container limited to 4 of 96 gives 96 threads that
 * share 4 cores' time, each with its own buffers.
 */
export function usableCores(read: ReadText = readText, affinity = os.availableParallelism()): number {
  const quota = cgroupCpuQuota(read);
  return quota === undefined ? affinity : Math.max(1, Math.min(affinity, Math.floor(quota)));
}

/** "0-3,8,10-11" (a kernel CPU list) → [0, 1, 2, 3, 8, 10, 11]; undefined when it does not parse. */
function cpuList(text: string): number[] | undefined {
  const ids: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (to < from || to - from > 4096) return undefined;
    for (let id = from; id <= to; id++) ids.push(id);
  }
  return ids;
}

/**
 * Physical cores of the online CPUs (distinct package and core ids in Linux's sysfs): what
 * onnxruntime means to use, as hyperthreads of one core share its arithmetic units. Undefined
 * where sysfs cannot tell (not Linux, or the files are missing).
 */
export function physicalCores(read: ReadText = readText, root = '/sys/devices/system/cpu'): number | undefined {
  const online = read(`${root}/online`);
  const ids = online === undefined ? undefined : cpuList(online);
  if (!ids || ids.length === 0) return undefined;
  const cores = new Set<string>();
  for (const id of ids) {
    const core = read(`${root}/cpu${id}/topology/core_id`);
    const pkg = read(`${root}/cpu${id}/topology/physical_package_id`);
    if (core === undefined || pkg === undefined) return undefined;
    cores.add(`${pkg.trim()}:${core.trim()}`);
  }
  return cores.size;
}

/**
 * onnxruntime's intra-op threads where `--intra-op-threads` is not given. On the CPU one per
 * physical core it may use (physicalCores bounded by usableCores). Left to itself (0), onnxruntime
 * means the same, but on this project's 2-core VM it ran one thread, and with 2 OFA's architecture
 * ran a batch of 4 in 2005-2135 ms per pair against 2644-2710 ms with 0 or 1 (BENCHMARKS.md, OFA's
 * architecture, session options, 2026-12-02); it reads no cgroup quota either. Where sysfs cannot
 * tell the physical cores, and with CUDA (the few operators left on the CPU), onnxruntime's choice
 * (0) stands, bounded by a quota where one binds.
 */
export function defaultIntraOpThreads(provider: Provider, read: ReadText = readText, affinity = os.availableParallelism()): number {
  const cores = usableCores(read, affinity);
  const physical = provider === 'cpu' ? physicalCores(read) : undefined;
  if (physical !== undefined) return Math.max(1, Math.min(cores, physical));
  return cores < affinity ? cores : 0;
}
