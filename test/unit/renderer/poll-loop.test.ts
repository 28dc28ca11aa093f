/**
 * PollLoop (renderer/api/poll-loop.ts), the loop behind every polling dashboard panel, step by step:
 * requests it answers by hand, timers it fires by hand, so nothing here depends on timing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PollLoop, PollTimeout, pollDeadlineMs, withDeadline, type PollAnswer, type PollTimers } from '../../../renderer/api/poll-loop.ts';

/** Lets every settled promise's callbacks run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A request the test answers when it likes. */
interface Pending<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
  /** The signal the loop gave this request. */
  signal: AbortSignal;
}

/** Timers that run only when the test fires them. */
class ManualTimers implements PollTimers {
  readonly due = new Map<number, { run: () => void; ms: number }>();
  private next = 0;
  set(run: () => void, ms: number): unknown {
    const handle = ++this.next;
    this.due.set(handle, { run, ms });
    return handle;
  }
  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }
  fireAll(): void {
    const runs = [...this.due.values()];
    this.due.clear();
    for (const { run } of runs) run();
  }
}

function harness<T>(intervalMs = 5000) {
  const requests: Pending<T>[] = [];
  const answers: PollAnswer<T>[] = [];
  let sent = 0;
  const timers = new ManualTimers();
  const loop = new PollLoop<T>({
    load: (signal) => new Promise<T>((resolve, reject) => requests.push({ resolve, reject, signal })),
    intervalMs,
    onRequest: () => sent++,
    onAnswer: (answer) => answers.push(answer),
    timers,
  });
  return { loop, requests, answers, timers, sent: () => sent };
}

