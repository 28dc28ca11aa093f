/**
 * The inference worker's batch pipeline (main/service/worker/batch-pipeline.ts) with profiled runs
 * (`serve --profile-sample-rate`): the answers leave as soon as the batch has run ('batch-done'),
 * and its operator events follow once the profile has been read ('batch-profile'); the next batch
 * runs meanwhile, and each run is still followed by its takeProfile before the next one starts.
 * The real engine and preprocessing on the demo model; the session is the simulated accelerator,
 * whose profiles the test hands out when it chooses.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { OperatorProfile } from '../../../preload/trace-spans.ts';
import type { Label } from '../../../preload/wire-types.ts';
import { EntailmentEngine } from '../../../main/inference/entailment-engine.ts';
import type { BatchRunner } from '../../../main/inference/onnx-session.ts';
import { preparedInline } from '../../../main/service/preprocess/preprocess-pool.ts';
import { BatchPipeline } from '../../../main/service/worker/batch-pipeline.ts';
import { SimulatedAccelerator } from '../../../main/service/worker/simulated-accelerator.ts';
import type { FromWorker, WorkerItem } from '../../../main/service/worker-protocol.ts';
import { DEMO_MODEL_DIR } from '../../support/shared-reference.ts';

const PROFILE: OperatorProfile = {
  runUs: 1234,
  events: [{ name: 'MatMul_1', opType: 'MatMul', provider: 'CPUExecutionProvider', startUs: 10, durUs: 200 }],
  omitted: 0,
};

/** The simulated device, with a profile after every run that the test settles (resolve or reject). */
class HeldProfileRunner extends SimulatedAccelerator implements BatchRunner {
  /** 'run' and 'take', in the order the pipeline called them. */
  readonly calls: string[] = [];
  readonly held: { resolve: (p: OperatorProfile | undefined) => void; reject: (err: Error) => void }[] = [];

  constructor(answers: Readonly<Record<Label, number>>) {
    super({ msPerBatch: 1, msPerPair: 0 }, answers);
  }

  override run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.OnnxValue>> {
    this.calls.push('run');
    return super.run(feeds);
  }

  takeProfile(): Promise<OperatorProfile | undefined> {
    this.calls.push('take');
    return new Promise((resolve, reject) => this.held.push({ resolve, reject }));
  }
}

