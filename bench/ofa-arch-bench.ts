/**
 * The engine at OFA's real architecture: OFA's own OFAModel at OFA-tiny's sizes (d_model 256, 4+4 layers,
 * 4 heads, ResNet-50 stem, 59457-token vocabulary; 33.5M parameters) with seeded random weights, exported
 * at 480×480 by models/tools/export_ofa.py (bench/ofa-arch-export.ts; generated into a git-ignored cache,
 * ~30 s the first time). The demo model is ~60x smaller, so its figures say little about a real model.
 *   node --import tsx bench/ofa-arch-bench.ts [--rounds 3] [--json FILE] [--cache DIR]
 * Measures, every figure a median over rounds taken in alternating (rotating) order, each timed call
 * after a 50 ms pause (with spinning on, onnxruntime's pool threads spin for a while after a run):
 *   - the engine's stages per pair (decode/resize, tokenize, inference, postprocess), with the demo
 *     model's inference in the same rounds;
 *   - engine throughput by batch size (1, 2, 4, 8; captions of different lengths, so padded);
 *   - onnxruntime's CPU session options, one changed at a time from the engine's;
 *   - PyTorch eager (OFA's forward, bench/ofa-arch-torch.py) vs onnxruntime at 1 and 2 threads;
 *   - worker RSS with the CPU arena on and off (fresh process each).
 * Needs ../shared/ofa-port and Debian's python3-torch (as the parity test); says so and exits 0 without them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { defaultModelDir } from '../main/config.ts';
import { EntailmentEngine, type PreparedPair } from '../main/inference/entailment-engine.ts';
import { spinningConfig } from '../main/inference/onnx-session.ts';
import { defaultIntraOpThreads } from '../main/inference/usable-cores.ts';
import { LABELS } from '../preload/wire-types.ts';
import type { EntailmentResult } from '../main/inference/entailment-types.ts';
import { generatedImageSet } from '../main/cli/bench/image-set.ts';
import { median } from '../main/cli/bench/bench-stats.ts';
import { ensureOfaArchExport, OFA_ARCH } from './ofa-arch-export.ts';
import type { OfaArchResult } from './ofa-arch-report.ts';
import { TorchPeer } from './ofa-torch-peer.ts';
import { syntheticFeeds } from './synthetic-feeds.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
    cache: { type: 'string', default: path.join(root, 'bench', '.cache', 'ofa-arch') },
    'rss-child': { type: 'string' },
    model: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const BATCHES = [1, 2, 4, 8];
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const log = (line: string) => console.error(`[ofa-arch] ${line} (RSS ${rssMiB().toFixed(0)} MiB)`);
const med = (xs: readonly number[]) => median(xs) ?? Number.NaN;

/** The contract's feeds for prepared pairs, padded as the engine pads them (right-padded, masked; OFA's pad id is 1). */
function feedsOf(batch: readonly PreparedPair[], size: number, pad = 1): Record<string, ort.Tensor> {
  const n = batch.length;
  const plane = 3 * size * size;
  const pixels = new Float32Array(n * plane);
  batch.forEach((p, row) => pixels.set(p.pixels, row * plane));
  const encLen = Math.max(...batch.map((p) => p.encoderIds.length));
  const ids = new BigInt64Array(n * encLen).fill(BigInt(pad));
  const mask = new BigInt64Array(n * encLen);
  const decIds = new BigInt64Array(n * (encLen - 1)).fill(BigInt(pad));
  const decMask = new BigInt64Array(n * (encLen - 1));
  batch.forEach((p, row) =>
    p.encoderIds.forEach((id, i) => {
      ids[row * encLen + i] = BigInt(id);
      mask[row * encLen + i] = 1n;
      if (i < p.encoderIds.length - 1) {
        decIds[row * (encLen - 1) + i] = BigInt(id);
        decMask[row * (encLen - 1) + i] = 1n;
      }
    }),
  );
  return {
    pixel_values: new ort.Tensor('float32', pixels, [n, 3, size, size]),
    input_ids: new ort.Tensor('int64', ids, [n, encLen]),
    attention_mask: new ort.Tensor('int64', mask, [n, encLen]),
    decoder_input_ids: new ort.Tensor('int64', decIds, [n, encLen - 1]),
    decoder_attention_mask: new ort.Tensor('int64', decMask, [n, encLen - 1]),
  };
}

