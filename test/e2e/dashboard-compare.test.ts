/**
 * The Slices and Compare panels against a real `ofa-ve serve` (demo model): checks with English and
 * Chinese captions go in over HTTP, a mark is set from the UI, the Slices panel shows an english and
 * a cjk row, and a comparison before/after the mark renders per stage, with a verdict line, the
 * figures GET /api/v1/compare gives for the same ranges. Significance is not asserted (real timing).
 * Screenshots go to test-results/dashboard-compare-*.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import type { Mark, PeriodComparison } from '../../preload/wire-types.ts';
import { compareQuery } from '../../renderer/api/http-client.ts';
import {
  comparedRows,
  comparisonVerdict,
  formatDifference,
  formatEstimate,
  significanceLabel,
} from '../../renderer/dashboard/compare-format.ts';
import { formatMs } from '../../renderer/dashboard/stats-format.ts';
import { launchChromium } from '../support/browser.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM } from '../support/e2e-page.ts';
import { checkParts, multipartBody, multipartType } from '../support/multipart-body.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';

/** Slices are kept per 10 s: each period compared must hold a whole one. */
const PERIOD_MS = 10_000;
const CAPTIONS = ['a dog runs across the grass', '一只狗在草地上奔跑'];
const MARK_NAME = 'before the CJK batch';