/** A pipeline on the demo model's engine, and the messages it sent, in order. */
async function pipelineOver(runner: (answers: Readonly<Record<Label, number>>) => BatchRunner, options?: { announceStarts?: boolean }) {
  const engine = await EntailmentEngine.load(DEMO_MODEL_DIR, { runner });
  const sent: FromWorker[] = [];
  let wake: (() => void) | undefined;
  const pipeline = new BatchPipeline(
    engine,
    preparedInline(engine.preparer),
    (message) => {
      sent.push(message);
      wake?.();
    },
    options,
  );
  /** Resolves with the first message sent (so far or later) of `type` for `batchId`. */
  const message = async <T extends FromWorker['type']>(type: T, batchId: number): Promise<Extract<FromWorker, { type: T }>> => {
    for (;;) {
      const found = sent.find((m) => m.type === type && 'batchId' in m && m.batchId === batchId);
      if (found) return found as Extract<FromWorker, { type: T }>;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  /** The messages sent so far, as "type batchId". */
  const log = () => sent.map((m) => `${m.type} ${'batchId' in m ? m.batchId : ''}`);
  return { engine, pipeline, message, log };
}

describe('BatchPipeline: a profiled batch', () => {
  let image: Uint8Array;
  const items = (n: number): WorkerItem[] =>
    Array.from({ length: n }, (_, i) => ({ id: `r${i}`, image, text: ['a blue picture', 'a cat', 'snow'][i % 3] as string }));

  before(async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 90, b: 160 } } })
      .png()
      .toBuffer();
    image = new Uint8Array(png);
  });

  it('answers before its profile is read, runs the next batch meanwhile, and sends the operators after', async () => {
    let device: HeldProfileRunner | undefined;
    const { engine, pipeline, message, log } = await pipelineOver((answers) => (device = new HeldProfileRunner(answers)));
    const runner = device as HeldProfileRunner;

    pipeline.accept(1, items(2));
    const done = await message('batch-done', 1);
    // The profile is still held back: the answers left without it.
    assert.equal(runner.held.length, 1, 'its takeProfile was called and has not resolved');
    assert.equal(done.profileFollows, true);
    assert.equal(done.outcomes.length, 2);
    for (const outcome of done.outcomes) {
      assert.ok(outcome.ok, 'answered');
      assert.ok(!('operators' in outcome.value), 'no operators in the answers');
    }
    assert.ok(!log().includes('batch-profile 1'));

    // The next batch runs and is answered while the first one's profile is still being read.
    pipeline.accept(2, items(1));
    await message('batch-done', 2);
    assert.deepEqual(runner.calls, ['run', 'take', 'run', 'take'], 'each run followed by its takeProfile before the next run');
    assert.ok(!log().some((line) => line.startsWith('batch-profile')));

    runner.held[0]!.resolve(PROFILE);
    assert.deepEqual((await message('batch-profile', 1)).operators, PROFILE);
    // A run that was not sampled: its profile is none, and the message says so (the service stops waiting for it).
    runner.held[1]!.resolve(undefined);
    const second = await message('batch-profile', 2);
    assert.ok(!('operators' in second), 'no operators for an unprofiled run');
    assert.deepEqual(log(), ['batch-started 1', 'batch-done 1', 'batch-started 2', 'batch-done 2', 'batch-profile 1', 'batch-profile 2']);
    await engine.close();
  });

  it('still follows with a profile that could not be read, and then carries no operators', async () => {
    let device: HeldProfileRunner | undefined;
    const { engine, pipeline, message } = await pipelineOver((answers) => (device = new HeldProfileRunner(answers)));
    pipeline.accept(7, items(3));
    assert.ok((await message('batch-done', 7)).outcomes.every((o) => o.ok));
    device!.held[0]!.reject(new Error('no profile file'));
    assert.ok(!('operators' in (await message('batch-profile', 7))));
    await engine.close();
  });

  it('sends no profile where the session is never profiled', async () => {
    const { engine, pipeline, message, log } = await pipelineOver(
      (answers) => new SimulatedAccelerator({ msPerBatch: 1, msPerPair: 0 }, answers),
    );
    pipeline.accept(1, items(2));
    assert.equal((await message('batch-done', 1)).profileFollows, undefined);
    pipeline.accept(2, items(1));
    await message('batch-done', 2);
    assert.deepEqual(log(), ['batch-started 1', 'batch-done 1', 'batch-started 2', 'batch-done 2']);
    await engine.close();
  });

  it("without a preprocessing pool (announceStarts false) sends no 'batch-started': the service sends one batch at a time", async () => {
    const { engine, pipeline, message, log } = await pipelineOver(
      (answers) => new SimulatedAccelerator({ msPerBatch: 1, msPerPair: 0 }, answers),
      { announceStarts: false },
    );
    pipeline.accept(1, items(2));
    assert.ok((await message('batch-done', 1)).outcomes.every((o) => o.ok));
    pipeline.accept(2, items(1));
    await message('batch-done', 2);
    assert.deepEqual(log(), ['batch-done 1', 'batch-done 2']);
    await engine.close();
  });
});

describe('BatchPipeline: a pair that cannot be prepared', () => {
  it("is refused at once ('pair-refused'), before its batch runs; the batch runs on without it", async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 40, g: 90, b: 160 } } })
      .png()
      .toBuffer();
    const { engine, pipeline, message, log } = await pipelineOver(
      (answers) => new SimulatedAccelerator({ msPerBatch: 1, msPerPair: 0 }, answers),
    );
    const notAnImage = new TextEncoder().encode('not an image at all');
    pipeline.accept(1, [
      { id: 'good', image: new Uint8Array(png), text: 'a blue picture' },
      { id: 'bad', image: notAnImage, text: 'a cat' },
    ]);
    const refusal = await message('pair-refused', 1);
    assert.equal(refusal.index, 1);
    assert.equal(refusal.error.code, 'INVALID_IMAGE');
    const done = await message('batch-done', 1);
    assert.ok(done.outcomes[0]?.ok, 'the good pair ran');
    assert.deepEqual(done.outcomes[1], { ok: false, error: refusal.error }, 'the batch says the same again');
    assert.ok(log().indexOf('pair-refused 1') < log().indexOf('batch-done 1'));
    await engine.close();
  });
});
