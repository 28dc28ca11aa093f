/**
 * The app shell in a browser against the real `ofa-ve serve`: a protected instance asks for its
 * token (and says when one is wrong) instead of failing to reach the service, and a service that
 * stops shows as unavailable in the status bar and is picked up again when it is back on its port.
 * Screenshots go to test-results/app-shell-*.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM } from '../support/e2e-page.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';

describe('app shell against ofa-ve serve (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let browser: Browser;
  const servers: ServeProcess[] = [];

  before(async () => {
    await prepareUiRun();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    for (const serve of servers) await serve.stop();
  });

  const newPage = () => openPage(browser, { context: { viewport: { width: 1200, height: 800 } } });

  it('asks for the token of a protected instance, says when it is wrong, and keeps it for the tab', async () => {
    const serve = await startServe(['--token', 'sesame-open']);
    servers.push(serve);
    const page = await newPage();
    await page.goto(serve.url, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('sign-in').waitFor({ timeout: 10_000 });
    const body = await page.locator('body').innerText();
    assert.doesNotMatch(body, /cannot reach the service/i);
    assert.equal(await page.getByTestId('sign-in-refused').count(), 0, 'no "refused" before a token was given');
    assert.match(await page.getByTestId('status-link').innerText(), /token needed/);
    await page.screenshot({ path: path.join(SHOTS, 'app-shell-sign-in.png') });

    await page.getByTestId('sign-in-token').fill('not-the-token');
    await page.keyboard.press('Enter');
    await page.getByTestId('sign-in-refused').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('sign-in-refused').innerText(), /token was refused/);
    await page.screenshot({ path: path.join(SHOTS, 'app-shell-sign-in-refused.png') });

    await page.getByTestId('sign-in-token').fill('sesame-open');
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('sign-in').count(), 0);
    assert.equal(await page.getByTestId('status-link').count(), 0, 'the status bar shows no link problem once signed in');

    // Kept for the tab: a reload goes straight in; the dashboard's stream is authorised too.
    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });
    await page.getByTestId('stats-updated').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('sign-in').count(), 0);
    await page.context().close();
  });

  it('shows a stopped service as unavailable and reconnects when it is back on its port', async () => {
    let serve = await startServe();
    servers.push(serve);
    const port = new URL(serve.url).port;
    const page = await newPage();
    await page.goto(`${serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('stats-updated').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('status-link').count(), 0);

    assert.equal(await serve.stop(), 0);
    await page.getByTestId('status-link').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('status-link').innerText(), 'service unavailable — retrying');
    assert.equal(await page.getByTestId('status-link').getAttribute('data-state'), 'unavailable');
    assert.match(await page.getByTestId('stats-error').innerText(), /SERVICE_UNAVAILABLE.*retrying/);
    // Nothing in the status bar reads as current: no uptime or memory, the model as last reported.
    assert.equal(await page.getByTestId('status-uptime').innerText(), 'up —');
    assert.equal(await page.getByTestId('status-memory').innerText(), 'rss — heap —');
    assert.equal(await page.getByTestId('status-model-wrap').getAttribute('data-stale'), 'true');
    await page.setViewportSize({ width: 1400, height: 800 });
    const bar = await page.getByTestId('status-bar').boundingBox();
    assert.ok(bar && bar.height < 40, `the status bar stays one line at 1400 px: ${bar?.height} px high`);
    await page.screenshot({ path: path.join(SHOTS, 'app-shell-service-unavailable.png') });
    // The checker tab says it too (the dashboard has its own banner).
    await page.getByRole('tab', { name: 'Checker' }).click();
    const banner = await page.getByTestId('service-unavailable').innerText();
    assert.match(banner, /Service unavailable — retrying/);
    assert.equal(banner.match(/service unavailable/gi)?.length, 1, `the words once: ${banner}`);
    await page.screenshot({ path: path.join(SHOTS, 'app-shell-service-unavailable-checker.png') });
    await page.getByRole('tab', { name: 'Dashboard' }).click();

    serve = await startServe(['--port', port]);
    servers.push(serve);
    // Back by itself: no reload, no click (the stream retries with backoff, at most 10 s apart).
    await page.getByTestId('status-link').waitFor({ state: 'detached', timeout: 25_000 });
    await page.getByTestId('stats-error').waitFor({ state: 'detached', timeout: 5000 });
    await page.waitForFunction(() => /^up \d/.test(document.querySelector('[data-testid="status-uptime"]')?.textContent ?? ''), undefined, {
      timeout: 10_000,
    });
    assert.equal(await page.getByTestId('status-model-wrap').getAttribute('data-stale'), null);
    await page.getByRole('tab', { name: 'Checker' }).click();
    assert.equal(await page.getByTestId('service-unavailable').count(), 0);
    await page.context().close();
  });
});