describe('dashboard slices and compare against a real service (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let image: Uint8Array;
  const consoleErrors: string[] = [];

  before(async () => {
    await prepareUiRun();
    const pixels = Buffer.alloc(64 * 48 * 3, 120);
    image = new Uint8Array(
      await sharp(pixels, { raw: { width: 64, height: 48, channels: 3 } })
        .png()
        .toBuffer(),
    );
    serve = await startServe();
    browser = await launchChromium();
    const context = { viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 };
    page = await openPage(browser, { context, errors: consoleErrors, consoleErrors: true });
    await page.goto(`${serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('compare-panel').waitFor({ timeout: 15_000 });
  });
  after(async () => {
    await browser?.close();
    const code = await serve?.stop();
    assert.equal(code, 0, 'ofa-ve serve stopped cleanly');
  });

  /** English and Chinese captions alternately, one at a time, until `untilMs`. */
  async function drive(untilMs: number): Promise<number> {
    let sent = 0;
    while (Date.now() < untilMs) {
      const res = await fetch(`${serve.url}/api/v1/check`, {
        method: 'POST',
        headers: { 'content-type': multipartType() },
        body: new Uint8Array(multipartBody(checkParts(image, CAPTIONS[sent % CAPTIONS.length]!))),
      });
      assert.equal(res.status, 200, await res.text());
      sent += 1;
    }
    return sent;
  }

  it('adds a mark from the UI between two periods of checks and lists it', async () => {
    // A whole 10 s period of checks before the mark, starting after the model-load mark (which
    // "Before / after" takes as range A's start): a period that began before it would not count.
    const boundary = Math.ceil(Date.now() / PERIOD_MS) * PERIOD_MS + PERIOD_MS;
    assert.ok((await drive(boundary + 500)) > 4);
    await page.getByTestId('mark-name').fill(MARK_NAME);
    await page.getByTestId('mark-add').click();
    const item = page.getByTestId('mark-item').filter({ hasText: MARK_NAME });
    await item.waitFor({ timeout: 5000 });
    const { marks } = (await (await fetch(`${serve.url}/api/v1/marks`)).json()) as { marks: Mark[] };
    const mark = marks.find((m) => m.name === MARK_NAME);
    assert.ok(mark && mark.kind === 'user', 'the service kept the mark');
    assert.equal(await page.getByTestId('mark-name').inputValue(), '', 'the name field is cleared');
    // Then a whole 10 s period after it.
    assert.ok((await drive(Math.ceil(mark.at_ms / PERIOD_MS) * PERIOD_MS + PERIOD_MS + 500)) > 4);
  });

  it('shows an english and a cjk slice with QPS and P50 for caption_script', async () => {
    await page.getByTestId('slice-attr-caption_script').click();
    assert.equal(await page.getByTestId('slice-attr-caption_script').getAttribute('aria-pressed'), 'true');
    for (const slice of ['english', 'cjk']) {
      const row = page.getByTestId(`slice-row-${slice}`);
      await row.waitFor({ timeout: 10_000 });
      assert.match((await row.locator('[data-col="qps"]').textContent()) ?? '', /^[0-9]+\.[0-9]+$/);
      assert.match((await row.locator('[data-col="p50"]').textContent()) ?? '', /^[0-9.]+ (ms|s)$/);
      assert.match((await row.locator('[data-col="requests"]').textContent()) ?? '', /^[1-9][0-9,]*$/);
      assert.equal((await row.locator('.stage-bar-segment').count()) > 0, true, `${slice} has a stage bar`);
    }
    await page.getByTestId('slices-panel').screenshot({ path: path.join(SHOTS, 'dashboard-compare-slices.png') });
  });

  it('compares before and after the mark: a verdict and a table per stage, the figures of GET /api/v1/compare', async () => {
    const markIndex = await page
      .getByTestId('mark-item')
      .evaluateAll((items, name) => items.findIndex((li) => li.textContent?.includes(name)), MARK_NAME);
    assert.ok(markIndex >= 0);
    // From the keyboard: Enter on "Before / after", Space on Compare.
    await page.getByTestId(`mark-around-${markIndex}`).focus();
    await page.keyboard.press('Enter');
    assert.match(await page.getByTestId('range-a-to').inputValue(), /^mark:[0-9]+$/);
    assert.equal(await page.getByTestId('range-b-to').inputValue(), 'now');
    await page.getByTestId('compare-attribute').selectOption('caption_script');
    await page.getByTestId('compare-run').focus();
    await page.keyboard.press('Space');
    const view = page.getByTestId('comparison');
    await view.waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('compare-error').count(), 0);

    const span = async (side: 'a' | 'b') => ({
      from_ms: Number(await view.getAttribute(`data-${side}-from`)),
      to_ms: Number(await view.getAttribute(`data-${side}-to`)),
    });
    const query = compareQuery(await span('a'), await span('b'), 'caption_script');
    const res = await fetch(`${serve.url}/api/v1/compare?${query}`);
    assert.equal(res.status, 200, await res.clone().text());
    const expected = (await res.json()) as PeriodComparison;

    const verdict = (await page.getByTestId('compare-verdict').textContent()) ?? '';
    assert.equal(verdict, comparisonVerdict(expected));
    assert.match(verdict, /^(Most of the change: .+\. )?Mean latency .+ → .+/);
    const tables = page.locator('[data-testid^="compare-stage-"]');
    const rows = comparedRows(expected);
    assert.equal(rows[0]!.stage, 'end_to_end');
    assert.deepEqual(
      await tables.evaluateAll((list) => list.map((t) => t.getAttribute('data-testid'))),
      rows.map((r) => `compare-stage-${r.stage}`),
      'end to end first, then the stages as the comparison orders them',
    );
    for (const change of rows) {
      const table = page.getByTestId(`compare-stage-${change.stage}`);
      for (const q of change.quantiles) {
        const name = { 0.5: 'P50', 0.9: 'P90', 0.99: 'P99' }[q.quantile as 0.5 | 0.9 | 0.99];
        const row = table.locator(`tr[data-q="${name}"]`);
        assert.equal(await row.locator('[data-col="a"]').textContent(), formatEstimate(q.a), `${change.stage} ${name} A`);
        assert.equal(await row.locator('[data-col="b"]').textContent(), formatEstimate(q.b), `${change.stage} ${name} B`);
        assert.equal(await row.locator('[data-col="diff"]').textContent(), formatDifference(q.difference_ms, q.a.value_ms));
        assert.equal(await row.locator('[data-col="sig"]').textContent(), significanceLabel(q));
      }
      const mean = table.locator('tr[data-q="mean"]');
      assert.equal(await mean.locator('[data-col="a"]').textContent(), formatMs(change.mean.a_ms));
      assert.equal(await mean.locator('[data-col="b"]').textContent(), formatMs(change.mean.b_ms));
    }
    assert.ok(expected.end_to_end.count_a > 0 && expected.end_to_end.count_b > 0, 'both periods have checks');
    assert.ok(expected.slices?.slices.some((s) => s.slice === 'cjk'));
    await page.getByTestId('compare-slices').locator('[data-testid="compare-slice-cjk"]').waitFor();
    await page.getByTestId('compare-panel').screenshot({ path: path.join(SHOTS, 'dashboard-compare-panel.png') });
  });

  it('cuts nothing off at 700 px wide', async () => {
    await page.setViewportSize({ width: 700, height: 900 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const out: string[] = [];
      for (const el of document.querySelectorAll<HTMLElement>('[data-testid="slices-panel"] *, [data-testid="compare-panel"] *')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5))
          out.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
        if (getComputedStyle(el).overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) {
          out.push(`${el.tagName}.${el.className} scrolls ${el.scrollWidth} > ${el.clientWidth}`);
        }
      }
      return { out: out.slice(0, 12), pageWidth: document.documentElement.scrollWidth, width };
    });
    await page.getByTestId('compare-panel').screenshot({ path: path.join(SHOTS, 'dashboard-compare-700px.png') });
    await page.getByTestId('slices-panel').screenshot({ path: path.join(SHOTS, 'dashboard-compare-700px-slices.png') });
    assert.deepEqual(overflow.out, [], `nothing sticks out of or scrolls within ${overflow.width} px`);
    assert.ok(overflow.pageWidth <= 700, `page is ${overflow.pageWidth} px wide`);
  });

  it('logged no errors in the page console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
