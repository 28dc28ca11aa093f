/**
 * One slice of the preprocessing pool's scaling measurement, in a process of its own so that the
 * parent can pin it to N cores (taskset): "N workers on N cores" then means what it says. In one
 * unpinned process a one-thread pool already uses more than a core (libvips decodes in libuv's
 * threads while the thread resizes), so "1 thread vs 2" on 2 cores compares 1.3 cores with 2.
 *
 *   taskset -c 0 node --single-threaded-gc --import tsx bench/pool-scaling-child.ts --threads 1 --seconds 5 [--model DIR]
 * (the inference worker's V8 flags, WORKER_EXEC_ARGV in main/service/inference-worker-host.ts: the
 * parent passes them, so that the pool is measured as the service runs it)
 * prints one JSON line: { threads, qps, cores_used, pairs }.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultModelDir } from '../main/config.ts';
import { PairPreparer } from '../main/inference/entailment-engine.ts';
import type { CheckPair } from '../preload/wire-types.ts';
import { PreprocessPool } from '../main/service/preprocess/preprocess-pool.ts';
import { generatedImageSet } from '../main/cli/bench/image-set.ts';

const { values } = parseArgs({
  options: { threads: { type: 'string', default: '1' }, seconds: { type: 'string', default: '5' }, model: { type: 'string' } },
});
const threads = Number(values.threads);
const seconds = Number(values.seconds);
const THREAD_SCRIPT = fileURLToPath(new URL('../main/service/inference-worker-bootstrap.mjs', import.meta.url));

const inputs: CheckPair[] = (await generatedImageSet()).map((p) => ({ image: p.image, text: p.text }));
const preparer = await PairPreparer.load(values.model ?? defaultModelDir());
const pool = await PreprocessPool.start(threads, preparer.source, {
  script: THREAD_SCRIPT,
  takeImages: false,
  onFatal: (err) => process.stderr.write(`pool: ${err.message}\n`),
});

/** Closed loop, 4 pairs per thread in flight, each into its own row buffer (as a batch tensor's rows). */
async function loop(ms: number): Promise<number> {
  const outs = Array.from({ length: 4 * threads }, () => new Float32Array(preparer.pixelsPerPair));
  let done = 0;
  let cursor = 0;
  const deadline = performance.now() + ms;
  await Promise.all(
    outs.map(async (out) => {
      while (performance.now() < deadline) {
        await pool.prepare(inputs[cursor++ % inputs.length] as CheckPair, { out, offset: 0 });
        done += 1;
      }
    }),
  );
  return done;
}

await loop(1500); // warm-up: JIT in every thread, libvips caches
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const pairs = await loop(seconds * 1000);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await pool.close();
process.stdout.write(`${JSON.stringify({ threads, qps: pairs / wall, cores_used: (cpu.user + cpu.system) / 1e6 / wall, pairs })}\n`);
