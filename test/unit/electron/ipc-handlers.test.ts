/**
 * The desktop window's IPC handlers (main/electron/ipc-handlers.ts) under plain Node, Electron
 * replaced by test/support/electron-stand-in.ts: each handler is called as a renderer's invoke
 * reaches it (a sender frame, the request through structured clone). The sender check's code, the
 * stats subscriptions' lifetime (one set of listeners per window; dropped when the page goes: closed,
 * reloaded or navigated, crashed), what each channel does with a request of the wrong shape, and
 * the size limits HTTP has too (a mark's body) or that only IPC needs (a file to save).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { CheckError } from '../../../main/errors.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { invokeHandlers, saveDialog, StandInWebContents, useElectronStandIn } from '../../support/electron-stand-in.ts';

useElectronStandIn();
const { IpcRouter, MAX_SAVE_BYTES, registerConnectionHandlers, registerConsoleHandlers } =
  await import('../../../main/electron/ipc-handlers.ts');
const { ConnectionManager } = await import('../../../main/electron/remote-connection.ts');

const stats = new LiveStats();
/** The checks the stand-in runtime holds: each waits until the test answers it, or its signal aborts. */
const held: { request: unknown; signal: AbortSignal | undefined; answer: (value: unknown) => void }[] = [];
// The part of ServiceRuntime the handlers under test reach: the real LiveStats, a stats document per
// tick, and checks that wait (rejected CLIENT_CLOSED_REQUEST when aborted, as the service's queue does).
const runtime = {
  stats,
  statsDocument: (windowS: number) => ({ window_s: windowS }),
  checkStructured: (request: unknown, signal?: AbortSignal) =>
    new Promise((resolve, reject) => {
      held.push({ request, signal, answer: resolve });
      signal?.addEventListener('abort', () => reject(new CheckError('CLIENT_CLOSED_REQUEST', 'the client closed the connection')), {
        once: true,
      });
    }),
};
const router = new IpcRouter(undefined);
const consoleHandlers = registerConsoleHandlers(
  router,
  () => runtime as never,
  () => ({ metrics_url: null, version: 'test' }),
);
const keeper = { status: () => ({ available: true }) as const, save: async () => {}, load: async () => undefined };
const connection = new ConnectionManager(
  { mode: 'local' },
  { tokens: keeper, settingsFile: '/nonexistent/connection.json', startLocal: async () => {}, stopLocal: async () => {} },
);
registerConnectionHandlers(router, connection);

type Answer = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

/** A renderer's invoke: from `sender`'s main frame unless another frame is given. */
async function invoke(channel: string, request: unknown, sender: StandInWebContents, frame: unknown = sender.mainFrame): Promise<Answer> {
  const handler = invokeHandlers.get(channel);
  assert.ok(handler, `a handler for ${channel}`);
  return (await handler({ senderFrame: frame, sender }, request === undefined ? undefined : structuredClone(request))) as Answer;
}

function errorCode(answer: Answer): string | undefined {
  return answer.ok ? undefined : answer.error.code;
}

async function subscribe(sender: StandInWebContents): Promise<string> {
  const answer = await invoke('stats:subscribe', { windowS: 60 }, sender);
  assert.ok(answer.ok, JSON.stringify(answer));
  return (answer.value as { subscriptionId: string }).subscriptionId;
}

describe('IPC sender check', () => {
  it('a call from another frame than the app page in the main frame is FORBIDDEN, not UNAUTHORIZED ("signed out")', async () => {
    const sender = new StandInWebContents();
    const iframe = { url: 'app://console/index.html' };
    assert.deepEqual(await invoke('model:info', undefined, sender, iframe), {
      ok: false,
      error: { code: 'FORBIDDEN', message: 'IPC call from an untrusted frame' },
    });
    const navigatedAway = new StandInWebContents('https://evil.example/');
    assert.equal(errorCode(await invoke('stats:marks', undefined, navigatedAway)), 'FORBIDDEN');
    assert.equal(errorCode(await invoke('stats:marks', undefined, sender)), undefined, 'the app page is served');
  });
});

