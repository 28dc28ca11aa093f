/**
 * The browser UI end to end, as a newcomer uses it: the real `ofa-ve serve` serving the built UI,
 * Debian's Chromium driven by Playwright, files dropped with a real drop event carrying File
 * objects. The batch is kept in the page's real IndexedDB, so the reload test reads it back for
 * real. Screenshots go to test-results/ (checker.png, checker-scripts.png, checker-700.png,
 * dashboard.png).
 *
 * The tests run in order on one page: each starts from the table the previous one left.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, FileChooser, Page } from 'playwright-core';
import sharp from 'sharp';
import { parseCsv } from '../../preload/pair-list.ts';
import { dropFiles, launchChromium, type DroppedFile } from '../support/browser.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM } from '../support/e2e-page.ts';

const CAPTION = 'two dogs play on the grass';
/** 90 words: the demo model (max_words 80) reads up to "word80". */
const LONG_CAPTION = Array.from({ length: 90 }, (_, i) => `word${i + 1}`).join(' ');
const CJK_CAPTION = '两只狗在雪地里玩耍 🐕❄️';
const ARABIC_CAPTION = 'كلبان يلعبان في الثلج 🐶';

async function png(seed: number): Promise<Buffer> {
  return sharp({
    create: { width: 240 + seed * 20, height: 180, channels: 3, background: { r: (seed * 80) % 255, g: 140, b: (200 + seed * 30) % 255 } },
  })
    .png()
    .toBuffer();
}

async function pngFile(name: string, seed: number): Promise<DroppedFile> {
  return { name, type: 'image/png', base64: (await png(seed)).toString('base64') };
}

/** A table row as the reviewer sees it. */
interface ShownRow {
  file: string;
  path: string;
  /** The row's own caption, or the caption field's it uses (shown as its placeholder). */
  caption: string;
  state: string;
  status: string;
  label: string | null;
  score: string | null;
  latencyMs: number | null;
  thumbLoaded: boolean;
}

function shownRows(page: Page): Promise<ShownRow[]> {
  // No named helpers inside: tsx would wrap them in __name(), which the page does not have.
  return page.$$eval('[data-testid="result-row"]', (trs) =>
    trs.map((tr) => {
      const el = tr as HTMLElement;
      const input = el.querySelector('[data-testid="row-caption"]') as HTMLInputElement;
      const [label, score, latency] = ['label', 'score', 'latency'].map(
        (id) => el.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null,
      );
      const thumb = el.querySelector('img.thumb') as HTMLImageElement | null;
      return {
        file: el.dataset.file ?? '',
        path: el.dataset.path ?? '',
        caption: input.value || input.placeholder,
        state: el.dataset.state ?? '',
        status: el.dataset.status ?? '',
        label: label ?? null,
        score: score ?? null,
        latencyMs: latency === null || latency === undefined ? null : Number.parseFloat(latency),
        thumbLoaded: thumb !== null && thumb.complete && thumb.naturalWidth > 0,
      };
    }),
  );
}

/** Waits until every row has settled (an answer, an error, or nothing to send). */
async function waitSettled(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const rows = [...document.querySelectorAll('[data-testid="result-row"]')];
      return (
        rows.length === n &&
        rows.every((r) => ['done', 'error'].includes(r.getAttribute('data-state') ?? '') || r.getAttribute('data-status') === 'nocaption')
      );
    },
    count,
    { timeout: 30_000 },
  );
}

/** Waits until this many rows have an answer. */
async function waitDone(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="result-row"][data-state="done"]').length === n, count, {
    timeout: 30_000,
  });
}

/** Waits until the row of this file is in this state. */
async function waitRowState(page: Page, file: string, state: string): Promise<void> {
  await page.waitForFunction(([f, s]) => document.querySelector(`[data-file="${f}"]`)?.getAttribute('data-state') === s, [file, state], {
    timeout: 30_000,
  });
}

