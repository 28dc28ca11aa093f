/**
 * Hundreds of images dropped at once, as reviewers do, in Chromium against the real `ofa-ve serve`:
 * the page keeps only the rows in view and a margin around them in the document (with every row in
 * it, each batch of answers re-laid out the whole table and the page took a core from the model),
 * yet the counts, the scroll height, sorting and scrolling to the end show every row, and after a
 * reload the counts agree with the answers from the first frame they show.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { dropFiles, type DroppedFile } from '../support/browser.ts';
import { SKIP_WITHOUT_CHROMIUM, startServedUi, type ServedUi } from '../support/e2e-page.ts';
import { OVERSCAN_ROWS } from '../../renderer/checker/row-window.ts';

const ROWS = 400;
const name = (i: number) => `m${String(i).padStart(3, '0')}.png`;

async function pngFile(i: number): Promise<DroppedFile> {
  const bytes = await sharp({
    create: { width: 24 + (i % 40), height: 18 + (i % 9), channels: 3, background: { r: i % 256, g: (i * 7) % 256, b: 60 } },
  })
    .png()
    .toBuffer();
  return { name: name(i), type: 'image/png', base64: bytes.toString('base64') };
}

/** The counts line's figures: "400 rows · 3 YES · 0 NO · 397 MAYBE · 0 errors · 0 not checked". */
function answeredIn(counts: string): { rows: number; answered: number } {
  const figure = (what: string) => Number(new RegExp(`(\\d+) ${what}`).exec(counts)?.[1] ?? 0);
  return { rows: figure('rows?'), answered: figure('YES') + figure('NO') + figure('MAYBE') };
}

/** Where the focus is: the table row it is in (data-index), what holds it, and whether that row is wholly in view in the pane. */
interface FocusPlace {
  index: number | undefined;
  holder: string;
  inView: boolean;
}

function focusPlace(page: Page): Promise<FocusPlace> {
  return page.evaluate(() => {
    const focused = document.activeElement as HTMLElement | null;
    const row = focused?.closest<HTMLElement>('tr[data-index]');
    const pane = (document.querySelector('.app-main') as HTMLElement).getBoundingClientRect();
    const box = row?.getBoundingClientRect();
    return {
      index: row ? Number(row.dataset.index) : undefined,
      holder: focused?.dataset.testid ?? focused?.tagName ?? 'nothing',
      inView: box !== undefined && box.top >= pane.top - 1 && box.bottom <= pane.bottom + 1,
    };
  });
}

/** Presses a key, waits until the focused element is in view in the pane, and for two frames more. */
async function pressTo(page: Page, key: string): Promise<FocusPlace> {
  await page.keyboard.press(key);
  await page
    .waitForFunction(
      () => {
        const pane = (document.querySelector('.app-main') as HTMLElement).getBoundingClientRect();
        const box = document.activeElement?.getBoundingClientRect();
        return box !== undefined && box.height > 0 && box.top >= pane.top - 1 && box.bottom <= pane.bottom + 1;
      },
      undefined,
      { timeout: 2_000 },
    )
    .catch(() => undefined);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  return focusPlace(page);
}

/**
 * Gives the focus, without scrolling, to the element next to the table's rows in tab order: the
 * first one after the table, or the last one before its body (a column header). As if it had been
 * focused earlier and the pane scrolled since with the wheel.
 */
function focusBeside(page: Page, side: 'after-table' | 'before-rows'): Promise<string> {
  return page.evaluate((where) => {
    const tabbable = [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]')].filter(
      (el) => el.tabIndex >= 0 && !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0,
    );
    const table = document.querySelector('[data-testid="results-table"]') as HTMLTableElement;
    const body = table.tBodies[0] as HTMLElement;
    const target =
      where === 'after-table'
        ? tabbable.find((el) => !table.contains(el) && table.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)
        : tabbable.filter((el) => !body.contains(el) && body.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING).at(-1);
    if (!target) throw new Error(`nothing focusable ${where}`);
    target.focus({ preventScroll: true });
    return target.dataset.testid ?? target.textContent ?? target.tagName;
  }, side);
}

