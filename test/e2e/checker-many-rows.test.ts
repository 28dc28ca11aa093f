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
});