/** The engine's session options (main/inference/onnx-session.ts), and one change at a time from them. */
const BASE: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: defaultIntraOpThreads('cpu'),
  logSeverityLevel: 3,
  extra: { session: spinningConfig() },
};
const TWO_THREADS: ort.InferenceSession.SessionOptions = { ...BASE, intraOpNumThreads: 2 };
const VARIANTS: { name: string; change: string; options: ort.InferenceSession.SessionOptions }[] = [
  {
    name: 'engine',
    change: `the engine's: optimisation all, intra-op threads one per usable core (${BASE.intraOpNumThreads} here) spinning during a run only, arena on, sequential`,
    options: BASE,
  },
  { name: 'threads-0', change: "intra-op threads 0 (onnxruntime's choice)", options: { ...BASE, intraOpNumThreads: 0 } },
  { name: 'threads-1', change: 'intra-op threads 1', options: { ...BASE, intraOpNumThreads: 1 } },
  { name: 'threads-2', change: 'intra-op threads 2', options: TWO_THREADS },
  {
    name: 'spinning',
    change: "the engine's threads spin-wait after a run too (onnxruntime's default; the engine stops them when a run ends)",
    options: { ...BASE, extra: { session: spinningConfig({ OFA_VE_ORT_SPINNING: '1' }) } },
  },
  {
    name: 'no-spinning',
    change: 'no spin-waiting at all',
    options: { ...BASE, extra: { session: spinningConfig({ OFA_VE_ORT_SPINNING: '0' }) } },
  },
  { name: 'basic', change: 'graph optimisation basic', options: { ...BASE, graphOptimizationLevel: 'basic' } },
  { name: 'no-arena', change: 'CPU memory arena off', options: { ...BASE, enableCpuMemArena: false } },
  {
    name: 'parallel',
    change: 'parallel execution mode (2 inter-op threads)',
    options: { ...BASE, executionMode: 'parallel', interOpNumThreads: 2 },
  },
];

/**
 * Wall time and this process's CPU time (all its threads) of one call, after the settling pause. CPU time
 * is what other processes on the shared cores disturb least: a run that waits for a busy core takes longer
 * but costs no more CPU. With spinning on it also counts the pool's spin-waiting within the call.
 */
async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  await settle();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Rotates the order of `items` by round, so that no item is always measured first. */
const rotated = <T>(items: readonly T[], round: number): T[] => items.map((_, i) => items[(i + round) % items.length]!);

if (values['rss-child'] !== undefined) {
  // Child: one session with the arena on or off, a batch of 1 then of 8 (20-token prompts), then its RSS.
  const session = await ort.InferenceSession.create(path.join(values.model!, 'model.onnx'), {
    ...BASE,
    enableCpuMemArena: values['rss-child'] === 'on',
  });
  const afterLoad = rssMiB();
  for (const n of [1, 8]) await session.run(syntheticFeeds(n, 20, OFA_ARCH.imageSize));
  console.log(JSON.stringify({ after_load_mib: afterLoad, after_runs_mib: rssMiB() }));
  process.exit(0);
}

const started = performance.now();
const loadStart = os.loadavg();
let model;
try {
  model = await ensureOfaArchExport(root, path.resolve(values.cache!), log);
} catch (err) {
  log(`skipped: ${(err as Error).message}`);
  process.exit(0);
}
const work = await mkdtemp(path.join(os.tmpdir(), 'ofa-arch-bench-'));
const images = await generatedImageSet(8);

// The engine as the service opens it, and the demo model for scale.
const t0 = performance.now();
const engine = await EntailmentEngine.load(model.directory, { provider: 'cpu' });
const engineLoadMs = performance.now() - t0;
const demoDir = defaultModelDir();
const demo = existsSync(path.join(demoDir, 'model.json')) ? await EntailmentEngine.load(demoDir, { provider: 'cpu' }) : undefined;
const prepared = await Promise.all(images.map((p) => engine.prepare({ image: p.image, text: p.text })));
const demoPair = demo ? await demo.prepare({ image: images[0]!.image, text: images[0]!.text }) : undefined;
for (const p of prepared.slice(0, 2)) await engine.run([p]); // warm-up
if (demoPair) await demo!.run([demoPair]);

log(`stages and batch sizes: ${ROUNDS} rounds`);
const stages = {
  decode_image: [] as number[],
  tokenize: [] as number[],
  inference: [] as number[],
  inference_cpu: [] as number[],
  postprocess: [] as number[],
};
const demoInference: number[] = [];
const perPair = new Map(BATCHES.map((b) => [b, { wall: [] as number[], cpu: [] as number[] }]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, pair] of rotated(images, round).entries()) {
    await settle();
    const p = await engine.prepare({ image: pair.image, text: pair.text });
    stages.decode_image.push(p.decodeImageMs);
    stages.tokenize.push(p.tokenizeMs);
    let result: EntailmentResult | undefined;
    stages.inference_cpu.push((await timed(async () => ([result] = await engine.run([p])))).cpu);
    stages.inference.push(result!.stages.inference);
    stages.postprocess.push(result!.stages.postprocess);
    if (demo && demoPair && i % 2 === 0) {
      await settle();
      demoInference.push((await demo.run([demoPair]))[0]!.stages.inference);
    }
  }
  for (const n of rotated(BATCHES, round)) {
    const { wall, cpu } = await timed(() => engine.run(prepared.slice(0, n)));
    perPair.get(n)!.wall.push(wall / n);
    perPair.get(n)!.cpu.push(cpu / n);
  }
}
const batches = BATCHES.map((n) => {
  const { wall, cpu } = perPair.get(n)!;
  return { batch: n, ms_per_pair: med(wall), cpu_ms_per_pair: med(cpu), pairs_per_s: 1000 / med(wall), ms_per_pair_all: wall };
});
const pairOne = prepared[0]!;
await engine.close();