describe('PollLoop', () => {
  it('asks at once, then again intervalMs after each answer, never twice at once', async () => {
    const h = harness<string>(5000);
    h.loop.start();
    assert.equal(h.requests.length, 1);
    assert.equal(h.timers.due.size, 0, 'no next poll while the first is on its way');
    h.requests[0]!.resolve('first');
    await settled();
    assert.deepEqual(h.answers, [{ ok: true, value: 'first' }]);
    assert.deepEqual(
      [...h.timers.due.values()].map((t) => t.ms),
      [5000],
    );
    h.timers.fireAll();
    assert.equal(h.requests.length, 2);
    h.requests[1]!.resolve('second');
    await settled();
    assert.deepEqual(
      h.answers.map((a) => a.ok && a.value),
      ['first', 'second'],
    );
    assert.equal(h.sent(), 2);
    h.loop.stop();
  });

  it('drops an older answer that arrives after a newer request was sent (a Refresh while a poll was on its way)', async () => {
    const h = harness<string>();
    h.loop.start();
    h.loop.poll();
    assert.equal(h.requests.length, 2);
    h.requests[1]!.resolve('newer');
    await settled();
    h.requests[0]!.resolve('older');
    await settled();
    assert.deepEqual(h.answers, [{ ok: true, value: 'newer' }]);
    assert.equal(h.timers.due.size, 1, 'one next poll, from the newer answer only');
  });

  it('drops an older error too, so it cannot replace a newer value with an error', async () => {
    const h = harness<string>();
    h.loop.start();
    h.loop.poll();
    h.requests[1]!.resolve('newer');
    await settled();
    h.requests[0]!.reject(new Error('slow and failed'));
    await settled();
    assert.deepEqual(h.answers, [{ ok: true, value: 'newer' }]);
  });

  it('drops answers that arrive after stop (the panel asked for another window) and polls no more', async () => {
    const h = harness<string>();
    h.loop.start();
    h.loop.stop();
    h.requests[0]!.resolve('for the old window');
    await settled();
    assert.deepEqual(h.answers, []);
    assert.equal(h.timers.due.size, 0);
    h.loop.poll();
    assert.equal(h.requests.length, 1, 'a stopped loop sends nothing');
  });

  it('a stop while the next poll waits cancels it', async () => {
    const h = harness<string>();
    h.loop.start();
    h.requests[0]!.resolve('one');
    await settled();
    assert.equal(h.timers.due.size, 1);
    h.loop.stop();
    assert.equal(h.timers.due.size, 0);
  });

  it('a Refresh while the next poll waits replaces it: still one request at a time', async () => {
    const h = harness<string>();
    h.loop.start();
    h.requests[0]!.resolve('one');
    await settled();
    h.loop.poll();
    assert.equal(h.timers.due.size, 0, 'the waiting poll was cancelled');
    assert.equal(h.requests.length, 2);
  });

  it('hands on errors, a thrown one included, and keeps polling after them', async () => {
    const timers = new ManualTimers();
    const answers: PollAnswer<number>[] = [];
    let calls = 0;
    const loop = new PollLoop<number>({
      load: () => {
        calls++;
        if (calls === 1) throw new Error('thrown at once');
        if (calls === 2) return Promise.reject(new Error('refused'));
        return Promise.resolve(calls);
      },
      intervalMs: 1000,
      onAnswer: (answer) => answers.push(answer),
      timers,
    });
    loop.start();
    await settled();
    timers.fireAll();
    await settled();
    timers.fireAll();
    await settled();
    loop.stop();
    assert.deepEqual(
      answers.map((a) => (a.ok ? a.value : (a.error as Error).message)),
      ['thrown at once', 'refused', 3],
    );
  });

  it('aborts a request superseded by a Refresh; its AbortError is dropped, never shown as an error', async () => {
    const h = harness<string>();
    h.loop.start();
    h.loop.poll();
    assert.equal(h.requests.length, 2);
    assert.equal(h.requests[0]!.signal.aborted, true, 'the superseded request is cancelled');
    assert.equal(h.requests[1]!.signal.aborted, false, 'the newest one is not');
    // As the clients do: the aborted call rejects with the signal's reason, an AbortError.
    assert.equal((h.requests[0]!.signal.reason as Error).name, 'AbortError');
    h.requests[0]!.reject(h.requests[0]!.signal.reason);
    await settled();
    assert.deepEqual(h.answers, []);
    h.requests[1]!.resolve('newer');
    await settled();
    assert.deepEqual(h.answers, [{ ok: true, value: 'newer' }]);
  });

  it('stop() aborts the request in flight, and its AbortError is dropped', async () => {
    const h = harness<string>();
    h.loop.start();
    assert.equal(h.requests[0]!.signal.aborted, false);
    h.loop.stop();
    assert.equal(h.requests[0]!.signal.aborted, true);
    h.requests[0]!.reject(h.requests[0]!.signal.reason);
    await settled();
    assert.deepEqual(h.answers, []);
  });

  it('aborts nothing that has answered: a poll after an answer, or a stop while the next one waits', async () => {
    const h = harness<string>();
    h.loop.start();
    h.requests[0]!.resolve('one');
    await settled();
    h.loop.poll();
    assert.equal(h.requests[0]!.signal.aborted, false, 'the answered request is left alone');
    h.requests[1]!.resolve('two');
    await settled();
    h.loop.stop();
    assert.deepEqual(
      h.requests.map((r) => r.signal.aborted),
      [false, false],
    );
  });
});

describe('withDeadline: a poll that never answers', () => {
  it('is aborted and fails with SERVICE_UNAVAILABLE after its deadline, so the loop can go on', async () => {
    let seen: AbortSignal | undefined;
    const stuck = withDeadline((signal) => {
      seen = signal;
      return new Promise<number>(() => {});
    }, 20);
    const outer = new AbortController();
    await assert.rejects(stuck(outer.signal), (err: unknown) => {
      assert.ok(err instanceof PollTimeout);
      assert.equal(err.code, 'SERVICE_UNAVAILABLE');
      assert.equal(err.message, 'no answer within 0.02 s');
      return true;
    });
    assert.equal(seen?.aborted, true, 'the request itself was aborted');
    assert.equal(outer.signal.aborted, false);
  });

  it('passes answers, errors and the loop’s own abort through untouched', async () => {
    assert.equal(await withDeadline(async () => 7, 10_000)(new AbortController().signal), 7);
    await assert.rejects(withDeadline(async () => Promise.reject(new Error('refused')), 10_000)(new AbortController().signal), /refused/);
    const outer = new AbortController();
    const pending = withDeadline(
      (signal) => new Promise<number>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      10_000,
    )(outer.signal);
    outer.abort();
    await assert.rejects(pending, (err: unknown) => (err as Error).name === 'AbortError');
  });

  it('three intervals, at least 15 s', () => {
    assert.equal(pollDeadlineMs(1000), 15_000);
    assert.equal(pollDeadlineMs(10_000), 30_000);
  });
});
