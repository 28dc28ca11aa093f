/**
 * The Slices panel ignores a stale answer: Playwright holds the page's first GET /api/v1/slices (the
 * 1 min window), the user picks 15 min, the 15 min answer is shown, and only then is the 1 min answer
 * let through: the panel must keep showing the 15 min one. Later polls are held unanswered, so that a
 * panel which took the stale answer would still show it when the test looks. The real `ofa-ve serve`
 * serves the built UI and everything else. Screenshot: test-results/dashboard-slices-stale.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { STAGE_NAMES, type SliceStats, type SlicesSnapshot } from '../../preload/wire-types.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { launchChromium } from '../support/browser.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM } from '../support/e2e-page.ts';

/** A one-slice answer for `windowS`, its slice named so that the table says which answer it shows. */
function snapshot(windowS: number, sliceName: string): SlicesSnapshot {
  const stages = Object.fromEntries(STAGE_NAMES.map((s) => [s, { p50_ms: 2, p90_ms: 4, mean_ms: 2 }])) as SliceStats['stages'];
  return {
    attribute: 'caption_script',
    window_s: windowS,
    from: new Date(Date.now() - windowS * 1000).toISOString(),
    covered_s: windowS,
    generated_at: new Date().toISOString(),
    slices: [
      {
        slice: sliceName,
        requests: 12,
        qps: 12 / windowS,
        p50_ms: 20,
        p90_ms: 40,
        mean_ms: 25,
        error_rate: 0,
        client_error_rate: 0,
        stages,
      },
    ],
  };
}

describe('dashboard Slices panel drops a stale answer (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** Every slices request the page made, in order, with the route to answer it. */
  const asked: { window: string; route: Route }[] = [];
  let askedChanged: () => void = () => {};

  /** Resolves once the page has made `count` slices requests. */
  async function requests(count: number): Promise<void> {
    while (asked.length < count) await new Promise<void>((resolve) => (askedChanged = resolve));
  }

  before(async () => {
    await prepareUiRun();
    serve = await startServe();
    browser = await launchChromium();
    page = await openPage(browser, { context: { viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 }, errors: pageErrors });
    await page.route(/\/api\/v1\/slices\?/, (route) => {
      asked.push({ window: new URL(route.request().url()).searchParams.get('window') ?? '', route });
      askedChanged();
    });
  });
  after(async () => {
    // Held polls: let them go, so the page closes without a request left hanging.
    await Promise.all(asked.map(({ route }) => route.abort().catch(() => {})));
    await browser?.close();
    const code = await serve?.stop();
    assert.equal(code, 0, 'ofa-ve serve stopped cleanly');
  });

  it('shows the answer for the window chosen last, although the older answer arrives after it', async () => {
    await page.goto(`${serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
    const panel = page.getByTestId('slices-panel');
    await panel.waitFor({ timeout: 15_000 });
    await requests(1);
    assert.equal(asked[0]!.window, '60', 'the first request is for the default 1 min window');

    // The user changes the window while the 1 min answer is still on its way: the page cancels that request.
    const staleCancelled = page.waitForEvent('requestfailed', { predicate: (r: Request) => r === asked[0]!.route.request() });
    await page.getByTestId('window-900').click();
    await requests(2);
    await staleCancelled;
    assert.equal(asked[1]!.window, '900');
    await asked[1]!.route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(snapshot(900, 'fresh-15min')) });
    await panel.getByTestId('slice-row-fresh-15min').waitFor({ timeout: 10_000 });

    // Now the older answer comes anyway, to a request the page gave up on: Playwright may refuse to send it.
    await asked[0]!.route
      .fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(snapshot(60, 'stale-1min')) })
      .catch(() => {});
    // Give the page's fetch continuation time to run (a taken stale answer would stay: later polls are held).
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1000)));

    assert.equal(await panel.getByTestId('slice-row-stale-1min').count(), 0, 'the stale 1 min answer is not shown');
    assert.equal(await panel.getByTestId('slice-row-fresh-15min').count(), 1, 'the 15 min answer is still shown');
    assert.match((await panel.locator('#slices-title').textContent()) ?? '', /last 15 min/);
    assert.equal(await panel.getByTestId('slices-error').count(), 0);
    await panel.screenshot({ path: path.join(SHOTS, 'dashboard-slices-stale.png') });
    assert.deepEqual(pageErrors, []);
  });
});
