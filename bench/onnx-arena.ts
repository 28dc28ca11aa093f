/**
 * What onnxruntime's CPU memory arena costs and buys: the inference worker's RSS is mostly the
 * arena's high-water mark (it keeps the largest batch's activations), so this measures RSS after
 * 60 runs of batch 1..max with the arena on and off (each in a fresh process), and ms per pair at
 * batch 1 and 8 with both sessions in one process, runs alternating.
 *   node --import tsx bench/onnx-arena.ts [--max-batch 16] [--json FILE]
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { median } from '../main/cli/bench/bench-stats.ts';
import { defaultModelDir } from '../main/config.ts';
import { syntheticFeeds } from './synthetic-feeds.ts';

const { values } = parseArgs({
  options: { 'max-batch': { type: 'string', default: '16' }, json: { type: 'string' }, 'rss-child': { type: 'string' } },
});
const MAX_BATCH = Number(values['max-batch']);
const model = path.join(defaultModelDir(), 'model.onnx');
const options = (arena: boolean): ort.InferenceSession.SessionOptions => ({
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
  enableCpuMemArena: arena,
});
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

if (values['rss-child'] !== undefined) {
  // Child: one session, 60 runs cycling batch 1..max and caption lengths 14..24, then its RSS.
  const session = await ort.InferenceSession.create(model, options(values['rss-child'] === 'on'));
  const afterLoad = rssMiB();
  for (let i = 0; i < 60; i++) await session.run(syntheticFeeds(1 + (i % MAX_BATCH), 14 + (i % 11)));
  console.log(JSON.stringify({ after_load_mib: afterLoad, after_runs_mib: rssMiB() }));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const rss = (mode: 'on' | 'off') => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--rss-child', mode, '--max-batch', String(MAX_BATCH)], {
    encoding: 'utf8',
  });
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { after_load_mib: number; after_runs_mib: number };
};
const memory = { arena: rss('on'), no_arena: rss('off') };

const withArena = await ort.InferenceSession.create(model, options(true));
const without = await ort.InferenceSession.create(model, options(false));
const speed: { batch: number; arena_ms_per_pair: number; no_arena_ms_per_pair: number }[] = [];
for (const n of [1, 8]) {
  const feeds = syntheticFeeds(n, 20);
  await withArena.run(feeds);
  await without.run(feeds);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < (n === 1 ? 40 : 12); i++) {
    let t0 = performance.now();
    await withArena.run(feeds);
    a.push((performance.now() - t0) / n);
    t0 = performance.now();
    await without.run(feeds);
    b.push((performance.now() - t0) / n);
  }
  speed.push({ batch: n, arena_ms_per_pair: median(a)!, no_arena_ms_per_pair: median(b)! });
}
await withArena.release();
await without.release();

console.log(
  `RSS after 60 runs of batch 1..${MAX_BATCH}: arena on ${memory.arena.after_runs_mib.toFixed(0)} MiB, off ${memory.no_arena.after_runs_mib.toFixed(0)} MiB (after load: ${memory.arena.after_load_mib.toFixed(0)} / ${memory.no_arena.after_load_mib.toFixed(0)} MiB)`,
);
for (const s of speed)
  console.log(
    `batch ${s.batch}: ${s.arena_ms_per_pair.toFixed(2)} ms per pair with the arena, ${s.no_arena_ms_per_pair.toFixed(2)} without (x${(s.no_arena_ms_per_pair / s.arena_ms_per_pair).toFixed(2)})`,
  );
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/onnx-arena.ts --max-batch ${MAX_BATCH}`,
  max_batch: MAX_BATCH,
  memory,
  speed,
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
