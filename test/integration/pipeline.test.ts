/**
 * The preprocessing pipeline of the inference worker, end to end through the CheckService:
 * - with a preprocessing pool the answers are the serial design's and the engine's, bit for bit
 *   for a pair alone, and within OFA's parity tolerance in a padded batch with a refused upload
 *   in the middle (the rows after it move up in the batch tensor);
 * - the next batch goes to the worker while one runs (at most two in it); the serial design
 *   (--preprocess-workers 0) sends one at a time;
 * - queue time still means waiting: every answer's stages add up to at most its latency.
 * The simulated accelerator (bench only) stands in for the session where only timing matters.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { CheckError } from '../../main/errors.ts';
import { EntailmentEngine } from '../../main/inference/entailment-engine.ts';
import { LABELS, STAGE_NAMES, type CheckPair } from '../../preload/wire-types.ts';
import type { EntailmentResult } from '../../main/inference/entailment-types.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import type { CheckAnswer } from '../../main/service/check-service.ts';
import type { InferenceWorkerHost } from '../../main/service/inference-worker-host.ts';
import { ServiceRuntime, type RuntimeOptions } from '../../main/service/service-runtime.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

async function photo(width: number, height: number, seed: number): Promise<Uint8Array> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * (13 + seed) + ((i / (3 * width)) | 0) * (5 + seed)) & 255;
  return new Uint8Array(
    await sharp(data, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 92 })
      .toBuffer(),
  );
}

const runtimes: ServiceRuntime[] = [];
async function start(options: Partial<RuntimeOptions>): Promise<ServiceRuntime> {
  const runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger, ...options });
  runtimes.push(runtime);
  assert.ok(await runtime.start(), `the demo model loads: ${runtime.loadError?.message}`);
  return runtime;
}
after(async () => {
  for (const runtime of runtimes) await runtime.close(2000);
});

type Outcome = { ok: true; answer: CheckAnswer } | { ok: false; code: string };
const outcome = (p: Promise<CheckAnswer>): Promise<Outcome> =>
  p.then(
    (answer) => ({ ok: true, answer }),
    (err: CheckError) => ({ ok: false, code: err.code }),
  );

/** Records when each batch went to the worker and when it came back (the service's clock). */
function recordBatches(host: InferenceWorkerHost): { sentAt: number; doneAt: number; size: number }[] {
  const calls: { sentAt: number; doneAt: number; size: number }[] = [];
  const runBatch = host.runBatch.bind(host);
  host.runBatch = (items, hooks) => {
    const call = { sentAt: performance.now(), doneAt: Number.POSITIVE_INFINITY, size: items.length };
    calls.push(call);
    return runBatch(items, hooks).finally(() => (call.doneAt = performance.now()));
  };
  return calls;
}

describe('answers through the preprocessing pool', () => {
  let engine: EntailmentEngine;
  const requests: CheckPair[] = [];
  before(async () => {
    engine = await EntailmentEngine.load(DEMO_MODEL_DIR, { provider: 'cpu' });
    const sizes = [
      [640, 480],
      [320, 240],
      [1024, 700],
      [200, 333],
      [480, 480],
      [800, 600],
    ] as const;
    for (const [i, [w, h]] of sizes.entries()) {
      requests.push({ image: await photo(w, h, i), text: `${'a much longer caption that pads the others '.repeat(i % 3)}picture ${i}` });
    }
  });
  after(async () => engine.close());

  it('a pair alone: the same logits, bit for bit, as the serial design and the engine', { timeout: 120_000 }, async () => {
    const pooled = await start({ preprocessWorkers: 2, batching: { maxBatchSize: 1 } });
    const serial = await start({ preprocessWorkers: 0, batching: { maxBatchSize: 1 } });
    for (const request of requests) {
      const expected = await engine.check(request);
      for (const runtime of [pooled, serial]) {
        const answer = await runtime.service.check(request);
        assert.deepEqual(answer.logits, expected.logits, `${request.text}: preprocessWorkers ${runtime.preprocessThreads}`);
        assert.equal(answer.label, expected.label);
      }
    }
  });

  it('a padded batch with a refused upload in the middle: every other pair answered as alone', { timeout: 120_000 }, async () => {
    const pooled = await start({ preprocessWorkers: 2, batching: { maxBatchSize: 8 } });
    const batch: CheckPair[] = [...requests];
    batch.splice(3, 0, { image: new Uint8Array([0xff, 0xd8, 0xff, 0x00, 1, 2]), text: 'a broken jpeg' });
    batch.splice(5, 0, { image: requests[0]!.image, text: '?!' });
    const calls = recordBatches(pooled.workerHost);
    const outcomes = await Promise.all(batch.map((r) => outcome(pooled.service.check(r))));
    assert.ok(
      calls.some((c) => c.size >= 4),
      `a batch of several pairs ran (${calls.map((c) => c.size).join(', ')})`,
    );
    for (const [i, request] of batch.entries()) {
      const got = outcomes[i]!;
      if (i === 3) assert.deepEqual(got, { ok: false, code: 'INVALID_IMAGE' });
      else if (i === 5) assert.deepEqual(got, { ok: false, code: 'EMPTY_TEXT' });
      else {
        assert.ok(got.ok, `pair ${i} answered`);
        const expected: EntailmentResult = await engine.check(request);
        for (const label of LABELS) {
          assert.ok(
            Math.abs(got.answer.logits[label] - expected.logits[label]) < 1e-4,
            `pair ${i} ${label}: ${got.answer.logits[label]} vs ${expected.logits[label]}`,
          );
        }
      }
    }
  });
});

