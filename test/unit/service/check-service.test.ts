/**
 * The CheckService's queue, dynamic batching, pipelining, expiry, watchdog and counting, against a
 * backend the test settles batch by batch (scripted-backend.ts): what goes into each batch and
 * when, and that every check is counted exactly once under the status it ended with.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CheckError } from '../../../main/errors.ts';
import { CheckService, type CheckAnswer } from '../../../main/service/check-service.ts';
import type { BatchingOptions } from '../../../main/service/batching-options.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { ServiceMetrics } from '../../../main/telemetry/service-metrics.ts';
import { refused, ScriptedBackend } from './scripted-backend.ts';

interface Ended {
  readonly status: number;
  readonly code?: string;
  readonly answer?: CheckAnswer;
}

function setup(pipelineDepth = 1, options: Partial<BatchingOptions> = {}) {
  const backend = new ScriptedBackend(pipelineDepth);
  const metrics = new ServiceMetrics({ appVersion: 'test', defaultMetrics: false });
  const stats = new LiveStats();
  const service = new CheckService(backend, metrics, stats, { maxBatchSize: 4, ...options });
  const ended: Promise<Ended>[] = [];
  // The service's timers are unref'd (they never hold a process open): keep this test's loop alive.
  const keepAlive = setInterval(() => {}, 1000);
  /** Sends a check; its outcome is kept (never an unhandled rejection). */
  const check = (text: string, signal?: AbortSignal): Promise<Ended> => {
    const outcome = service.check({ image: new Uint8Array([1, 2, 3]), text }, { signal }).then(
      (answer) => ({ status: 200, answer }),
      (err: CheckError) => ({ status: err.status, code: err.code }),
    );
    ended.push(outcome);
    return outcome;
  };
  /** ofa_ve_request_total by "status result", non-zero series only. */
  const counted = async (): Promise<Record<string, number>> => {
    const { body } = await metrics.scrape(false);
    const out: Record<string, number> = {};
    for (const m of body.matchAll(/^ofa_ve_request_total\{status_code="(\d+)",result_type="(\w+)"\} (\S+)$/gm)) {
      if (Number(m[3]) > 0) out[`${m[1]} ${m[2]}`] = Number(m[3]);
    }
    return out;
  };
  /** Every check sent so far ended, and the counter holds each once under its status. */
  const assertCountedOnce = async () => {
    const outcomes = await Promise.all(ended);
    const expected: Record<string, number> = {};
    for (const o of outcomes) {
      const key = `${o.status} ${o.answer?.label ?? 'ERROR'}`;
      expected[key] = (expected[key] ?? 0) + 1;
    }
    assert.deepEqual(await counted(), expected);
    assert.equal(stats.snapshot(900).totals.requests, outcomes.length, 'the live stats count the same checks');
    metrics.close();
    clearInterval(keepAlive);
  };
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec((await metrics.scrape(false)).body)?.[1]);
  /** Ends a test that does not end with assertCountedOnce. */
  const close = () => {
    metrics.close();
    clearInterval(keepAlive);
  };
  return { backend, service, metrics, stats, check, counted, assertCountedOnce, metric, close };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CheckService batching (one batch in the worker at a time)', () => {
  it('sends the first check at once, then batches what queued behind the busy worker, at most maxBatchSize', async () => {
    const s = setup(1);
    const first = s.check('c1');
    const b1 = await s.backend.sent(1);
    assert.deepEqual(b1.texts, ['c1']);
    const rest = ['c2', 'c3', 'c4', 'c5', 'c6', 'c7'].map((t) => s.check(t));
    assert.equal(s.service.queueDepth, 6, 'queued behind the running batch');
    assert.equal(s.backend.batches.length, 1, 'nothing more is sent while the worker is busy');
    b1.answer();
    assert.equal((await first).status, 200);
    const b2 = await s.backend.sent(2);
    assert.deepEqual(b2.texts, ['c2', 'c3', 'c4', 'c5']);
    assert.equal(s.service.queueDepth, 2);
    b2.answer();
    (await s.backend.sent(3)).answer();
    assert.deepEqual(
      (await Promise.all(rest)).map((o) => o.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.deepEqual(
      s.backend.batches.map((b) => b.items.length),
      [1, 4, 2],
    );
    assert.equal(await s.metric('ofa_ve_batch_size_sum'), 7);
    assert.equal(await s.metric('ofa_ve_batch_size_count'), 3);
    await s.assertCountedOnce();
  });

  it('refuses checks beyond maxQueueSize with 503 OVERLOADED, counted once each', async () => {
    const s = setup(1, { maxQueueSize: 2 });
    s.check('runs');
    const b1 = await s.backend.sent(1);
    const queued = [s.check('q1'), s.check('q2')];
    const over = await s.check('one too many');
    assert.deepEqual(over, { status: 503, code: 'OVERLOADED' });
    b1.answer();
    (await s.backend.sent(2)).answer();
    assert.deepEqual(
      (await Promise.all(queued)).map((o) => o.status),
      [200, 200],
    );
    await s.assertCountedOnce();
  });

  it('fails only the pair the worker refused; the batch size counts the pairs that ran', async () => {
    const s = setup(1);
    s.check('first');
    const b1 = await s.backend.sent(1);
    const pair = [s.check('good'), s.check('bad image')];
    b1.answer();
    const b2 = await s.backend.sent(2);
    b2.answer(0, (item) => (item.text === 'bad image' ? refused({ code: 'INVALID_IMAGE', message: 'not an image' }) : undefined)!);
    const [good, bad] = await Promise.all(pair);
    assert.equal(good?.status, 200);
    assert.deepEqual(bad, { status: 400, code: 'INVALID_IMAGE' });
    assert.equal(await s.metric('ofa_ve_batch_size_sum'), 2, 'one pair in each batch ran');
    await s.assertCountedOnce();
  });

  it('answers a pair the worker refused while preparing at once, before its batch has run; it is counted once', async () => {
    const s = setup(1);
    s.check('first');
    const [good, bad] = [s.check('good'), s.check('bad image')];
    (await s.backend.sent(1)).answer();
    const b2 = await s.backend.sent(2);
    assert.deepEqual(b2.texts, ['good', 'bad image']);
    const error = { code: 'INVALID_IMAGE' as const, message: 'not an image' };
    let answered = false;
    void bad.then(() => (answered = true));
    b2.refuse(1, error);
    await tick();
    assert.ok(answered, 'refused while the batch is still running');
    assert.deepEqual(await bad, { status: 400, code: 'INVALID_IMAGE' });
    // It waited in the queue before its batch was sent (behind the first): its failure row says so.
    const row = s.stats.slowest().find((r) => r.result_type === 'ERROR');
    assert.ok(row && typeof row.stages.queue === 'number' && row.stages.queue >= 0, JSON.stringify(row));
    assert.deepEqual(Object.keys(row.stages), ['queue'], 'no stage it did not run');
    // The batch's own outcome for it says the same again: ignored, not counted twice.
    b2.answer(0, (item) => (item.text === 'bad image' ? refused(error) : undefined)!);
    assert.equal((await good).status, 200);
    await s.assertCountedOnce();
  });

  it('counts the waiting inside the worker as queue time', async () => {
    const s = setup(1);
    const one = s.check('waits in the worker');
    (await s.backend.sent(1)).answer(40);
    const { answer } = await one;
    assert.ok(answer && (answer.stages.queue ?? 0) >= 40, `queue ${answer?.stages.queue} ms includes the 40 ms in the worker`);
    assert.equal(answer.stages.inference, 2, "the other stages are the worker's");
    await s.assertCountedOnce();
  });

  it('answers NOT_READY when no model is loaded, and never sends to the worker', async () => {
    const s = setup(1);
    s.backend.isReady = false;
    assert.deepEqual(await s.check('too early'), { status: 503, code: 'NOT_READY' });
    assert.equal(s.backend.batches.length, 0);
    await s.assertCountedOnce();
  });

  it('drops a check whose client hung up while it was queued: 499, never sent', async () => {
    const s = setup(1);
    s.check('runs');
    const b1 = await s.backend.sent(1);
    const hangUp = new AbortController();
    const abandoned = s.check('abandoned', hangUp.signal);
    const kept = s.check('kept');
    hangUp.abort();
    assert.deepEqual(await abandoned, { status: 499, code: 'CLIENT_CLOSED_REQUEST' });
    assert.equal(s.service.queueDepth, 1);
    b1.answer();
    const b2 = await s.backend.sent(2);
    assert.deepEqual(b2.texts, ['kept']);
    b2.answer();
    assert.equal((await kept).status, 200);
    await s.assertCountedOnce();
  });
});