describe('stats subscriptions', () => {
  afterEach(() => consoleHandlers.unsubscribeAll());

  it('keep one set of listeners per window, however many come and go', async () => {
    const sender = new StandInWebContents();
    for (let i = 0; i < 200; i++) {
      const subscriptionId = await subscribe(sender);
      assert.deepEqual(await invoke('stats:unsubscribe', { subscriptionId }, sender), { ok: true, value: null });
    }
    for (const event of ['destroyed', 'did-start-navigation', 'render-process-gone']) {
      assert.equal(sender.listenerCount(event), 1, event);
    }
    const other = new StandInWebContents();
    await subscribe(other);
    assert.equal(other.listenerCount('destroyed'), 1, 'each window its own');
    assert.equal(sender.listenerCount('destroyed'), 1);
  });

  describe('end with the page that made them (on a test clock)', () => {
    beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setImmediate'] }));
    afterEach(() => mock.timers.reset());

    /** How many stats ticks the page gets in the next second. */
    function ticksInASecond(sender: StandInWebContents): number {
      mock.timers.tick(1); // the first tick each new subscription sends at once
      const before = sender.sent.length;
      mock.timers.tick(1000);
      return sender.sent.length - before;
    }

    it('a reload or navigation of the main frame drops them; a same-document or sub-frame navigation does not', async () => {
      const sender = new StandInWebContents();
      await subscribe(sender);
      await subscribe(sender);
      assert.equal(ticksInASecond(sender), 2);
      sender.emit('did-start-navigation', { isMainFrame: true, isSameDocument: true, url: 'app://console/index.html#dashboard' });
      sender.emit('did-start-navigation', { isMainFrame: false, isSameDocument: false, url: 'about:blank' });
      assert.equal(ticksInASecond(sender), 2, 'the page is still there');
      sender.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false, url: 'app://console/index.html' });
      assert.equal(ticksInASecond(sender), 0, 'the reloaded page knows nothing of them');
      await subscribe(sender);
      assert.equal(ticksInASecond(sender), 1, 'the new page subscribes afresh');
    });

    it('a crashed renderer or a closed window drops them; another window keeps its own', async () => {
      const crashing = new StandInWebContents();
      const closing = new StandInWebContents();
      const staying = new StandInWebContents();
      await subscribe(crashing);
      await subscribe(closing);
      await subscribe(staying);
      crashing.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 });
      closing.emit('destroyed');
      assert.equal(ticksInASecond(crashing), 0);
      assert.equal(ticksInASecond(closing), 0);
      assert.equal(ticksInASecond(staying), 1);
    });

    it('a page that never unsubscribes keeps at most 8', async () => {
      const sender = new StandInWebContents();
      for (let i = 0; i < 12; i++) await subscribe(sender);
      assert.equal(ticksInASecond(sender), 8);
    });
  });
});

describe('checks over IPC and their cancel', () => {
  const check = (checkId: string | undefined) => ({ image: new Uint8Array([1]), name: 'a.png', text: 'a dog', checkId });
  /** Lets the held checks' handlers run up to the runtime. */
  const settle = () => new Promise((r) => setImmediate(r));
  afterEach(() => {
    for (const h of held.splice(0)) h.answer({ label: 'YES' });
  });

  it("check:cancel aborts the window's check of that id; the page gets what the service answered to it", async () => {
    const sender = new StandInWebContents();
    const answer = invoke('check:run', check('c1'), sender);
    const other = invoke('check:run', check('c2'), sender);
    await settle();
    assert.equal(held.length, 2);
    assert.deepEqual(await invoke('check:cancel', { checkId: 'c1' }, sender), { ok: true, value: { cancelled: true } });
    assert.equal(errorCode(await answer), 'CLIENT_CLOSED_REQUEST');
    assert.equal(held[1]!.signal?.aborted, false, 'the other check goes on');
    held[1]!.answer({ label: 'NO' });
    assert.deepEqual(await other, { ok: true, value: { label: 'NO' } });
    assert.deepEqual(
      await invoke('check:cancel', { checkId: 'c1' }, sender),
      { ok: true, value: { cancelled: false } },
      'answered already',
    );
  });

  it("one window cannot cancel another's check, whatever id it names", async () => {
    const [mine, theirs] = [new StandInWebContents(), new StandInWebContents()];
    const answer = invoke('check:run', check('same'), mine);
    await settle();
    assert.deepEqual(await invoke('check:cancel', { checkId: 'same' }, theirs), { ok: true, value: { cancelled: false } });
    assert.equal(held[0]!.signal?.aborted, false);
    held[0]!.answer({ label: 'MAYBE' });
    assert.ok((await answer).ok);
  });

  it('a reload, a crash or a closed window cancels every check the page had in flight, named or not', async () => {
    for (const gone of [
      (s: StandInWebContents) =>
        s.emit('did-start-navigation', { isMainFrame: true, isSameDocument: false, url: 'app://console/index.html' }),
      (s: StandInWebContents) => s.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 1 }),
      (s: StandInWebContents) => s.emit('destroyed'),
    ]) {
      const [leaving, staying] = [new StandInWebContents(), new StandInWebContents()];
      const answers = [invoke('check:run', check('a'), leaving), invoke('check:run', check(undefined), leaving)];
      const kept = invoke('check:run', check('a'), staying);
      await settle();
      gone(leaving);
      assert.deepEqual((await Promise.all(answers)).map(errorCode), ['CLIENT_CLOSED_REQUEST', 'CLIENT_CLOSED_REQUEST']);
      const stay = held.find((h) => !h.signal?.aborted);
      assert.ok(stay, "the other window's check goes on");
      stay.answer({ label: 'YES' });
      assert.ok((await kept).ok);
      held.splice(0);
    }
  });

  it('check:cancel of the wrong shape is BAD_REQUEST', async () => {
    const sender = new StandInWebContents();
    for (const request of [null, 'x', 5, [], { checkId: 5 }, {}, { checkId: '' }, { checkId: 'c'.repeat(65) }]) {
      assert.equal(errorCode(await invoke('check:cancel', request, sender)), 'BAD_REQUEST', JSON.stringify(request));
    }
  });
});

