/**
 * The checker's store (plain TypeScript, no DOM) driven as the view drives it, against the real
 * service (the harness runs the demo model) through the real browser-mode client. Persistence
 * (IndexedDB) is tested for real in Chromium by test/e2e/browser-console.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { HttpConsoleClient } from '../../renderer/api/http-client.ts';
import { CheckerStore, type CheckRow } from '../../renderer/checker/checker-store.ts';
import { countRows } from '../../renderer/checker/row-filter.ts';
import { sortRows } from '../../renderer/checker/row-sort.ts';
import { isStale, rowStatus, rowsToSend, textToSend, type DefaultText } from '../../renderer/checker/row-status.ts';
import type { CheckResult } from '../../preload/wire-types.ts';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';

async function png(seed: number): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = await sharp({ create: { width: 64 + seed, height: 48, channels: 3, background: { r: (seed * 40) % 255, g: 90, b: 30 } } })
    .png()
    .toBuffer();
  return new Uint8Array(bytes);
}

async function picked(path: string, seed: number): Promise<{ file: File; path: string }> {
  const name = path.split('/').pop() as string;
  return { file: new File([await png(seed)], name, { type: 'image/png', lastModified: 1_700_000_000_000 + seed }), path };
}

function row(store: CheckerStore, name: string): CheckRow {
  const found = store.getSnapshot().rows.find((r) => r.name === name);
  assert.ok(found, `row ${name}`);
  return found;
}

function names(rows: readonly { name: string }[]): string[] {
  return rows.map((r) => r.name);
}

const NONE: DefaultText = { caption: '', premise: '' };

describe('row status (what a row is sent with and where it stands)', () => {
  const base = { caption: '', premise: '', state: 'pending' as const };

  it('sends the row’s own text, else the caption field’s; a row with neither is not ready', () => {
    const defaults = { caption: ' dogs in snow ', premise: 'winter' };
    assert.deepEqual(textToSend(base, defaults), { caption: 'dogs in snow', premise: 'winter' });
    assert.deepEqual(textToSend({ ...base, caption: 'a cat' }, defaults), { caption: 'a cat', premise: 'winter' });
    assert.equal(rowStatus(base, NONE), 'nocaption');
    assert.equal(rowStatus(base, defaults), 'unchecked');
  });

  it('keeps an answer for other text as stale, and sends stale rows before re-checking answered ones', () => {
    const result = { label: 'YES' } as CheckResult;
    const answered = { ...base, state: 'done' as const, result, checked: { caption: 'old', premise: '' } };
    assert.equal(isStale(answered, { caption: 'old', premise: '' }), false);
    assert.equal(rowStatus(answered, { caption: 'old', premise: '' }), 'YES');
    assert.equal(rowStatus(answered, { caption: 'new', premise: '' }), 'stale');
    assert.equal(rowStatus(answered, NONE), 'nocaption');
    const fresh = { ...answered, checked: { caption: 'new', premise: '' } };
    assert.deepEqual(rowsToSend([answered, fresh, base], { caption: 'new', premise: '' }), [answered, base]);
    // Everything answered: all of them again; nothing with a caption: nothing.
    assert.deepEqual(rowsToSend([fresh], { caption: 'new', premise: '' }), [fresh]);
    assert.deepEqual(rowsToSend([base], NONE), []);
  });
});

describe('sort and filter counts', () => {
  const result = (label: 'YES' | 'NO' | 'MAYBE', score: number, latency: number) => ({ label, score, latency_ms: latency }) as CheckResult;
  const defaults = { caption: 'c', premise: '' };
  const checked = { caption: 'c', premise: '' };
  const rows = [
    { id: 1, path: 'b/z.png', caption: '', premise: '', state: 'done' as const, result: result('NO', 0.5, 30), checked },
    { id: 2, path: 'a/y.png', caption: '', premise: '', state: 'pending' as const },
    { id: 3, path: 'a/x10.png', caption: '', premise: '', state: 'done' as const, result: result('YES', 0.9, 10), checked },
    { id: 4, path: 'a/x9.png', caption: '', premise: '', state: 'error' as const, error: { code: 'INVALID_IMAGE', message: 'x' }, checked },
    { id: 5, path: 'c.png', caption: '', premise: '', state: 'done' as const, result: result('MAYBE', 0.7, 20), checked },
  ];
  const ids = (order: Parameters<typeof sortRows>[1]) => sortRows(rows, order, defaults).map((r) => r.id);

  it('sorts by score and latency with unanswered rows last either way', () => {
    assert.deepEqual(ids({ key: 'score', direction: 'desc' }), [3, 5, 1, 2, 4]);
    assert.deepEqual(ids({ key: 'score', direction: 'asc' }), [1, 5, 3, 2, 4]);
    assert.deepEqual(ids({ key: 'latency', direction: 'desc' }), [1, 5, 3, 2, 4]);
  });

  it('sorts by label (answers first) and by path in natural order', () => {
    assert.deepEqual(ids({ key: 'label', direction: 'asc' }), [3, 1, 5, 4, 2]);
    assert.deepEqual(ids({ key: 'file', direction: 'asc' }), [4, 3, 2, 1, 5]);
    assert.deepEqual(ids({ key: 'file', direction: 'desc' }), [5, 1, 2, 3, 4]);
    assert.deepEqual(ids({ key: 'added', direction: 'asc' }), [1, 2, 3, 4, 5]);
  });

  it('counts every row once, under its label', () => {
    assert.deepEqual(countRows(rows, defaults), { all: 5, YES: 1, NO: 1, MAYBE: 1, ERROR: 1, unchecked: 1, nocaption: 0 });
    assert.deepEqual(countRows(rows, NONE), { all: 5, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, unchecked: 0, nocaption: 5 });
  });
});

describe('checker store against the real service', () => {
  let h: Harness;
  let client: HttpConsoleClient;

  before(async () => {
    h = await startHarness();
    client = new HttpConsoleClient(h.url);
  });
  after(async () => {
    await h?.close();
  });

  it('checks rows without a caption against the caption field, with no Apply step', async () => {
    const store = new CheckerStore();
    store.setDefaultCaption('two dogs play');
    await store.addFiles([await picked('a.png', 1), await picked('b.png', 2)]);
    await store.checkAll(client);
    for (const name of ['a.png', 'b.png']) {
      const r = row(store, name);
      assert.equal(r.state, 'done', name);
      assert.equal(r.caption, '', 'the field is not copied into the row');
      assert.deepEqual(r.checked, { caption: 'two dogs play', premise: '' });
    }
    assert.equal(store.getSnapshot().batch?.outcome, 'finished');
    assert.equal(store.hasUnfinishedWork(), true, 'answers not exported yet');
    store.markExported(false);
    assert.equal(store.hasUnfinishedWork(), true, 'an export of a filtered view does not count');
    store.markExported(true);
    assert.equal(store.hasUnfinishedWork(), false);
  });

  it('never sends a row with no caption anywhere, and says how many were left out', async () => {
    const store = new CheckerStore();
    await store.addFiles([await picked('own.png', 3), await picked('blank.png', 4)]);
    store.setRowCaption(row(store, 'own.png').id, 'a brown square');
    const before = (await (await fetch(`${h.url}/metrics`)).text()).match(/^ofa_ve_request_total\{[^}]*\} \S+$/gm) ?? [];
    const sum = (lines: string[]) => lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    await store.checkAll(client);
    const afterLines = (await (await fetch(`${h.url}/metrics`)).text()).match(/^ofa_ve_request_total\{[^}]*\} \S+$/gm) ?? [];
    assert.equal(sum(afterLines) - sum(before), 1, 'one request reached the service');
    assert.equal(row(store, 'own.png').state, 'done');
    assert.equal(row(store, 'blank.png').state, 'pending');
    assert.equal(rowStatus(row(store, 'blank.png'), store.getSnapshot().defaults), 'nocaption');
    assert.equal(store.getSnapshot().batch?.skipped, 1);
  });

  it('sends no caption over the service’s byte limit, and does not resend a row refused for its image', async () => {
    const limit = (await client.modelInfo()).limits?.max_text_bytes;
    assert.equal(typeof limit, 'number', 'the model document says the service’s text limit');
    const store = new CheckerStore();
    store.setDefaultCaption('é'.repeat(((limit as number) >> 1) + 1));
    const broken = { file: new File([new Uint8Array([1, 2, 3])], 'broken.png', { type: 'image/png' }), path: 'broken.png' };
    await store.addFiles([await picked('long.png', 21), broken]);
    await store.checkAll(client, limit);
    assert.equal(store.getSnapshot().batch, undefined, 'nothing was sent');
    await store.checkRow(client, row(store, 'long.png').id, limit);
    assert.equal(row(store, 'long.png').state, 'pending', 'not by its own Check either');
    store.setDefaultCaption('a square');
    await store.checkAll(client, limit);
    assert.equal(row(store, 'broken.png').error?.code, 'INVALID_IMAGE');
    assert.deepEqual(names(rowsToSend(store.getSnapshot().rows, store.getSnapshot().defaults, limit)), ['long.png']);
  });

  it('keeps an answer when the text changes (stale), and checks it again on the next Check', async () => {
    const store = new CheckerStore();
    store.setDefaultCaption('first caption');
    await store.addFiles([await picked('s.png', 5)]);
    await store.checkAll(client);
    const first = row(store, 's.png').result;
    store.setDefaultCaption('second caption');
    const stale = row(store, 's.png');
    assert.equal(stale.result, first, 'the answer is still there');
    assert.equal(rowStatus(stale, store.getSnapshot().defaults), 'stale');
    await store.checkAll(client);
    assert.deepEqual(row(store, 's.png').checked, { caption: 'second caption', premise: '' });
    assert.notEqual(row(store, 's.png').result?.id, first?.id);
  });

  it('asks before Clear all, and Undo brings back rows, captions and answers', async () => {
    const store = new CheckerStore();
    store.setDefaultCaption('a square');
    await store.addFiles([await picked('u1.png', 6), await picked('u2.png', 7)]);
    store.setRowCaption(row(store, 'u2.png').id, 'its own caption');
    await store.checkAll(client);
    const before = store.getSnapshot().rows;
    store.requestClearAll();
    const question = store.getSnapshot().question;
    assert.match(question?.text ?? '', /Clear all 2 rows, with 2 answers and 1 caption typed or imported\?/);
    assert.equal(store.getSnapshot().rows.length, 2, 'nothing cleared before the answer');
    question?.choices.find((c) => c.testId === 'confirm-clear')?.run();
    assert.equal(store.getSnapshot().rows.length, 0);
    store
      .getSnapshot()
      .notice?.actions?.find((a) => a.testId === 'undo')
      ?.run();
    assert.deepEqual(store.getSnapshot().rows, before);

    store.removeRow(row(store, 'u1.png').id);
    assert.deepEqual(names(store.getSnapshot().rows), ['u2.png']);
    store
      .getSnapshot()
      .notice?.actions?.find((a) => a.testId === 'undo')
      ?.run();
    assert.deepEqual(names(store.getSnapshot().rows), ['u1.png', 'u2.png'], 'back in its place');
  });

  it('asks before an imported list replaces captions a reviewer typed, and can keep them', async () => {
    const store = new CheckerStore();
    await store.addFiles([await picked('typed.png', 8), await picked('empty.png', 9)]);
    store.setRowCaption(row(store, 'typed.png').id, 'what I typed');
    const list = 'image,caption\ntyped.png,listed one\nempty.png,listed two\n';
    store.importListText('pairs.csv', list);
    const question = store.getSnapshot().question;
    assert.match(question?.text ?? '', /pairs\.csv gives 1 row a different caption/);
    assert.equal(row(store, 'typed.png').caption, 'what I typed', 'untouched while asking');
    question?.choices.find((c) => c.testId === 'import-keep')?.run();
    assert.equal(row(store, 'typed.png').caption, 'what I typed');
    assert.equal(row(store, 'empty.png').caption, 'listed two');

    store.importListText('pairs.csv', list);
    store
      .getSnapshot()
      .question?.choices.find((c) => c.testId === 'import-replace')
      ?.run();
    assert.equal(row(store, 'typed.png').caption, 'listed one');
    store
      .getSnapshot()
      .notice?.actions?.find((a) => a.testId === 'undo')
      ?.run();
    assert.equal(row(store, 'typed.png').caption, 'what I typed', 'undo gives the typed caption back');
  });

  it('leaves out the same file dropped again, and marks a copy of one under another path', async () => {
    const store = new CheckerStore();
    await store.addFiles([await picked('trip/a.png', 10)]);
    await store.addFiles([await picked('trip/a.png', 10), await picked('backup/a.png', 10)]);
    const { rows, notice } = store.getSnapshot();
    assert.deepEqual(
      rows.map((r) => [r.path, r.copyOf]),
      [
        ['trip/a.png', undefined],
        ['backup/a.png', 'trip/a.png'],
      ],
    );
    assert.match(notice?.text ?? '', /1 already in the table .*backup\/a\.png is the same image as trip\/a\.png/);
    notice?.actions?.find((a) => a.testId === 'remove-copies')?.run();
    assert.deepEqual(
      store.getSnapshot().rows.map((r) => r.path),
      ['trip/a.png'],
    );
  });

  /** The service's count of checks (ofa_ve_request_total, every POST /api/v1/check). */
  async function checksCounted(): Promise<number> {
    return requestTotals(await (await fetch(`${h.url}/metrics`)).text()).total;
  }

  async function waitFor(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(condition(), what);
  }

  /**
   * Holds each check on its way out (fetch of POST /api/v1/check) until released, as a slow network
   * would, so that rows can be removed while some are in flight and others wait; `restore` ends it.
   */
  function holdChecks(): { held: (() => void)[]; restore: () => void } {
    const held: (() => void)[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      if (init?.method === 'POST' && String(input).endsWith('/api/v1/check')) await new Promise<void>((release) => held.push(release));
      // An aborted signal makes the real fetch reject at once, sending nothing.
      return realFetch(input, init);
    };
    return { held, restore: () => (globalThis.fetch = realFetch) };
  }

  it('never sends a row removed during Check all, cancels one removed in flight, and counts only the rows checked', async () => {
    const store = new CheckerStore();
    store.setDefaultCaption('a square');
    await store.addFiles(await Promise.all(Array.from({ length: 10 }, (_, i) => picked(`b${i}.png`, 30 + i))));
    const before = await checksCounted();
    const { held, restore } = holdChecks();
    const batch = store.checkAll(client);
    let releasing: ReturnType<typeof setInterval> | undefined;
    try {
      await waitFor(() => held.length === 4, 'four checks in flight at once');
      // b1 is in flight (4 at once); b8 and b9 wait their turn.
      for (const name of ['b1.png', 'b8.png', 'b9.png']) store.removeRow(row(store, name).id);
      releasing = setInterval(() => held.splice(0).forEach((release) => release()), 5);
      await batch;
    } finally {
      clearInterval(releasing);
      held.splice(0).forEach((release) => release());
      restore();
    }
    assert.equal((await checksCounted()) - before, 7, 'only the rows in the table reached the service');
    const status = store.getSnapshot().batch;
    assert.equal(status?.outcome, 'finished');
    assert.deepEqual([status?.progress.done, status?.progress.total, status?.progress.failed, status?.removed], [7, 7, 0, 3]);
    assert.equal(store.getSnapshot().notice?.text, 'Removed 3 rows.');
    assert.equal(countRows(store.getSnapshot().rows, store.getSnapshot().defaults).unchecked, 0);

    // Undo brings the three back where they were, not checked (none of them was answered).
    store
      .getSnapshot()
      .notice?.actions?.find((a) => a.testId === 'undo')
      ?.run();
    assert.deepEqual(
      names(store.getSnapshot().rows),
      Array.from({ length: 10 }, (_, i) => `b${i}.png`),
    );
    for (const name of ['b1.png', 'b8.png', 'b9.png']) assert.equal(rowStatus(row(store, name), store.getSnapshot().defaults), 'unchecked');
    assert.match(store.getSnapshot().notice?.text ?? '', /^Restored 3 rows with their captions; not checked/);
  });

  it('undoes several removals in a row with one Undo, each row with the answer it had', async () => {
    const store = new CheckerStore();
    store.setDefaultCaption('a square');
    await store.addFiles(await Promise.all(Array.from({ length: 5 }, (_, i) => picked(`n${i}.png`, 50 + i))));
    await store.checkAll(client);
    const answered = store.getSnapshot().rows;
    for (const name of ['n1.png', 'n2.png', 'n4.png']) store.removeRow(row(store, name).id);
    assert.equal(store.getSnapshot().notice?.text, 'Removed 3 rows.');
    const undo = () =>
      store
        .getSnapshot()
        .notice?.actions?.find((a) => a.testId === 'undo')
        ?.run();
    undo();
    assert.deepEqual(store.getSnapshot().rows, answered, 'every row back in its place, with its answer');
    assert.equal(store.getSnapshot().notice?.text, 'Restored 3 rows with their captions and answers.');
    // A removal after another notice starts afresh: its Undo brings back that row only.
    store.removeRow(row(store, 'n0.png').id);
    assert.equal(store.getSnapshot().notice?.text, 'Removed n0.png.');
    store.removeRow(row(store, 'n3.png').id);
    store.dismissNotice();
    store.removeRow(row(store, 'n1.png').id);
    assert.equal(store.getSnapshot().notice?.text, 'Removed n1.png.');
    undo();
    assert.deepEqual(names(store.getSnapshot().rows), ['n1.png', 'n2.png', 'n4.png']);
  });

  it('marks the rows of a batch "service unavailable" when the service is gone', async () => {
    const gone = await startHarness();
    const goneClient = new HttpConsoleClient(gone.url);
    await gone.close();
    const store = new CheckerStore();
    store.setDefaultCaption('a square');
    await store.addFiles([await picked('g1.png', 11), await picked('g2.png', 12)]);
    await store.checkAll(goneClient);
    for (const r of store.getSnapshot().rows) assert.equal(r.error?.code, 'SERVICE_UNAVAILABLE', r.name);
    const batch = store.getSnapshot().batch;
    assert.equal(batch?.outcome, 'failed');
    // The rows are errors, as the counts say: the message does not call them "not checked".
    assert.equal(batch?.message, 'the service is unavailable; press Check again once it is back');
    assert.equal(countRows(store.getSnapshot().rows, store.getSnapshot().defaults).ERROR, 2);
    // They are sent again by the next Check.
    assert.equal(rowsToSend(store.getSnapshot().rows, store.getSnapshot().defaults).length, 2);
  });
});
