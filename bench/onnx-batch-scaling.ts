/**
 * How session.run alone scales with batch size on this machine, and whether a new input shape
 * (another caption length) costs a re-plan: the question behind "batching never loses more than 5%
 * to batch 1". Synthetic inputs of the model's real shapes, no preprocessing, rounds interleaved
 * (every batch size and both shape modes once per round), medians per pair.
 *   node --import tsx bench/onnx-batch-scaling.ts [--rounds 12] [--json FILE]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { median } from '../main/cli/bench/bench-stats.ts';
import { defaultModelDir } from '../main/config.ts';
import { syntheticFeeds } from './synthetic-feeds.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '12' }, json: { type: 'string' } } });
const ROUNDS = Number(values.rounds);
const BATCHES = [1, 2, 4, 8, 16];
const SIZE = 480;
const FIXED_LENGTH = 20;

const feeds = (n: number, length: number) => syntheticFeeds(n, length, SIZE);

const session = await ort.InferenceSession.create(path.join(defaultModelDir(), 'model.onnx'), {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
});
const perPair: Record<string, number[]> = {};
const record = (key: string, ms: number) => (perPair[key] ??= []).push(ms);
for (const n of BATCHES) await session.run(feeds(n, FIXED_LENGTH)); // warm every shape once

for (let round = 0; round < ROUNDS; round++) {
  for (const n of round % 2 === 0 ? BATCHES : [...BATCHES].reverse()) {
    const fixed = feeds(n, FIXED_LENGTH);
    let t0 = performance.now();
    await session.run(fixed);
    record(`fixed ${n}`, (performance.now() - t0) / n);
    // A caption length not seen before in this round: 14..26 tokens, changing every run.
    const varying = feeds(n, 14 + ((round * 5 + n) % 13));
    t0 = performance.now();
    await session.run(varying);
    record(`varying ${n}`, (performance.now() - t0) / n);
  }
}
await session.release();

const rows = BATCHES.map((n) => ({
  batch: n,
  fixed_ms_per_pair: median(perPair[`fixed ${n}`]!)!,
  varying_ms_per_pair: median(perPair[`varying ${n}`]!)!,
}));
const base = rows[0]!.fixed_ms_per_pair;
console.log('| batch | ms per pair (fixed length) | ms per pair (new length each run) | per-pair cost vs batch 1 |');
console.log('|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.batch} | ${r.fixed_ms_per_pair.toFixed(2)} | ${r.varying_ms_per_pair.toFixed(2)} | ${(r.fixed_ms_per_pair / base).toFixed(3)} |`,
  );
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/onnx-batch-scaling.ts --rounds ${ROUNDS}`,
  rounds: ROUNDS,
  rows,
};
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
