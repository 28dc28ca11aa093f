import { execFile } from 'node:child_process';

/**
 * GPU memory used by this process, in MiB, from nvidia-smi (onnxruntime-node exposes no allocator
 * statistics). Falls back to the whole device's used memory when per-process figures are hidden,
 * as they are inside some containers. Undefined when nvidia-smi is absent or fails.
 */
export function sampleGpuMemoryMb(pid = process.pid): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'], { timeout: 2000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const rows = stdout
        .trim()
        .split('\n')
        .map((line) => line.split(',').map((s) => s.trim()));
      const own = rows.filter(([p]) => Number(p) === pid).reduce((sum, [, mb]) => sum + Number(mb), 0);
      if (own > 0) return resolve(own);
      execFile('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { timeout: 2000 }, (err2, out2) => {
        if (err2) return resolve(undefined);
        const used = out2
          .trim()
          .split('\n')
          .reduce((sum, line) => sum + Number(line.trim()), 0);
        resolve(Number.isFinite(used) ? used : undefined);
      });
    });
  });
}
