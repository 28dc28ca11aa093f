/**
 * onnxruntime's profile of the demo model, made here (a real file, not a committed fixture), read
 * into one model run's operator events; then sampled profiling through the engine, end to end.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { EntailmentEngine, type PreparedPair } from '../../../main/inference/entailment-engine.ts';
import { openSession, type BatchRunner } from '../../../main/inference/onnx-session.ts';
import { MAX_OPERATOR_EVENTS, operatorProfileOf } from '../../../main/inference/ort-profile.ts';
import { SampledProfilingRunner } from '../../../main/inference/sampled-profiling.ts';
import { DEMO_MODEL_DIR } from '../../support/shared-reference.ts';

const MODEL = path.join(DEMO_MODEL_DIR, 'model.onnx');

interface RawEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args: Record<string, unknown>;
}

/** This process's profile folders (sampled-profiling.ts names them after the pid). */
async function ownProfileFolders(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith(`ofa-ve-profiles-${process.pid}-`));
}

async function demoPairs(engine: EntailmentEngine, captions: string[]): Promise<PreparedPair[]> {
  const image = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .png()
    .toBuffer();
  return Promise.all(captions.map((text) => engine.prepare({ image, text })));
}

/** One prepared pair as the graph's input tensors (as the engine lays out a batch of one). */
function feedsOf(pair: PreparedPair, size: number): Record<string, ort.Tensor> {
  const ids = pair.encoderIds.map(BigInt);
  const n = ids.length;
  return {
    pixel_values: new ort.Tensor('float32', pair.pixels, [1, 3, size, size]),
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, n]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    decoder_input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.slice(0, -1)), [1, n - 1]),
    decoder_attention_mask: new ort.Tensor('int64', new BigInt64Array(n - 1).fill(1n), [1, n - 1]),
  };
}

