/**
 * The browser UI end to end, as a newcomer uses it: the real `ofa-ve serve` serving the built UI,
 * Debian's Chromium driven by Playwright, files dropped with a real drop event carrying File
 * objects. Screenshots of both views go to test-results/.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { chromiumAvailable, launchChromium } from '../support/browser.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

const SHOTS = path.join(REPO_ROOT, 'test-results');
const built = existsSync(path.join(REPO_ROOT, 'out/renderer/index.html'));
const skip = !chromiumAvailable()
  ? 'Debian chromium is not installed (apt-get install chromium)'
  : !built
    ? false // a missing build is a failure, reported by the first test
    : false;

async function pngBase64(seed: number): Promise<string> {
  const bytes = await sharp({
    create: { width: 240 + seed * 20, height: 180, channels: 3, background: { r: (seed * 80) % 255, g: 140, b: 200 - seed * 30 } },
  })
    .png()
    .toBuffer();
  return bytes.toString('base64');
}

/** Dispatches a real `drop` on the drop zone whose DataTransfer carries these files. */
async function dropFiles(page: Page, files: { name: string; type: string; base64: string }[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, files);
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
}

describe('browser UI against ofa-ve serve (Playwright, Debian chromium)', { skip }, () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    assert.ok(built, 'out/renderer is missing: run `npm run build` before the e2e tests (npm test does)');
    await mkdir(SHOTS, { recursive: true });
    serve = await startServe();
    browser = await launchChromium();
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 950 } });
    page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
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

  it('drops three images, checks them all and shows three labelled results', async () => {
    await dropFiles(page, [
      { name: 'beach.png', type: 'image/png', base64: await pngBase64(1) },
      { name: 'forest.png', type: 'image/png', base64: await pngBase64(2) },
      { name: 'city.png', type: 'image/png', base64: await pngBase64(3) },
    ]);
    await page.getByTestId('caption-all').fill('two dogs play on the grass');
    await page.getByTestId('apply-caption').click();
    await page.getByTestId('check-all').click();
    const rows = page.locator('[data-testid="result-row"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="result-row"][data-state="done"]').length === 3, undefined, { timeout: 30_000 });
    assert.equal(await rows.count(), 3);
    const labels = await page.locator('[data-testid="result-row"] [data-testid="label"]').allInnerTexts();
    assert.equal(labels.length, 3);
    for (const label of labels) assert.match(label.trim(), /^(YES|NO|MAYBE)$/);
    assert.match(await page.getByTestId('batch-progress').innerText(), /3\s*\/\s*3/);
    await page.screenshot({ path: path.join(SHOTS, 'checker.png'), fullPage: true });
  });

  it('exports the results as CSV with the three rows', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const file = await download.path();
    const csv = (await readFile(file!, 'utf8')).replace(/^\uFEFF/, '');
    const lines = csv.trim().split(/\r?\n/);
    assert.equal(lines.length, 4, csv);
    assert.match(lines[0]!, /^file,caption/);
    for (const name of ['beach.png', 'forest.png', 'city.png']) assert.ok(lines.some((l) => l.startsWith(`${name},`)), `${name} in CSV`);
    assert.ok(lines.slice(1).every((l) => /,(YES|NO|MAYBE),/.test(l)));
  });

  it('shows a corrupt file’s error inline while the rest of the batch completes', async () => {
    await dropFiles(page, [
      { name: 'corrupt.png', type: 'image/png', base64: Buffer.from('\x89PNG\r\n\x1a\nnot really a png').toString('base64') },
      { name: 'harbour.png', type: 'image/png', base64: await pngBase64(4) },
    ]);
    await page.getByTestId('caption-all').fill('boats in a harbour');
    await page.getByTestId('apply-caption').click();
    await page.getByTestId('check-all').click();
    await page.waitForFunction(
      () => {
        const rows = [...document.querySelectorAll('[data-testid="result-row"]')];
        return rows.length === 5 && rows.every((r) => ['done', 'error'].includes(r.getAttribute('data-state') ?? ''));
      },
      undefined,
      { timeout: 30_000 },
    );
    const corrupt = page.locator('[data-testid="result-row"][data-file="corrupt.png"]');
    assert.equal(await corrupt.getAttribute('data-state'), 'error');
    assert.match(await corrupt.getByTestId('row-error').innerText(), /INVALID_IMAGE/);
    assert.equal(await page.locator('[data-testid="result-row"][data-file="harbour.png"]').getAttribute('data-state'), 'done');
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
});