/** The rows saved in the page's IndexedDB, and how many of them have an answer. */
function savedRows(page: Page): Promise<{ rows: number; answered: number; images: number }> {
  return page.evaluate(
    () =>
      new Promise<{ rows: number; answered: number; images: number }>((resolve, reject) => {
        const open = indexedDB.open('ofa-ve-checker');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['rows', 'images'], 'readonly');
          const rows = tx.objectStore('rows').getAll();
          const images = tx.objectStore('images').count();
          tx.oncomplete = () => {
            const all = rows.result as { state: string }[];
            resolve({ rows: all.length, answered: all.filter((r) => r.state === 'done').length, images: images.result });
            db.close();
          };
        };
      }),
  );
}

async function requestsCounted(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^ofa_ve_request_total\{[^}]*\} (\S+)$/gm)) total += Number(m[1]);
  return total;
}

describe('browser UI against ofa-ve serve (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];
  const choosers: FileChooser[] = [];

  before(async () => {
    await prepareUiRun();
    serve = await startServe();
    browser = await launchChromium();
    const context = { acceptDownloads: true, viewport: { width: 1400, height: 950 } };
    page = await openPage(browser, { context, errors: consoleErrors, consoleErrors: true });
    // Listening from the start keeps file choosers intercepted for the whole run (a listener added
    // just before the key press can miss the chooser it opens).
    page.on('filechooser', (chooser) => choosers.push(chooser));
    // Leaving with unexported answers asks (beforeunload): the test answers "leave" and notes it.
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.type());
      void dialog.accept();
    });
  });
  after(async () => {
    await browser?.close();
    const code = await serve?.stop();
    assert.equal(code, 0, 'ofa-ve serve stopped cleanly');
  });

  it('opens with the demo-model banner and the model in the status bar', async () => {
    await page.goto(serve.url, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });
    const status = await page.getByTestId('status-bar').innerText();
    assert.match(status, /demo/i);
    assert.match(await page.getByTestId('metrics-url').innerText(), new RegExp(`${serve.url}/metrics`));
  });

  it('types a caption, drops three images and checks them with no Apply step', async () => {
    await page.getByTestId('caption-all').pressSequentially(CAPTION);
    await dropFiles(page, [await pngFile('beach.png', 1), await pngFile('forest.png', 2), await pngFile('city.png', 3)]);
    const button = page.getByTestId('check-all');
    await page.waitForFunction(() => document.querySelector('[data-testid="check-all"]')?.textContent === 'Check 3 ready');
    await button.click();
    await waitSettled(page, 3);
    const rows = await shownRows(page);
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.equal(row.state, 'done', `${row.file} answered`);
      assert.match(row.label ?? '', /^(YES|NO|MAYBE)$/);
      assert.equal(row.caption, CAPTION, 'checked against the caption field');
    }
    assert.match(await page.getByTestId('batch-progress').innerText(), /3\s*\/\s*3/);
    assert.equal(await button.innerText(), 'Check all 3 again');
    await page.screenshot({ path: path.join(SHOTS, 'checker.png'), fullPage: true });
  });

  it('still has the rows, captions and answers after a reload (kept in IndexedDB)', async () => {
    const before = await shownRows(page);
    // The answers are written within a second; wait for them to be in the database, not for a time.
    for (let i = 0; i < 100; i++) {
      const saved = await savedRows(page);
      if (saved.answered === 3 && saved.images === 3) break;
      await page.waitForTimeout(50);
    }
    assert.deepEqual(await savedRows(page), { rows: 3, answered: 3, images: 3 });
    await page.reload({ waitUntil: 'domcontentloaded' });
    assert.deepEqual(dialogs, ['beforeunload'], 'leaving with unexported answers asked first');
    await waitDone(page, 3);
    assert.equal(await page.getByTestId('caption-all').inputValue(), CAPTION, 'the caption field is back');
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('img.thumb')].every((img) => img.complete && img.naturalWidth > 0),
    );
    const afterReload = await shownRows(page);
    assert.deepEqual(
      afterReload.map(({ thumbLoaded: _t, ...row }) => row),
      before.map(({ thumbLoaded: _t, ...row }) => row),
    );
    assert.ok(
      afterReload.every((row) => row.thumbLoaded),
      'image bytes restored',
    );
  });

  it('exports CSV and JSONL that say what the table shows, with each file’s path', async () => {
    const shown = await shownRows(page);
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csv = (await readFile((await csvDownload.path())!, 'utf8')).replace(/^\uFEFF/, '');
    const [header, ...records] = parseCsv(csv).map((r) => r.fields);
    assert.ok(header);
    const cell = (record: string[], column: string) => record[header.indexOf(column)];
    assert.deepEqual(
      records.map((r) => ({
        file: cell(r, 'file'),
        path: cell(r, 'path'),
        caption: cell(r, 'caption'),
        label: cell(r, 'label'),
        score: Number(cell(r, 'score')).toFixed(3),
      })),
      shown.map((r) => ({ file: r.file, path: r.path, caption: r.caption, label: r.label, score: r.score })),
    );
    const [jsonlDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-jsonl').click()]);
    const lines = (await readFile((await jsonlDownload.path())!, 'utf8')).trim().split('\n');
    const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      objects.map((o) => ({ file: o.file, path: o.path, caption: o.caption, label: o.label, score: (o.score as number).toFixed(3) })),
      shown.map((r) => ({ file: r.file, path: r.path, caption: r.caption, label: r.label, score: r.score })),
    );
  });

  it('shows a corrupt file’s error inline while the rest of the batch completes', async () => {
    await dropFiles(page, [
      { name: 'corrupt.png', type: 'image/png', base64: Buffer.from('\x89PNG\r\n\x1a\nnot really a png').toString('base64') },
      await pngFile('harbour.png', 4),
    ]);
    await page.waitForFunction(() => document.querySelector('[data-testid="check-all"]')?.textContent === 'Check 2 ready');
    await page.getByTestId('check-all').click();
    await waitSettled(page, 5);
    const corrupt = page.locator('[data-testid="result-row"][data-file="corrupt.png"]');
    assert.equal(await corrupt.getAttribute('data-state'), 'error');
    assert.match(await corrupt.getByTestId('row-error').innerText(), /INVALID_IMAGE/);
    assert.equal(await page.locator('[data-testid="result-row"][data-file="harbour.png"]').getAttribute('data-state'), 'done');
  });

  it('notices the same file dropped twice, and a copy of an image under another name', async () => {
    await dropFiles(page, [await pngFile('beach.png', 1), await pngFile('beach-copy.png', 1)]);
    const notice = page.getByTestId('checker-notice');
    await notice.getByTestId('remove-copies').waitFor();
    const text = await notice.innerText();
    assert.match(text, /1 already in the table/);
    assert.match(text, /beach-copy\.png is the same image as beach\.png/);
    assert.equal(await page.locator('[data-testid="result-row"]').count(), 6, 'the copy was added, the same file was not');
    assert.match(await page.locator('[data-file="beach-copy.png"] [data-testid="copy-of"]').innerText(), /same image as beach\.png/);
    await notice.getByTestId('remove-copies').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="result-row"]').length === 5);
    assert.equal(await page.locator('[data-file="beach-copy.png"]').count(), 0);
  });

  it('sorts by score, latency, label and file, each both ways', async () => {
    const byScore = async () => (await shownRows(page)).filter((r) => r.score !== null).map((r) => Number(r.score));
    await page.getByTestId('sort-score').click();
    const down = await byScore();
    assert.equal(down.length, 4);
    assert.deepEqual(
      down,
      [...down].sort((a, b) => b - a),
    );
    assert.equal(await page.locator('th.col-score').getAttribute('aria-sort'), 'descending');
    assert.equal((await shownRows(page)).at(-1)?.file, 'corrupt.png', 'rows without a score come last');
    await page.getByTestId('sort-score').click();
    const up = await byScore();
    assert.deepEqual(
      up,
      [...up].sort((a, b) => a - b),
    );

    await page.getByTestId('sort-latency').click();
    const latencies = (await shownRows(page)).filter((r) => r.latencyMs !== null).map((r) => r.latencyMs as number);
    assert.deepEqual(
      latencies,
      [...latencies].sort((a, b) => b - a),
    );

    await page.getByTestId('sort-label').click();
    const rank = { YES: 0, NO: 1, MAYBE: 2, ERROR: 3 } as Record<string, number>;
    const labels = (await shownRows(page)).map((r) => rank[r.label ?? ''] ?? 9);
    assert.deepEqual(
      labels,
      [...labels].sort((a, b) => a - b),
    );

    await page.getByTestId('sort-file').click();
    assert.deepEqual(
      (await shownRows(page)).map((r) => r.file),
      ['beach.png', 'city.png', 'corrupt.png', 'forest.png', 'harbour.png'],
    );
    await page.getByTestId('sort-file').click();
    assert.deepEqual(
      (await shownRows(page)).map((r) => r.file),
      ['harbour.png', 'forest.png', 'corrupt.png', 'city.png', 'beach.png'],
    );
    // A third click goes back to the order the images were added in.
    await page.getByTestId('sort-file').click();
    assert.deepEqual(
      (await shownRows(page)).map((r) => r.file),
      ['beach.png', 'forest.png', 'city.png', 'corrupt.png', 'harbour.png'],
    );
  });

  it('shows the count of each label in the filter, and filters by it', async () => {
    const rows = await shownRows(page);
    const count = (label: string) => rows.filter((r) => r.label === label).length;
    const options = await page.$$eval('[data-testid="label-filter"] option', (os) =>
      os.map((o) => ({ value: (o as HTMLOptionElement).value, text: o.textContent })),
    );
    const expected: Record<string, string> = {
      all: `All (5)`,
      YES: `YES (${count('YES')})`,
      NO: `NO (${count('NO')})`,
      MAYBE: `MAYBE (${count('MAYBE')})`,
      ERROR: 'Errors (1)',
      unchecked: 'Not checked (0)',
      nocaption: 'No caption (0)',
    };
    assert.deepEqual(Object.fromEntries(options.map((o) => [o.value, o.text])), expected);
    await page.getByTestId('label-filter').selectOption('ERROR');
    assert.deepEqual(
      (await shownRows(page)).map((r) => r.file),
      ['corrupt.png'],
    );
    await page.getByTestId('label-filter').selectOption('all');
  });

  it('shows where a long caption is cut, flags non-English captions and renders CJK, Arabic and emoji', async () => {
    const setCaption = async (file: string, caption: string) => {
      const input = page.locator(`[data-file="${file}"] [data-testid="row-caption"]`);
      await input.fill(caption);
      await input.press('Enter');
    };
    await setCaption('beach.png', LONG_CAPTION);
    await setCaption('forest.png', CJK_CAPTION);
    await setCaption('city.png', ARABIC_CAPTION);
    const beach = page.locator('[data-file="beach.png"]');
    // Before the check: the part the model will not see is struck through, with the limit.
    assert.match(await beach.getByTestId('caption-cut').innerText(), /model reads the first 80 words \(90 here\)/);
    assert.equal(await beach.getByTestId('caption-lost').innerText(), Array.from({ length: 10 }, (_, i) => `word${i + 81}`).join(' '));
    assert.match(await page.locator('[data-file="forest.png"] [data-testid="text-warnings"]').innerText(), /does not look like English/);
    // Their old answers stay, marked as for the earlier caption, until checked again.
    assert.equal(await beach.getAttribute('data-status'), 'stale');
    assert.match(await beach.getByTestId('stale-note').innerText(), new RegExp(CAPTION));
    // The corrupt file was refused for what it is (INVALID_IMAGE): it is not offered again.
    assert.equal(await page.getByTestId('check-all').innerText(), 'Check 3 ready', 'three new captions, not the corrupt file');
    await page.getByTestId('check-all').click();
    await waitSettled(page, 5);
    assert.equal(await beach.getAttribute('data-status'), await beach.getByTestId('label').innerText());
    // After it: the service's own warnings.
    assert.equal(await beach.locator('[data-testid="result-warnings"] li').getAttribute('data-code'), 'CAPTION_TRUNCATED');
    for (const file of ['forest.png', 'city.png']) {
      assert.equal(await page.locator(`[data-file="${file}"] [data-testid="result-warnings"] li`).getAttribute('data-code'), 'NOT_ENGLISH');
    }
    // Right-to-left text runs right to left in its input (dir="auto").
    const direction = (file: string) =>
      page.locator(`[data-file="${file}"] [data-testid="row-caption"]`).evaluate((el) => (el.matches(':dir(rtl)') ? 'rtl' : 'ltr'));
    assert.equal(await direction('city.png'), 'rtl');
    assert.equal(await direction('forest.png'), 'ltr');
    await page.getByTestId('results-table').screenshot({ path: path.join(SHOTS, 'checker-scripts.png') });
  });

  it('cuts nothing off at 700 px wide', async () => {
    await page.setViewportSize({ width: 700, height: 900 });
    try {
      // The page does not scroll, its main pane does: one shot of the top, one of the table.
      await page.evaluate(() => document.querySelector('.app-main')?.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SHOTS, 'checker-700.png') });
      await page.getByTestId('results-table').evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await page.screenshot({ path: path.join(SHOTS, 'checker-700-table.png') });
      const overflow = await page.evaluate(() => {
        const out: string[] = [];
        for (const el of [document.documentElement, document.querySelector('.app-main'), document.querySelector('.checker')]) {
          if (el && el.scrollWidth > el.clientWidth + 1) {
            out.push(`${el.className || el.tagName} scrolls ${el.scrollWidth} > ${el.clientWidth}`);
          }
        }
        const controls = 'button, input, select, label.button-like, [data-testid="label"], [data-testid="score"]';
        for (const el of document.querySelectorAll<HTMLElement>(controls)) {
          const box = el.getBoundingClientRect();
          if (box.width > 0 && box.right > window.innerWidth + 0.5 && !el.classList.contains('visually-hidden')) {
            out.push(`${el.dataset.testid ?? el.textContent} ends at ${box.right}`);
          }
        }
        return out;
      });
      assert.deepEqual(overflow, []);
    } finally {
      await page.setViewportSize({ width: 1400, height: 950 });
    }
  });

  it('asks before Clear all, and Undo brings the rows back with their captions and answers', async () => {
    const before = await shownRows(page);
    await page.getByTestId('clear-all').click();
    const question = page.getByTestId('question');
    assert.match(await question.innerText(), /Clear all 5 rows, with 5 answers and 3 captions typed or imported\?/);
    // Cancel keeps everything.
    await question.getByTestId('question-cancel').click();
    assert.equal(await page.locator('[data-testid="result-row"]').count(), 5);
    await page.getByTestId('clear-all').click();
    await page.getByTestId('confirm-clear').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="result-row"]').length === 0);
    await page.getByTestId('checker-notice').getByTestId('undo').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="result-row"]').length === 5);
    const restored = await shownRows(page);
    assert.deepEqual(
      restored.map(({ thumbLoaded: _t, ...row }) => row),
      before.map(({ thumbLoaded: _t, ...row }) => row),
    );
    // The bytes are still there: a restored row checks again.
    await page.locator('[data-file="harbour.png"] [data-testid="check-row"]').click();
    await waitRowState(page, 'harbour.png', 'done');
  });

  it('marks a row with no caption in place and does not send it', async () => {
    await page.getByTestId('clear-all').click();
    await page.getByTestId('confirm-clear').click();
    await page.getByTestId('caption-all').fill('');
    await dropFiles(page, [await pngFile('named.png', 5), await pngFile('blank.png', 6)]);
    await page.locator('[data-file="blank.png"]').waitFor();
    const named = page.locator('[data-file="named.png"] [data-testid="row-caption"]');
    await named.fill('a red square');
    await named.press('Enter');
    const blank = page.locator('[data-file="blank.png"]');
    assert.equal(await blank.getByTestId('no-caption').innerText(), 'no caption');
    assert.equal(await page.getByTestId('check-all').innerText(), 'Check 1 ready');
    assert.match(await page.getByTestId('no-caption-hint').innerText(), /1 row has no caption and will not be sent/);
    const sentBefore = await requestsCounted(serve.url);
    await page.getByTestId('check-all').click();
    await waitRowState(page, 'named.png', 'done');
    await waitSettled(page, 2);
    assert.equal(await blank.getAttribute('data-state'), 'pending');
    assert.equal(await blank.getAttribute('data-status'), 'nocaption');
    assert.equal((await requestsCounted(serve.url)) - sentBefore, 1, 'one check reached the service');
    assert.match(await page.getByTestId('batch-summary').innerText(), /1 without a caption not sent/);
  });

  it('works from the keyboard alone: drop zone, caption field and the check button', async () => {
    const tabTo = async (testId: string) => {
      for (let i = 0; i < 40; i++) {
        if ((await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)) === testId) return;
        await page.keyboard.press('Tab');
      }
      assert.fail(`Tab never reached ${testId}`);
    };
    await page.getByTestId('drop-zone').focus();
    await page.keyboard.press('Enter');
    for (let i = 0; i < 100 && choosers.length === 0; i++) await page.waitForTimeout(50);
    const chooser = choosers.shift();
    assert.ok(chooser, 'Enter on the drop zone opened the file picker');
    await chooser.setFiles([{ name: 'keyboard.png', mimeType: 'image/png', buffer: await png(7) }]);
    await page.locator('[data-file="keyboard.png"]').waitFor();
    await tabTo('caption-all');
    await page.keyboard.type('a square of colour');
    await tabTo('check-all');
    // What was typed reaches the button with the table, at the low priority typing renders at (checker-view.tsx).
    await page.waitForFunction(() => document.querySelector('[data-testid="check-all"]')?.textContent === 'Check 2 ready', undefined, {
      timeout: 5000,
    });
    assert.equal(await page.getByTestId('check-all').innerText(), 'Check 2 ready', 'blank.png and keyboard.png');
    await page.keyboard.press('Space');
    await waitDone(page, 3);
    // Enter works as well as Space, on a row's own button: one more check reaches the service.
    const sentBefore = await requestsCounted(serve.url);
    await tabTo('check-row');
    await page.keyboard.press('Enter');
    for (let i = 0; i < 200 && (await requestsCounted(serve.url)) === sentBefore; i++) await page.waitForTimeout(50);
    assert.equal((await requestsCounted(serve.url)) - sentBefore, 1);
    await waitDone(page, 3);
  });

  it('shows non-zero QPS and a P90 on the dashboard within a few seconds', async () => {
    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await page.waitForFunction(
      () => {
        const qps = Number.parseFloat(document.querySelector('[data-testid="qps"]')?.textContent ?? '');
        const p90 = document.querySelector('[data-testid="p90"]')?.textContent ?? '';
        return qps > 0 && /\d/.test(p90);
      },
      undefined,
      { timeout: 10_000 },
    );
    await page.getByTestId('charts').waitFor();
    assert.ok((await page.locator('[data-testid="charts"] svg').count()) >= 4, 'charts drawn');
    await page.waitForTimeout(1500); // one more tick so the charts hold a few points
    await page.screenshot({ path: path.join(SHOTS, 'dashboard.png'), fullPage: true });
    assert.deepEqual(
      consoleErrors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e)),
      [],
      'no errors in the page console (CSP violations included)',
    );
  });

  it('says "service unavailable" on a row whose check the stopped service never got, and offers no check while it is down', async () => {
    await page.getByRole('tab', { name: 'Checker' }).click();
    // The check leaves the page, and the service stops before it gets there.
    let release: (() => void) | undefined;
    await page.route('**/api/v1/check', (route) => {
      release = () => void route.continue().catch(() => undefined);
    });
    await page.locator('[data-file="named.png"] [data-testid="check-row"]').click();
    const deadline = Date.now() + 10_000;
    while (!release && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(release, 'the check was sent');
    assert.equal(await serve.stop(), 0);
    release();
    await page.unroute('**/api/v1/check');
    const row = page.locator('[data-file="named.png"]');
    await waitRowState(page, 'named.png', 'error');
    assert.equal(await row.getByTestId('service-unavailable').innerText(), 'service unavailable');
    // While the service is known to be down, its Check is off, and says why.
    await page.waitForFunction(
      () => document.querySelector<HTMLButtonElement>('[data-file="named.png"] [data-testid="check-row"]')?.disabled === true,
    );
    assert.match(
      (await row.getByTestId('check-row').getAttribute('title')) ?? '',
      /^Service unavailable: checks cannot run until it is back/,
    );
  });
});