log('session options, one changed at a time');
// One session at a time (created, warmed with a batch of 4, measured, released, in rotating order):
// five sessions held together, each arena keeping a batch-4 high-water mark, took 12 GB on a shared machine.
const modelFile = path.join(model.directory, 'model.onnx');
const feeds1 = feedsOf([pairOne], OFA_ARCH.imageSize);
const feeds4 = feedsOf(prepared.slice(0, 4), OFA_ARCH.imageSize);
const optionTimes = new Map(
  VARIANTS.map((v) => [
    v.name,
    { create: [] as number[], b1: [] as number[], b1cpu: [] as number[], b4: [] as number[], b4cpu: [] as number[] },
  ]),
);
for (let round = 0; round < ROUNDS; round++) {
  for (const v of rotated(VARIANTS, round)) {
    const times = optionTimes.get(v.name)!;
    let session: ort.InferenceSession | undefined;
    times.create.push((await timed(async () => (session = await ort.InferenceSession.create(modelFile, v.options)))).wall);
    await session!.run(feeds4);
    const one = await timed(() => session!.run(feeds1));
    const four = await timed(() => session!.run(feeds4));
    times.b1.push(one.wall);
    times.b1cpu.push(one.cpu);
    times.b4.push(four.wall / 4);
    times.b4cpu.push(four.cpu / 4);
    await session!.release();
  }
}
const options = VARIANTS.map((v) => ({
  name: v.name,
  change: v.change,
  create_ms: med(optionTimes.get(v.name)!.create),
  batch1_ms: med(optionTimes.get(v.name)!.b1),
  batch1_cpu_ms: med(optionTimes.get(v.name)!.b1cpu),
  batch4_ms_per_pair: med(optionTimes.get(v.name)!.b4),
  batch4_cpu_ms_per_pair: med(optionTimes.get(v.name)!.b4cpu),
}));

log('PyTorch eager vs onnxruntime, batch 1, 1 and 2 threads');
const { peer, ready } = await TorchPeer.start({
  python: model.python.executable,
  script: path.join(root, 'bench', 'ofa-arch-torch.py'),
  portDir: model.portDir,
  checkpoint: model.checkpoint,
  workDir: work,
  inputs: {
    size: OFA_ARCH.imageSize,
    pixels: pairOne.pixels,
    ids: [pairOne.encoderIds],
    answers: LABELS.map((l) => engine.info.answers[l]) as [number, number, number],
  },
});
const sessions = new Map<string, ort.InferenceSession>();
for (const v of VARIANTS.filter((x) => x.name === 'threads-1' || x.name === 'threads-2'))
  sessions.set(v.name, await ort.InferenceSession.create(modelFile, v.options));
const ortLogits = (await sessions.get('threads-2')!.run(feeds1)).logits!;
const ortAnswers = LABELS.map((l) => (ortLogits.data as Float32Array)[engine.info.answers[l]]!);
const peerTimes = new Map(
  [1, 2].map((t) => [t, { ort: [] as number[], ortCpu: [] as number[], torch: [] as number[], torchCpu: [] as number[] }]),
);
let logitDiff = 0;
const torchWarm = await peer.run(2, 0);
torchWarm.logits.forEach((v, i) => (logitDiff = Math.max(logitDiff, Math.abs(v - ortAnswers[i]!))));
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of round % 2 === 0 ? [1, 2] : [2, 1]) {
    const session = sessions.get(`threads-${threads}`)!;
    const times = peerTimes.get(threads)!;
    const measureOrt = async () => {
      const { wall, cpu } = await timed(() => session.run(feeds1));
      times.ort.push(wall);
      times.ortCpu.push(cpu);
    };
    const measureTorch = async () => {
      await settle();
      const { ms, cpu_ms } = await peer.run(threads, 0);
      times.torch.push(ms);
      times.torchCpu.push(cpu_ms);
    };
    if (round % 2 === 0) {
      await measureOrt();
      await measureTorch();
    } else {
      await measureTorch();
      await measureOrt();
    }
  }
}
await peer.close();
const torch = {
  version: ready.torch,
  load_s: ready.load_s,
  max_answer_logit_difference: logitDiff,
  rows: [1, 2].map((threads) => {
    const { ort: o, ortCpu, torch: t, torchCpu } = peerTimes.get(threads)!;
    return {
      threads,
      onnxruntime_ms: med(o),
      torch_ms: med(t),
      torch_over_onnxruntime: med(t) / med(o),
      onnxruntime_cpu_ms: med(ortCpu),
      torch_cpu_ms: med(torchCpu),
      onnxruntime_all: o,
      torch_all: t,
    };
  }),
};
for (const s of sessions.values()) await s.release();
await demo?.close();