describe('CheckService with a pipelined worker (the next batch is prepared while one runs)', () => {
  it('sends the next batch once the worker has started on the one it holds, and never more than two', async () => {
    const s = setup(2);
    s.check('a1');
    const b1 = await s.backend.sent(1);
    s.check('b1');
    s.check('b2');
    await tick();
    assert.equal(s.backend.batches.length, 1, 'not while the first still waits for preprocessing threads');
    b1.start();
    const b2 = await s.backend.sent(2);
    assert.deepEqual(b2.texts, ['b1', 'b2'], 'prepared ahead while the first runs');
    s.check('c1');
    b2.start();
    await tick();
    assert.equal(s.backend.batches.length, 2, 'two batches in the worker at most');
    assert.equal(s.service.queueDepth, 1);
    b1.answer();
    const b3 = await s.backend.sent(3);
    assert.deepEqual(b3.texts, ['c1']);
    b2.answer();
    b3.answer();
    await s.assertCountedOnce();
  });

  it('sends a stuck worker nothing more: even a full batch waits until it has started on the one it holds', async () => {
    const s = setup(2);
    s.check('first');
    const b1 = await s.backend.sent(1);
    for (const t of ['f1', 'f2', 'f3', 'f4', 'f5']) s.check(t);
    await tick();
    assert.equal(s.backend.batches.length, 1);
    assert.equal(s.service.queueDepth, 5);
    b1.start();
    const b2 = await s.backend.sent(2);
    assert.deepEqual(b2.texts, ['f1', 'f2', 'f3', 'f4']);
    b1.answer();
    b2.start();
    const b3 = await s.backend.sent(3);
    assert.deepEqual(b3.texts, ['f5']);
    b2.answer();
    b3.answer();
    await s.assertCountedOnce();
  });

  it('a crashed worker fails both batches in it with 500 INTERNAL; checks queued meanwhile wait for the replacement', async () => {
    const s = setup(2);
    const running = s.check('running');
    const b1 = await s.backend.sent(1);
    b1.start();
    const behind = s.check('sent behind it');
    await s.backend.sent(2);
    const queued = s.check('queued');
    s.backend.exit();
    assert.deepEqual(await running, { status: 500, code: 'INTERNAL' });
    assert.deepEqual(await behind, { status: 500, code: 'INTERNAL' });
    const during = s.check('sent while restarting');
    await tick();
    assert.equal(s.service.queueDepth, 2, 'the queued checks wait for the replacement');
    assert.equal(s.backend.batches.length, 2);
    s.backend.comeBack();
    const b3 = await s.backend.sent(3);
    assert.deepEqual(b3.texts, ['queued', 'sent while restarting']);
    b3.answer();
    assert.deepEqual([(await queued).status, (await during).status], [200, 200]);
    await s.assertCountedOnce();
  });
});