describe('requests of the wrong shape', () => {
  const sender = new StandInWebContents();
  const notObjects = [null, 'x', 5, [], [{ windowS: 60 }]];

  it('each console channel that takes a request answers BAD_REQUEST, never INTERNAL or a value', async () => {
    const cases: [string, unknown[]][] = [
      ['stats:subscribe', [...notObjects, { windowS: '60' }, { windowS: 60.5 }, { windowS: 0 }]],
      ['stats:unsubscribe', [...notObjects, { subscriptionId: 5 }, { subscriptionId: { toString: 1 } }]],
      ['stats:slices', [...notObjects, { windowS: 60 }, { windowS: '60', attribute: 'image_size' }]],
      ['stats:add-mark', [...notObjects, { name: 5 }]],
      ['stats:compare', [...notObjects, { a: 1, b: 2 }]],
      ['stats:trace', [...notObjects, { id: 5, format: 'chrome' }, { id: 'x', format: 'svg' }]],
      ['file:save', [...notObjects, { content: 5 }, { content: ['a'] }]],
    ];
    for (const [channel, requests] of cases) {
      for (const request of requests) {
        const answer = await invoke(channel, request, sender);
        assert.equal(errorCode(answer), 'BAD_REQUEST', `${channel} ${JSON.stringify(request)}: ${JSON.stringify(answer)}`);
      }
    }
  });

  it('the connection channels answer their own codes (BAD_URL, BAD_TOKEN)', async () => {
    for (const request of [...notObjects, { url: 5 }]) {
      assert.equal(errorCode(await invoke('connection:test', request, sender)), 'BAD_URL', JSON.stringify(request));
    }
    assert.equal(errorCode(await invoke('connection:test', { url: 'http://127.0.0.1:9', token: 5 }, sender)), 'BAD_TOKEN');
    for (const request of [...notObjects, { mode: 'Remote' }, { mode: 'remote', url: 5 }]) {
      assert.equal(errorCode(await invoke('connection:connect', request, sender)), 'BAD_URL', JSON.stringify(request));
    }
    assert.equal(connection.current.mode, 'local', 'nothing switched');
  });
});

describe('size limits', () => {
  const sender = new StandInWebContents();
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-ipc-'));
  });
  after(async () => {
    saveDialog.filePath = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a mark whose body would be over 4096 bytes is PAYLOAD_TOO_LARGE, as POST /api/v1/marks answers', async () => {
    const before = stats.marks().length;
    for (const name of ['x'.repeat(1 << 20), 'x'.repeat(4096)]) {
      const answer = await invoke('stats:add-mark', { name }, sender);
      assert.equal(errorCode(answer), 'PAYLOAD_TOO_LARGE', `${name.length} characters`);
      assert.match((answer as { error: { message: string } }).error.message, /^the body is over 4096 bytes$/);
    }
    const answer = await invoke('stats:add-mark', { name: 'deploy v2' }, sender);
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.equal(stats.marks().length, before + 1);
  });

  it('a file to save over the cap is PAYLOAD_TOO_LARGE and nothing is written; one under it is saved as given', async () => {
    saveDialog.filePath = path.join(dir, 'huge.csv');
    // Not through structured clone (64 MiB twice): the handler sees the same string either way.
    const handler = invokeHandlers.get('file:save')!;
    const huge = (await handler(
      { senderFrame: sender.mainFrame, sender },
      { suggestedName: 'r.csv', content: 'x'.repeat(MAX_SAVE_BYTES + 1) },
    )) as Answer;
    assert.equal(errorCode(huge), 'PAYLOAD_TOO_LARGE');
    assert.match((huge as { error: { message: string } }).error.message, /over 64 MiB/);
    await assert.rejects(stat(saveDialog.filePath), { code: 'ENOENT' });
    // Multi-byte text: the cap is on the bytes written, not the characters.
    const wide = 'é'.repeat(MAX_SAVE_BYTES / 2 + 1);
    assert.equal(errorCode((await handler({ senderFrame: sender.mainFrame, sender }, { content: wide })) as Answer), 'PAYLOAD_TOO_LARGE');

    saveDialog.filePath = path.join(dir, 'results.csv');
    assert.deepEqual(
      await invoke('file:save', { suggestedName: 'results.csv', content: 'name,label\na.png,YES\n', mimeType: 'text/csv' }, sender),
      {
        ok: true,
        value: { saved: true },
      },
    );
    assert.equal(await readFile(saveDialog.filePath, 'utf8'), 'name,label\na.png,YES\n');
  });
});