/** Scrolls the pane to the top or the end and waits for that end's row to be in the page. */
async function scrollTo(page: Page, end: 'top' | 'bottom'): Promise<void> {
  await page.locator('.app-main').evaluate((el, where) => el.scrollTo(0, where === 'top' ? 0 : el.scrollHeight), end);
  await page.locator(`tbody > tr[data-index="${end === 'top' ? 0 : ROWS - 1}"]`).waitFor();
}

/** The table as laid out: the pane's scroll offset, the spacers' heights and where each rendered row starts. */
interface TableLayout {
  scrollTop: number;
  spacers: number[];
  rows: Record<string, number>;
  /** The files of the rows in the page, in order (which rows, not only where). */
  files: string[];
}

/** The layout of the table, read once a frame, for `frames` frames once `start` has run in the page. */
function layoutsPerFrame(page: Page, frames: number, start: string | undefined): Promise<TableLayout[]> {
  return page.evaluate(
    ({ frames, start }) =>
      new Promise<TableLayout[]>((resolve) => {
        const read = (): TableLayout => {
          const pane = document.querySelector('.app-main') as HTMLElement;
          const rows: Record<string, number> = {};
          const files: string[] = [];
          for (const row of document.querySelectorAll<HTMLElement>('tbody > tr[data-index]')) {
            rows[row.dataset.index ?? ''] = row.offsetTop;
            files.push(row.dataset.file ?? '');
          }
          const spacers = [...document.querySelectorAll<HTMLElement>('tbody > tr.row-spacer')].map((el) => el.offsetHeight);
          return { scrollTop: pane.scrollTop, spacers, rows, files };
        };
        const seen: TableLayout[] = [];
        if (start) (document.querySelector(start) as HTMLElement).click();
        let left = frames;
        const frame = () => {
          if (document.querySelector('[data-testid="results-table"]')) seen.push(read());
          if (--left > 0) requestAnimationFrame(frame);
          else resolve(seen);
        };
        requestAnimationFrame(frame);
      }),
    { frames, start },
  );
}

/** A layout matches another when the scroll offset, the spacers and every row both have agree within a pixel. */
function sameLayout(before: TableLayout, after: TableLayout): string | undefined {
  if (Math.abs(before.scrollTop - after.scrollTop) > 1) return `scrollTop ${before.scrollTop} → ${after.scrollTop}`;
  if (before.spacers.length !== after.spacers.length || before.spacers.some((h, i) => Math.abs(h - (after.spacers[i] ?? NaN)) > 1))
    return `spacers ${JSON.stringify(before.spacers)} → ${JSON.stringify(after.spacers)}`;
  const common = Object.keys(before.rows).filter((index) => index in after.rows);
  if (common.length < 10) return `${common.length} rows in the page both times`;
  if (before.files.join() !== after.files.join()) return `other rows: ${before.files.slice(0, 3)}… → ${after.files.slice(0, 3)}…`;
  const moved = common.filter((index) => Math.abs((before.rows[index] ?? 0) - (after.rows[index] ?? 0)) > 1);
  if (moved.length > 0) return `rows moved: ${moved.slice(0, 5).map((i) => `${i}: ${before.rows[i]} → ${after.rows[i]}`)}`;
  return undefined;
}