describe('operator profiles', () => {
  let engine: EntailmentEngine;
  let raw: RawEvent[];

  before(async () => {
    // First, so that nothing has made a profile folder in this process yet.
    engine = await EntailmentEngine.load(DEMO_MODEL_DIR, { provider: 'cpu' });
  });
  after(async () => engine.close());

  it('makes no profiling session and no profile folder at rate 0', async () => {
    const opened = await openSession(MODEL, engine.info.imageSize, { provider: 'cpu', profileSampleRate: 0 });
    assert.equal(opened.runner, opened.session, 'batches run on the session itself');
    assert.equal((opened.runner as BatchRunner).takeProfile, undefined);
    assert.equal(engine.takeProfile(), undefined, 'an unprofiled engine has nothing to take, and no promise to wait for');
    await opened.session.release();
    assert.deepEqual(await ownProfileFolders(), []);
  });

  it('reads the last model run of a real profile: its node events, timed from the run', async () => {
    // Two runs with the profiler on, as a profiling session's warm-up and sampled run.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ort-profile-test-'));
    try {
      const session = await ort.InferenceSession.create(MODEL, {
        executionProviders: ['cpu'],
        enableProfiling: true,
        profileFilePrefix: path.join(dir, 'p'),
        logSeverityLevel: 3,
      });
      const [pair] = await demoPairs(engine, ['a red picture']);
      await session.run(feedsOf(pair!, engine.info.imageSize));
      await session.run(feedsOf(pair!, engine.info.imageSize));
      session.endProfiling();
      await session.release();
      const [file] = await readdir(dir);
      assert.ok(file !== undefined && file.endsWith('.json'), 'onnxruntime wrote its profile');
      raw = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as RawEvent[];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const runs = raw.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    assert.equal(runs.length, 2);
    const last = runs[1]!;
    const inLast = raw.filter((e) => e.cat === 'Node' && e.ts >= last.ts && e.ts <= last.ts + last.dur);
    assert.ok(inLast.length > 10, 'the demo graph runs many nodes');

    const profile = operatorProfileOf(raw)!;
    assert.equal(profile.runUs, last.dur);
    assert.equal(profile.omitted, 0);
    assert.equal(profile.events.length, inLast.length, "the last run's node events, not the first run's");
    for (const [i, e] of profile.events.entries()) {
      assert.ok(e.startUs >= 0 && e.startUs + e.durUs <= profile.runUs, `${e.name} lies within the run`);
      if (i > 0) assert.ok(e.startUs >= profile.events[i - 1]!.startUs, 'in start order');
      assert.ok(e.name !== '' && !e.name.endsWith('_kernel_time'), e.name);
      assert.equal(e.provider, 'CPUExecutionProvider');
    }
    const types = new Set(profile.events.map((e) => e.opType));
    assert.ok(types.has('MatMul'), `op types: ${[...types].join(', ')}`);
    const first = inLast.reduce((a, b) => (b.ts < a.ts ? b : a));
    assert.equal(profile.events[0]!.startUs, first.ts - last.ts);
    assert.equal(profile.events[0]!.opType, first.args.op_name);
  });

  it('keeps the longest operators beyond the cap, in start order, and counts the rest', () => {
    const all = operatorProfileOf(raw)!;
    const cap = 10;
    const cut = operatorProfileOf(raw, cap)!;
    assert.equal(MAX_OPERATOR_EVENTS, 2000);
    assert.equal(cut.events.length, cap);
    assert.equal(cut.omitted, all.events.length - cap);
    const kept = new Set(cut.events);
    const shortestKept = Math.min(...cut.events.map((e) => e.durUs));
    const left = all.events.filter((e) => !cut.events.some((k) => k.name === e.name));
    const longestLeft = Math.max(...left.map((e) => e.durUs));
    assert.ok(shortestKept >= longestLeft, 'the kept are the longest');
    assert.equal(kept.size, cap);
    assert.deepEqual(
      cut.events.map((e) => e.startUs),
      [...cut.events.map((e) => e.startUs)].sort((a, b) => a - b),
    );
  });

  it('finds no run in a profile without one, and ignores what is not an event', () => {
    assert.equal(operatorProfileOf([]), undefined);
    assert.equal(operatorProfileOf({ traceEvents: [] }), undefined);
    const onlyNodes = raw.filter((e) => e.cat === 'Node');
    assert.equal(operatorProfileOf(onlyNodes), undefined);
    const withJunk = [null, 3, { cat: 'Node', name: 'x' }, ...raw];
    assert.deepEqual(operatorProfileOf(withJunk), operatorProfileOf(raw));
  });

  it('profiles a sampled batch through the engine: operators within the measured run, files removed', async () => {
    const profiled = await EntailmentEngine.load(DEMO_MODEL_DIR, { provider: 'cpu', profileSampleRate: 1 });
    try {
      const [folder] = await ownProfileFolders();
      assert.ok(folder, "the profiling session writes into this process's folder");
      const batch = await demoPairs(profiled, ['two dogs on a beach', 'a red car']);
      const results = await profiled.run(batch);
      const profile = await profiled.takeProfile();
      assert.ok(profile, 'rate 1: the batch was profiled');
      assert.ok(profile.events.length > 10);
      assert.ok(profile.runUs <= results[0]!.stages.inference * 1000 + 1, "the profiler's run lies within the measured one");
      // The answers are the unprofiled session's: the same graph.
      const plain = await engine.run(batch);
      assert.deepEqual(
        results.map((r) => r.label),
        plain.map((r) => r.label),
      );
      assert.equal(await profiled.takeProfile(), undefined, 'a profile is taken once');
    } finally {
      await profiled.close();
    }
    for (const folder of await ownProfileFolders()) {
      assert.deepEqual(await readdir(path.join(os.tmpdir(), folder)), [], 'no profile file is left once the engine is closed');
    }
  });

  it("profiles only the sampled fraction: a draw at or above the rate runs on the service's session", async () => {
    const main = (await openSession(MODEL, engine.info.imageSize, { provider: 'cpu' })).session;
    const draws = [0.75, 0.25];
    const options = { executionProviders: ['cpu'], enableProfiling: true, logSeverityLevel: 3 } as const;
    const profiled = (prefix: string) => ort.InferenceSession.create(MODEL, { ...options, profileFilePrefix: prefix });
    const runner = await SampledProfilingRunner.start(main, profiled, {
      sampleRate: 0.5,
      imageSize: engine.info.imageSize,
      random: () => draws.shift() ?? 0.99,
    });
    try {
      const [pair] = await demoPairs(engine, ['snow']);
      const size = engine.info.imageSize;
      await runner.run(feedsOf(pair!, size));
      assert.equal(
        runner.takeProfile(),
        undefined,
        '0.75 ≥ 0.5: not sampled, known at once (no promise: the worker sends no batch-profile)',
      );
      await runner.run(feedsOf(pair!, size));
      assert.ok((await runner.takeProfile())?.events.length, '0.25 < 0.5: sampled');
      const tooHigh = SampledProfilingRunner.start(main, () => Promise.reject(new Error('unused')), { sampleRate: 1.5, imageSize: 1 });
      await assert.rejects(tooHigh, RangeError);
    } finally {
      await runner.release();
    }
  });
});