describe('batches in the worker (simulated accelerator: 600 ms per batch, no CPU)', () => {
  const simulateAccelerator = { msPerBatch: 600, msPerPair: 0 };
  let image: Uint8Array;
  before(async () => {
    image = await photo(640, 480, 9);
  });

  it('with a pool: the next batch goes in while one runs, never more than two; queue time is waiting', { timeout: 120_000 }, async () => {
    const runtime = await start({ preprocessWorkers: 2, simulateAccelerator, batching: { maxBatchSize: 4 } });
    assert.deepEqual(runtime.simulatedAccelerator, simulateAccelerator, 'labelled simulated');
    const calls = recordBatches(runtime.workerHost);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        runtime.service.check({ image, text: `check ${i}` }).then((a) => ({ a, ms: performance.now() - t0 })),
      ),
    );
    assert.deepEqual(
      calls.map((c) => c.size),
      [1, 4, 4],
    );
    assert.ok(calls[1]!.sentAt < calls[0]!.doneAt, 'the second batch was in the worker while the first ran');
    assert.ok(calls[2]!.sentAt >= calls[0]!.doneAt, 'the third waited for the first to finish (two at most)');
    for (const { a } of answers) {
      const stages = STAGE_NAMES.reduce((sum, stage) => sum + (a.stages[stage] ?? 0), 0);
      assert.ok(stages <= a.latency_ms + 1e-6, `stages ${stages.toFixed(2)} ms within the latency ${a.latency_ms.toFixed(2)} ms`);
      assert.ok((a.stages.inference ?? 0) >= 590, 'the simulated device took its time');
    }
    const last = answers.at(-1)!.a;
    assert.ok((last.stages.queue ?? 0) >= 590, `the last batch waited for the one before it: queue ${last.stages.queue} ms`);
  });

  it('the serial design (0 preprocessing workers): one batch in the worker at a time', { timeout: 120_000 }, async () => {
    const runtime = await start({ preprocessWorkers: 0, simulateAccelerator, batching: { maxBatchSize: 4 } });
    const calls = recordBatches(runtime.workerHost);
    await Promise.all(Array.from({ length: 6 }, (_, i) => runtime.service.check({ image, text: `serial ${i}` })));
    assert.deepEqual(
      calls.map((c) => c.size),
      [1, 4, 1],
    );
    for (let i = 1; i < calls.length; i++) assert.ok(calls[i]!.sentAt >= calls[i - 1]!.doneAt, `batch ${i + 1} after batch ${i}`);
  });
});

describe('--preprocess-workers auto (the default): decided by where the model runs', () => {
  it('the model on the CPU: the serial design (no pool, one batch in the worker at a time)', { timeout: 120_000 }, async () => {
    const forced = await start({ provider: 'cpu' });
    assert.equal(forced.preprocessThreads, 0);
    assert.equal(forced.workerHost.pipelineDepth, 1);
    // provider auto: the CPU here (no CUDA provider installed, known before the session opens); a GPU gets a pool.
    const chosen = await start({ provider: 'auto', preprocessWorkers: 'auto' });
    const info = chosen.workerHost.info!;
    assert.equal(chosen.preprocessThreads, info.provider === 'cpu' ? 0 : os.availableParallelism(), `provider ${info.provider}`);
    const image = await photo(320, 240, 3);
    const answer = await chosen.service.check({ image, text: 'a picture' });
    assert.ok(LABELS.includes(answer.label));
  });

  it('a device off the CPU (the simulated accelerator): one preprocessing thread per core', { timeout: 120_000 }, async () => {
    const runtime = await start({ simulateAccelerator: { msPerBatch: 5, msPerPair: 0 } });
    assert.equal(runtime.preprocessThreads, os.availableParallelism());
    assert.equal(runtime.workerHost.pipelineDepth, 2);
  });

  it('an explicit number wins over auto on the CPU', { timeout: 120_000 }, async () => {
    const runtime = await start({ preprocessWorkers: 1 });
    assert.equal(runtime.preprocessThreads, 1);
    assert.equal(runtime.workerHost.pipelineDepth, 2);
  });
});

describe("the worker's environment (RuntimeOptions.workerEnv): OFA_VE_RESIZE=js in one service only", () => {
  it(
    'its worker and preprocessing threads run the JavaScript resize, with the same answers; another service keeps the kernels',
    {
      timeout: 120_000,
    },
    async () => {
      const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
      const logger = { log: (level: string, msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields }) };
      const plain = await start({ preprocessWorkers: 1, workerEnv: { OFA_VE_RESIZE: 'js' }, logger });
      const kernels = await start({ preprocessWorkers: 1 });
      assert.equal(plain.resizeBackend, 'js');
      assert.equal(kernels.resizeBackend, 'wasm-simd');
      assert.equal(process.env.OFA_VE_RESIZE, undefined, "this process's environment is left alone");
      const loaded = lines.find((l) => l.msg === 'model loaded');
      assert.equal(loaded?.fields?.resize, 'js');
      assert.ok(lines.some((l) => l.level === 'warn' && /resize kernels are off/.test(l.msg)));
      const pair = { image: await photo(640, 480, 3), text: 'a striped pattern' };
      const [a, b] = await Promise.all([plain.service.check(pair), kernels.service.check(pair)]);
      assert.deepEqual(a.logits, b.logits, 'the same pixels, so the same logits');
    },
  );
});
