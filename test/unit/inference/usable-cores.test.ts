/**
 * The cores a container may use: Node 20's os.availableParallelism reads the affinity mask only, so
 * a pod limited to 4 CPUs on a 96-core node would size its preprocessing pool for 96. The cgroup
 * files are given as a table here, in the layouts the kernel and the container runtimes write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupCpuQuota, defaultIntraOpThreads, physicalCores, usableCores, type ReadText } from '../../../main/inference/usable-cores.ts';

const files =
  (table: Record<string, string>): ReadText =>
  (file) =>
    table[file];

describe('usableCores', () => {
  it('cgroup v2 in its own namespace: cpu.max at the root, rounded down', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '250000 100000\n' });
    assert.equal(cgroupCpuQuota(read), 2.5);
    assert.equal(usableCores(read, 96), 2);
    assert.equal(defaultIntraOpThreads('cuda', read, 96), 2);
  });

  it('cgroup v2 without a quota ("max"): the affinity stands', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' });
    assert.equal(cgroupCpuQuota(read), undefined);
    assert.equal(usableCores(read, 96), 96);
    assert.equal(defaultIntraOpThreads('cuda', read, 96), 0);
  });

  it('cgroup v2 on the host: the smallest quota on the way up from the process cgroup binds', () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods.slice/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods.slice/pod1/ctr/cpu.max': 'max 100000',
      '/sys/fs/cgroup/kubepods.slice/pod1/cpu.max': '400000 100000',
      '/sys/fs/cgroup/kubepods.slice/cpu.max': '9600000 100000',
    });
    assert.equal(cgroupCpuQuota(read), 4);
    assert.equal(usableCores(read, 96), 4);
  });

  it('cgroup v1: cfs_quota_us over cfs_period_us of the cpu controller ("cpu,cpuacct" or "cpu"); -1 is none', () => {
    const v1 = (quota: string) =>
      files({
        '/proc/self/cgroup': '12:memory:/docker/abc\n4:cpu,cpuacct:/\n1:name=systemd:/docker/abc\n',
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': `${quota}\n`,
        '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      });
    assert.equal(usableCores(v1('150000'), 8), 1);
    assert.equal(usableCores(v1('-1'), 8), 8);
    const cpuOnly = files({
      '/proc/self/cgroup': '1:cpu:/\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
    assert.equal(usableCores(cpuOnly, 8), 3);
  });

  it('never more than the affinity allows, never fewer than one core', () => {
    const quota = (q: string) => files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': q });
    assert.equal(usableCores(quota('800000 100000'), 2), 2, 'a quota of 8 cores on 2 CPUs');
    assert.equal(usableCores(quota('50000 100000'), 4), 1, 'half a core');
  });

  it('no cgroup files (not Linux, or /proc not mounted): the affinity', () => {
    assert.equal(usableCores(files({}), 6), 6);
    assert.equal(usableCores(files({ '/proc/self/cgroup': 'garbage\n' }), 6), 6);
  });

  it('reads this machine without throwing', () => {
    const cores = usableCores();
    assert.ok(Number.isInteger(cores) && cores >= 1, String(cores));
  });
});

/** sysfs for `cpus` online CPUs, CPU i on core coreOf(i) of package 0. */
const sysfs = (cpus: number, coreOf: (cpu: number) => number, extra: Record<string, string> = {}): ReadText =>
  files({
    '/sys/devices/system/cpu/online': cpus === 1 ? '0\n' : `0-${cpus - 1}\n`,
    ...Object.fromEntries(
      Array.from({ length: cpus }, (_, i) => [
        [`/sys/devices/system/cpu/cpu${i}/topology/core_id`, `${coreOf(i)}\n`],
        [`/sys/devices/system/cpu/cpu${i}/topology/physical_package_id`, '0\n'],
      ]).flat(),
    ),
    ...extra,
  });

describe('defaultIntraOpThreads', () => {
  it('on the CPU, one thread per physical core: hyperthreads of a core count once', () => {
    assert.equal(physicalCores(sysfs(16, (i) => i % 8)), 8);
    assert.equal(
      defaultIntraOpThreads(
        'cpu',
        sysfs(16, (i) => i % 8),
        16,
      ),
      8,
    );
    // This project's VM: 2 CPUs on 2 cores, where onnxruntime left to itself ran one thread.
    assert.equal(
      defaultIntraOpThreads(
        'cpu',
        sysfs(2, (i) => i),
        2,
      ),
      2,
    );
  });

  it('never more than the affinity or a quota allows', () => {
    assert.equal(
      defaultIntraOpThreads(
        'cpu',
        sysfs(16, (i) => i % 8),
        3,
      ),
      3,
      'taskset to 3 CPUs',
    );
    const limited = sysfs(16, (i) => i % 8, { '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000' });
    assert.equal(defaultIntraOpThreads('cpu', limited, 16), 2);
  });

  it("onnxruntime's choice (0) where sysfs cannot tell, and with CUDA, unless a quota binds", () => {
    assert.equal(physicalCores(files({})), undefined);
    assert.equal(physicalCores(files({ '/sys/devices/system/cpu/online': '0-1\n' })), undefined, 'no topology files');
    assert.equal(physicalCores(files({ '/sys/devices/system/cpu/online': 'nonsense' })), undefined);
    assert.equal(defaultIntraOpThreads('cpu', files({}), 8), 0);
    assert.equal(
      defaultIntraOpThreads(
        'cuda',
        sysfs(16, (i) => i % 8),
        16,
      ),
      0,
    );
    const quota = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000' });
    assert.equal(defaultIntraOpThreads('cpu', quota, 8), 2);
    assert.equal(defaultIntraOpThreads('cuda', quota, 8), 2);
  });

  it('online lists with gaps parse; this machine reads without throwing', () => {
    const gaps = files({
      '/sys/devices/system/cpu/online': '0,2-3\n',
      ...Object.fromEntries(
        [0, 2, 3].flatMap((i) => [
          [`/sys/devices/system/cpu/cpu${i}/topology/core_id`, String(i)],
          [`/sys/devices/system/cpu/cpu${i}/topology/physical_package_id`, '0'],
        ]),
      ),
    });
    assert.equal(physicalCores(gaps), 3);
    const here = defaultIntraOpThreads('cpu');
    assert.ok(Number.isInteger(here) && here >= 0, String(here));
  });
});