log('RSS with the CPU arena on and off (fresh process each)');
const self = fileURLToPath(import.meta.url);
const rss = (mode: 'on' | 'off') => {
  const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--rss-child', mode, '--model', model.directory], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`RSS child failed: ${child.stderr.slice(-1000)}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { after_load_mib: number; after_runs_mib: number };
};
const arenaMemory = { on: rss('on'), off: rss('off') };
await rm(work, { recursive: true, force: true });

const result: OfaArchResult = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/ofa-arch-bench.ts --rounds ${ROUNDS}`,
  seconds: (performance.now() - started) / 1000,
  machine: {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    load_average_start: loadStart,
    load_average_end: os.loadavg(),
  },
  model: {
    what: `OFA's OFAModel (../shared/ofa-port) at OFA-tiny's sizes, seeded random weights (seed ${OFA_ARCH.seed}), exported by export_ofa.py`,
    image_size: OFA_ARCH.imageSize,
    parameters: model.parameters,
    model_onnx_mib: model.modelBytes / 2 ** 20,
    generated_s: model.generatedS,
    engine_load_ms: engineLoadMs,
  },
  rounds: ROUNDS,
  stages: {
    decode_image_ms: med(stages.decode_image),
    tokenize_ms: med(stages.tokenize),
    inference_ms: med(stages.inference),
    inference_cpu_ms: med(stages.inference_cpu),
    postprocess_ms: med(stages.postprocess),
    samples: stages.inference.length,
  },
  demo: demo
    ? {
        inference_ms: med(demoInference),
        model_onnx_mib: statSync(path.join(demoDir, 'model.onnx')).size / 2 ** 20,
        samples: demoInference.length,
      }
    : undefined,
  batches,
  options,
  torch,
  arena_memory: arenaMemory,
};

const f = (x: number, d = 1) => x.toFixed(d);
console.log(
  `OFA-tiny architecture, ${OFA_ARCH.imageSize}px, ${(model.parameters / 1e6).toFixed(1)}M parameters, model.onnx ${f(result.model.model_onnx_mib)} MiB`,
);
console.log(
  `stages (median of ${result.stages.samples}): decode/resize ${f(result.stages.decode_image_ms)} ms, tokenize ${f(result.stages.tokenize_ms, 2)} ms, ` +
    `inference ${f(result.stages.inference_ms)} ms, postprocess ${f(result.stages.postprocess_ms, 3)} ms; demo model inference ${f(result.demo?.inference_ms ?? NaN)} ms`,
);
for (const b of batches)
  console.log(`batch ${b.batch}: ${f(b.ms_per_pair)} ms per pair (CPU ${f(b.cpu_ms_per_pair)} ms), ${f(b.pairs_per_s, 2)} pairs/s`);
for (const o of options) {
  console.log(
    `${o.name.padEnd(10)} create ${f(o.create_ms, 0)} ms, batch 1 ${f(o.batch1_ms)} ms (CPU ${f(o.batch1_cpu_ms)}), ` +
      `batch 4 ${f(o.batch4_ms_per_pair)} ms/pair (CPU ${f(o.batch4_cpu_ms_per_pair)}) (${o.change})`,
  );
}
for (const r of torch.rows) {
  console.log(
    `${r.threads} thread(s): onnxruntime ${f(r.onnxruntime_ms)} ms (CPU ${f(r.onnxruntime_cpu_ms)}), ` +
      `PyTorch ${torch.version} eager ${f(r.torch_ms)} ms (CPU ${f(r.torch_cpu_ms)}) (x${f(r.torch_over_onnxruntime, 2)})`,
  );
}
console.log(`answer logits, PyTorch vs onnxruntime: max difference ${torch.max_answer_logit_difference.toExponential(2)}`);
console.log(
  `RSS after batch 1 and 8: arena on ${f(arenaMemory.on.after_runs_mib, 0)} MiB, off ${f(arenaMemory.off.after_runs_mib, 0)} MiB (after load ${f(arenaMemory.on.after_load_mib, 0)} / ${f(arenaMemory.off.after_load_mib, 0)} MiB)`,
);
console.log(
  `took ${f(result.seconds, 0)} s; load average ${loadStart.map((x) => f(x, 2)).join(' ')} → ${os
    .loadavg()
    .map((x) => f(x, 2))
    .join(' ')}`,
);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