describe('CheckService timeouts and the watchdog', () => {
  it('a queued check past the timeout: 503 OVERLOADED; one in a batch: 504 TIMEOUT; the watchdog replaces the worker', async () => {
    const s = setup(1, { requestTimeoutMs: 60 });
    const stuck = s.check('stuck in the worker');
    await s.backend.sent(1);
    const queued = s.check('queued behind it');
    assert.deepEqual(await queued, { status: 503, code: 'OVERLOADED' });
    assert.deepEqual(await stuck, { status: 504, code: 'TIMEOUT' });
    while (s.backend.recycled.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.match(s.backend.recycled[0] ?? '', /a batch of 1 ran past the request timeout \(60 ms\)/);
    // The killed worker fails the batch late: not counted again.
    s.backend.exit();
    await s.assertCountedOnce();
  });

  it('a queued check past the timeout while the worker restarts: 503 NOT_READY', async () => {
    const s = setup(1, { requestTimeoutMs: 60 });
    s.backend.isReady = false;
    s.backend.restarting = true;
    assert.deepEqual(await s.check('waits for the restart'), { status: 503, code: 'NOT_READY' });
    await s.assertCountedOnce();
  });

  it('the watchdog sends the batch behind a hung one back to the queue; it runs on the replacement', async () => {
    const TIMEOUT_MS = 600;
    const s = setup(2, { requestTimeoutMs: TIMEOUT_MS });
    const hung = s.check('hung');
    const b1 = await s.backend.sent(1);
    b1.start();
    // Sent well after the first, so that its own deadline is far from the watchdog's.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS / 2));
    const behind = s.check('behind the hung one');
    const b2 = await s.backend.sent(2);
    assert.deepEqual(b2.texts, ['behind the hung one']);
    const recycled = new Promise<void>((resolve) => {
      const poll = () => (s.backend.recycled.length > 0 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    await recycled;
    assert.deepEqual(await hung, { status: 504, code: 'TIMEOUT' });
    assert.equal(s.service.queueDepth, 1, 'the batch behind it is queued again, not failed');
    s.backend.exit();
    assert.equal(b2.settled, true, 'the killed worker failed it (too late to matter)');
    s.backend.comeBack();
    const b3 = await s.backend.sent(3);
    assert.deepEqual(b3.texts, ['behind the hung one']);
    b3.answer();
    assert.equal((await behind).status, 200);
    await s.assertCountedOnce();
  });
});

describe('CheckService drain', () => {
  it('waits for queued and running checks, and refuses new ones', async () => {
    const s = setup(1);
    const running = s.check('running');
    const b1 = await s.backend.sent(1);
    const queued = s.check('queued');
    const drained = s.service.drain(10_000);
    assert.deepEqual(await s.check('after drain began'), { status: 503, code: 'NOT_READY' });
    b1.answer();
    (await s.backend.sent(2)).answer();
    await drained;
    assert.deepEqual([(await running).status, (await queued).status], [200, 200]);
    await s.assertCountedOnce();
  });
});

describe('CheckService.refuse (what adapters refuse before handing a check over)', () => {
  it('counts each refusal once under its status, beside the checks that ran, and returns the error to answer with', async () => {
    const s = setup(1);
    const ran = s.check('runs');
    (await s.backend.sent(1)).answer();
    assert.equal((await ran).status, 200);
    const context = () => ({ id: crypto.randomUUID(), startedAt: performance.now(), method: 'POST', route: '/api/v1/check' });
    const tooLarge = new CheckError('PAYLOAD_TOO_LARGE', 'the body is over the limit');
    assert.equal(s.service.refuse(tooLarge, context()), tooLarge, 'a CheckError is answered as it is');
    const hungUp = s.service.refuse(new CheckError('CLIENT_CLOSED_REQUEST', 'gone'), context());
    assert.equal(hungUp.status, 499);
    // Anything else thrown while parsing is the service's fault: 500 INTERNAL, no message of the cause.
    const internal = s.service.refuse(new TypeError('a parser bug'), context());
    assert.deepEqual([internal.code, internal.status], ['INTERNAL', 500]);
    assert.doesNotMatch(internal.message, /parser bug/);
    assert.deepEqual(await s.counted(), { '200 YES': 1, '413 ERROR': 1, '499 ERROR': 1, '500 ERROR': 1 });
    assert.equal(s.stats.snapshot(900).totals.requests, 4, 'the live stats count the same checks');
    s.close();
  });
});