describe('a batch of hundreds of rows in Chromium (only the rows in view are in the page)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let ui: ServedUi;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    ui = await startServedUi({ context: { viewport: { width: 1200, height: 800 } }, errors: pageErrors });
    page = ui.page;
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(ui.serve.url, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('drop-zone').waitFor();
  });
  after(async () => {
    await ui?.close();
  });

  it(`checks ${ROWS} dropped images with a few dozen rows in the page, and every row can be reached`, async () => {
    await page.getByTestId('caption-all').pressSequentially('a coloured rectangle');
    // What the drop zone says meanwhile: every text it shows, as the page changes it.
    await page.evaluate(() => {
      const title = document.querySelector('[data-testid="drop-title"]') as HTMLElement;
      const said: string[] = [];
      (window as unknown as { dropTitles: string[] }).dropTitles = said;
      new MutationObserver(() => said.push(title.textContent ?? '')).observe(title, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await dropFiles(page, await Promise.all(Array.from({ length: ROWS }, (_, i) => pngFile(i))));
    await page.waitForFunction((n) => document.querySelector('[data-testid="check-all"]')?.textContent === `Check ${n} ready`, ROWS);
    await page.getByTestId('drop-title').filter({ hasText: 'Drop images or folders here' }).waitFor();
    const said = await page.evaluate(() => (window as unknown as { dropTitles: string[] }).dropTitles);
    assert.ok(said.includes(`Reading ${ROWS} files…`), `the drop zone said it was reading them: ${JSON.stringify(said)}`);
    await page.getByTestId('check-all').click();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="batch-summary"]')?.textContent?.startsWith('Finished'),
      undefined,
      {
        timeout: 120_000,
      },
    );
    assert.deepEqual(answeredIn(await page.getByTestId('result-counts').innerText()), { rows: ROWS, answered: ROWS });

    const inPage = await page.locator('[data-testid="result-row"]').count();
    assert.ok(inPage >= 10 && inPage <= 2 * OVERSCAN_ROWS + 30, `${inPage} of ${ROWS} rows in the page`);

    // The spacers keep the scroll height of every row: at the end of the pane stands the last row, answered.
    const pane = page.locator('.app-main');
    await pane.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    const last = page.locator(`[data-testid="result-row"][data-file="${name(ROWS - 1)}"]`);
    await last.waitFor();
    assert.match((await last.getAttribute('data-status')) ?? '', /^(YES|NO|MAYBE)$/);
    const box = await last.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 800, `the last row is in view (${JSON.stringify(box)})`);
    assert.equal(await page.locator(`[data-testid="result-row"][data-file="${name(0)}"]`).count(), 0, 'the first row left the page');

    // Sorted by file, Z to A, from the top: the last file comes first.
    await pane.evaluate((el) => el.scrollTo(0, 0));
    await page.getByTestId('sort-file').click();
    await page.getByTestId('sort-file').click();
    await page.waitForFunction(
      (file) => document.querySelector('[data-testid="result-row"]')?.getAttribute('data-file') === file,
      name(ROWS - 1),
    );

    // A caption being typed in a row stays, with the focus, however far the row is scrolled away.
    const typedIn = await page.locator('tbody > tr[data-testid="result-row"]').first().getAttribute('data-file');
    const field = page.locator(`[data-testid="result-row"][data-file="${typedIn}"]`).getByTestId('row-caption');
    await field.click();
    await field.pressSequentially('a caption not committed yet');
    await pane.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await page.locator(`[data-testid="result-row"][data-file="${name(0)}"]`).waitFor();
    assert.equal(await field.inputValue(), 'a caption not committed yet');
    assert.ok(await field.evaluate((el) => el === document.activeElement), 'the field keeps the focus');
    await pane.evaluate((el) => el.scrollTo(0, 0));
    await field.press('Escape');
    await page.getByTestId('caption-all').click();
    assert.equal(await field.inputValue(), '', 'Escape took the draft back');
    assert.deepEqual(pageErrors, []);
  });

  it('after a reload, the counts agree with the answers in every frame they show', async () => {
    await page.reload({ waitUntil: 'domcontentloaded' });
    // Every distinct counts line until the whole table is back, read once a frame.
    const seen = await page.evaluate(
      (n) =>
        new Promise<string[]>((resolve) => {
          const texts: string[] = [];
          const deadline = performance.now() + 30_000;
          const frame = () => {
            const text = document.querySelector('[data-testid="result-counts"]')?.textContent ?? '';
            if (texts.at(-1) !== text) texts.push(text);
            if (text.startsWith(`${n} rows`) || performance.now() > deadline) resolve(texts);
            else requestAnimationFrame(frame);
          };
          frame();
        }),
      ROWS,
    );
    const restored = seen.filter((text) => answeredIn(text).rows === ROWS);
    assert.ok(restored.length > 0, `the table came back: ${JSON.stringify(seen)}`);
    for (const text of restored) assert.equal(answeredIn(text).answered, ROWS, `counts shown after the reload: ${text}`);
    assert.deepEqual(pageErrors, []);
  });

  it('Shift+Tab from below the table lands on its last row, scrolled into view, however far the rows are scrolled', async () => {
    await scrollTo(page, 'top');
    assert.equal(await page.locator(`tbody > tr[data-index="${ROWS - 1}"]`).count(), 0, 'the last row is not in the page yet');
    const from = await focusBeside(page, 'after-table');
    const place = await pressTo(page, 'Shift+Tab');
    assert.deepEqual(place, { index: ROWS - 1, holder: 'remove-row', inView: true }, `Shift+Tab from ${from}`);
    assert.deepEqual(pageErrors, []);
  });

  it('Tab from above the rows lands on the first row, scrolled into view, however far the rows are scrolled', async () => {
    await scrollTo(page, 'bottom');
    assert.equal(await page.locator('tbody > tr[data-index="0"]').count(), 0, 'the first row left the page');
    const from = await focusBeside(page, 'before-rows');
    const place = await pressTo(page, 'Tab');
    assert.deepEqual(place, { index: 0, holder: 'row-caption', inView: true }, `Tab from ${from}`);
    assert.deepEqual(pageErrors, []);
  });

  it('Tab and Shift+Tab go row to row, also from a row with the focus scrolled far away', async () => {
    // Forward from the first row, well past the rows rendered at first: never a row skipped.
    await scrollTo(page, 'top');
    await page.locator('tbody > tr[data-index="0"]').getByTestId('row-caption').focus();
    const far = OVERSCAN_ROWS + 20;
    let at = 0;
    for (let presses = 0; at < far && presses < 6 * far; presses++) {
      // Key after key, without waiting for the page to catch up with the scrolling.
      await page.keyboard.press('Tab');
      const place = await focusPlace(page);
      assert.ok(place.index === at || place.index === at + 1, `Tab from row ${at} went to ${JSON.stringify(place)}`);
      at = place.index;
    }
    assert.equal(at, far);

    // The focus in a row, the pane scrolled to the end with the wheel: the row's neighbours are next.
    const row = page.locator(`tbody > tr[data-index="${far}"]`);
    await row.getByTestId('row-caption').focus();
    await scrollTo(page, 'bottom');
    assert.deepEqual(await pressTo(page, 'Shift+Tab'), { index: far - 1, holder: 'remove-row', inView: true }, 'Shift+Tab');
    await row.getByTestId('remove-row').focus();
    await scrollTo(page, 'bottom');
    assert.deepEqual(await pressTo(page, 'Tab'), { index: far + 1, holder: 'row-caption', inView: true }, 'Tab');
    assert.deepEqual(pageErrors, []);
  });

  it('nothing in the table that the focus can reach is hidden from assistive technology (axe aria-hidden-focus), rows left out on both sides', async () => {
    // No row kept in the page for the focus: only the rows around the middle of the pane.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const pane = page.locator('.app-main');
    await pane.evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
    await page.waitForFunction(
      (n) =>
        document.querySelector('tbody > tr[data-index]') !== null &&
        document.querySelector('tbody > tr[data-index="0"]') === null &&
        document.querySelector(`tbody > tr[data-index="${n - 1}"]`) === null,
      ROWS,
    );
    const found = await page.getByTestId('results-table').evaluate((table) => {
      const hiddenFocusable = [...table.querySelectorAll<HTMLElement>('*')]
        .filter((el) => el.tabIndex >= 0 && !el.matches(':disabled') && el.closest('[aria-hidden="true"]') !== null)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className || '(no class)'}`);
      return { hiddenFocusable, spacers: table.querySelectorAll('tbody > tr.row-spacer').length };
    });
    assert.ok(found.spacers >= 2, `rows are left out above and below those in the page (${found.spacers} spacers)`);
    assert.deepEqual(found.hiddenFocusable, [], 'focusable elements inside aria-hidden="true"');
    assert.deepEqual(pageErrors, []);
  });

  it('leaving the tab and coming back keeps the sort order, the scroll position and every row where it was', async () => {
    // Sorted by file, Z to A: coming back must not show the rows in the order they were added.
    await page.getByTestId('sort-file').click();
    await page.getByTestId('sort-file').click();
    await page.waitForFunction(
      (file) => document.querySelector('[data-testid="result-row"]')?.getAttribute('data-file') === file,
      name(ROWS - 1),
    );
    // No row kept in the page for the focus (a click on the other tab takes it away anyway).
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const pane = page.locator('.app-main');
    await pane.evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
    // Until the rows in view are measured and nothing moves for 10 frames.
    let before: TableLayout | undefined;
    for (let tries = 0; tries < 50; tries++) {
      const layouts = await layoutsPerFrame(page, 10, undefined);
      const first = layouts[0] as TableLayout;
      if (layouts.every((layout) => sameLayout(first, layout) === undefined)) {
        before = first;
        break;
      }
    }
    assert.ok(before && before.scrollTop > 0, 'the table settled');
    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await page.getByTestId('results-table').waitFor({ state: 'detached' });
    const after = await layoutsPerFrame(page, 20, '[role="tab"]:first-child');
    assert.ok(after.length >= 15, `${after.length} frames with the table back`);
    for (const [frame, layout] of after.entries()) assert.equal(sameLayout(before, layout), undefined, `frame ${frame} back on the tab`);
    assert.deepEqual(pageErrors, []);
  });

  it('after files are added, the check button counts the rows the table holds, in every frame and every change to the page', async () => {
    await page.getByTestId('clear-all').click();
    await page.getByTestId('confirm-clear').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="result-counts"]')?.textContent?.startsWith('0 rows'));
    await page.getByTestId('caption-all').fill('a coloured rectangle');
    // What the button, the counts line and the table say, once a frame until stopped, and after
    // every change React makes to the page (a change a frame may not show, but the next may).
    await page.evaluate(() => {
      const said: { when: string; button: string; counts: string; rowCount: string | null }[] = [];
      const read = (when: string) =>
        said.push({
          when,
          button: document.querySelector('[data-testid="check-all"]')?.textContent ?? '',
          counts: document.querySelector('[data-testid="result-counts"]')?.textContent ?? '',
          rowCount: document.querySelector('[data-testid="results-table"]')?.getAttribute('aria-rowcount') ?? null,
        });
      const changes = new MutationObserver(() => read('update'));
      changes.observe(document.querySelector('.checker') as Element, {
        subtree: true,
        childList: true,
        characterData: true,
        attributes: true,
      });
      let stopped = false;
      const stop = () => {
        stopped = true;
        changes.disconnect();
      };
      (window as unknown as { sampled: unknown }).sampled = { said, stop };
      const frame = () => {
        if (stopped) return;
        read('frame');
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    await dropFiles(page, await Promise.all(Array.from({ length: ROWS }, (_, i) => pngFile(i))));
    await page.waitForFunction(
      (n) =>
        document.querySelector('[data-testid="check-all"]')?.textContent === `Check ${n} ready` &&
        document.querySelector('[data-testid="result-counts"]')?.textContent?.startsWith(`${n} rows`),
      ROWS,
    );
    const said = await page.evaluate(async () => {
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      const sampled = (window as unknown as { sampled: { said: unknown[]; stop: () => void } }).sampled;
      sampled.stop();
      return sampled.said as { when: string; button: string; counts: string; rowCount: string | null }[];
    });
    const frames = said.map(({ when, button, counts, rowCount }) => ({
      when,
      button: Number(/\d+/.exec(button)?.[0] ?? 0),
      counts: answeredIn(counts).rows,
      table: rowCount === null ? 0 : Number(rowCount) - 1,
    }));
    assert.ok(frames.some((frame) => frame.button === ROWS) && frames[0]?.button === 0, `frames from empty to full: ${frames.length}`);
    for (const [i, frame] of frames.entries())
      assert.equal(frame.button, frame.counts, `${frame.when} ${i}: the button and the counts line`);
    for (const [i, frame] of frames.entries())
      assert.equal(frame.table, frame.counts, `${frame.when} ${i}: the table's aria-rowcount and the counts line`);
    assert.deepEqual(pageErrors, []);
  });
});
