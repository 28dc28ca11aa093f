/**
 * The console as a client of a remote service, in a browser (Debian's Chromium via Playwright):
 * one `ofa-ve serve` serves the UI (the "console"), a second one, with a token and `--cors-origin`
 * naming the console's origin, is the remote. The page opened as `?connect=REMOTE` asks first
 * (a link could name any service), tests the remote with the token, connects, and then the checker,
 * the dashboard and the slowest-requests table all work over HTTP against the remote: the checks
 * are counted in the remote's /metrics, not the console's. The remote profiles every batch
 * (`--profile-sample-rate 1`): a row's Perfetto and OTLP buttons save exactly what its
 * GET /api/v1/requests/{id}/trace answers, the Chrome trace with onnxruntime's operator events. A token given in the link is refused
 * and asked for again; a page of an origin the remote does not allow says what to start it with.
 * Screenshots: test-results/remote-*.png. This is the desktop app's remote mode in browser form:
 * the same HttpConsoleClient, CSP connect-src and CORS path, with app://console as the page origin.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { dropFiles, launchChromium, type DroppedFile } from '../support/browser.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM } from '../support/e2e-page.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { requestTotals } from '../support/service-harness.ts';
import { traceFileName } from '../../preload/trace-spans.ts';
import type { ChromeTraceDocument, TraceFormat } from '../../preload/wire-types.ts';

const TOKEN = 'remote-e2e-token';

async function pngFile(name: string, seed: number): Promise<DroppedFile> {
  const background = { r: (seed * 90) % 255, g: 130, b: 180 };
  const png = await sharp({ create: { width: 200 + seed * 10, height: 150, channels: 3, background } })
    .png()
    .toBuffer();
  return { name, type: 'image/png', base64: png.toString('base64') };
}

async function checksCounted(serve: ServeProcess, token?: string): Promise<number> {
  const res = await fetch(`${serve.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  assert.equal(res.status, 200);
  return requestTotals(await res.text()).total;
}

describe('the console connected to a remote ofa-ve serve (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let consoleServe: ServeProcess;
  let remote: ServeProcess;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    await prepareUiRun();
    consoleServe = await startServe();
    // The remote lets the console's pages use it, with the token; no other origin.
    // It profiles every batch, so its traces carry operator events the slowest rows do not.
    remote = await startServe(['--token', TOKEN, '--cors-origin', consoleServe.url, '--profile-sample-rate', '1']);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    assert.equal(await remote?.stop(), 0, 'the remote stopped cleanly');
    assert.equal(await consoleServe?.stop(), 0, 'the console stopped cleanly');
  });

  const newPage = () => openPage(browser, { context: { viewport: { width: 1280, height: 860 } }, errors: pageErrors });

  const remoteHost = () => new URL(remote.url).host;

  /**
   * Clicks a slowest row's trace button: the saved file's text and the API's answer for the request it
   * names (by the file name: the table refreshes, so the row's place may change under the click).
   */
  const saveTrace = async (page: Page, row: number, format: TraceFormat): Promise<{ saved: string; api: string }> => {
    const button = page.getByTestId('slow-request').nth(row).getByTestId(`trace-${format}`);
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), button.click()]);
    const id = /^ofa-ve-(.+)\.(?:trace|otlp)\.json$/.exec(download.suggestedFilename())?.[1];
    assert.ok(id, `a trace file name: ${download.suggestedFilename()}`);
    assert.equal(download.suggestedFilename(), traceFileName(id, format));
    const saved = await readFile((await download.path())!, 'utf8');
    const headers = { authorization: `Bearer ${TOKEN}` };
    const res = await fetch(`${remote.url}/api/v1/requests/${id}/trace?format=${format}`, { headers });
    assert.equal(res.status, 200);
    return { saved, api: await res.text() };
  };

  it('asks before connecting to the service a link names, tests it with the token, then connects', async () => {
    const page = await newPage();
    const requestsToRemote: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(remote.url)) requestsToRemote.push(`${req.method()} ${new URL(req.url()).pathname}`);
    });
    await page.goto(`${consoleServe.url}/?connect=${encodeURIComponent(remote.url)}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('connection-dialog').waitFor({ timeout: 10_000 });
    const notice = await page.getByTestId('connection-notice').innerText();
    assert.match(notice, new RegExp(`connected to ${remoteHost()}.*Connect only if you trust it`));
    assert.equal(await page.getByTestId('connection-url').inputValue(), remote.url);
    assert.equal(await page.getByTestId('connection-remote').isChecked(), true);
    assert.deepEqual(requestsToRemote, [], 'nothing goes to a service a link named before the user confirms');

    await page.getByTestId('connection-test').click();
    await page.locator('[data-testid="connection-result"][data-ok="false"]').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('connection-result').innerText(), /UNAUTHORIZED.*needs an access token/);

    await page.getByTestId('connection-token').fill(TOKEN);
    await page.getByTestId('connection-test').click();
    await page.locator('[data-testid="connection-result"][data-ok="true"]').waitFor({ timeout: 10_000 });
    const found = await page.getByTestId('connection-result').innerText();
    assert.match(found, new RegExp(`Reached ofa-ve \\d+\\.\\d+\\.\\d+ at ${remoteHost()}: model \\S+ v\\S+ on CPU`));
    assert.match(found, /DEMO MODEL/);
    await page.screenshot({ path: path.join(SHOTS, 'remote-connection-dialog.png') });

    await Promise.all([page.waitForEvent('load'), page.getByTestId('connection-connect').click()]);
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });
    const where = page.getByTestId('status-where');
    assert.equal(await where.getAttribute('data-kind'), 'remote');
    assert.match(await where.innerText(), new RegExp(`remote: ${remoteHost()}`));
    assert.match(await page.getByTestId('status-model').innerText(), /DEMO MODEL/);
    assert.equal(await page.getByTestId('metrics-url').innerText(), `${remote.url}/metrics`, 'Prometheus scrapes the remote');
    assert.doesNotMatch(page.url(), /token=/, 'no token left in the address bar');
    await page.context().close();
  });

  it('checks, watches and traces over HTTP against the remote: the remote counts the checks, the console none', async () => {
    const page = await newPage();
    // The same tab state as after the first test: the remote confirmed, its token kept for the tab.
    await page.goto(`${consoleServe.url}/?connect=${encodeURIComponent(remote.url)}&token=${TOKEN}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('connection-dialog').waitFor({ timeout: 10_000 });
    await Promise.all([page.waitForEvent('load'), page.getByTestId('connection-connect').click()]);
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });

    const remoteBefore = await checksCounted(remote, TOKEN);
    const consoleBefore = await checksCounted(consoleServe);
    await page.getByTestId('caption-all').fill('two dogs play on the grass');
    await dropFiles(page, [await pngFile('meadow.png', 1), await pngFile('river.png', 2)]);
    await page.waitForFunction(() => document.querySelector('[data-testid="check-all"]')?.textContent === 'Check 2 ready');
    await page.getByTestId('check-all').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="result-row"][data-state="done"]').length === 2, undefined, {
      timeout: 30_000,
    });
    const labels = await page.$$eval('[data-testid="result-row"] [data-testid="label"]', (els) => els.map((e) => e.textContent?.trim()));
    assert.deepEqual(
      labels.map((l) => /^(YES|NO|MAYBE)$/.test(l ?? '')),
      [true, true],
    );
    assert.equal(await checksCounted(remote, TOKEN), remoteBefore + 2, 'the remote ran both checks');
    assert.equal(await checksCounted(consoleServe), consoleBefore, 'the console that served the page ran none');

    await page.getByRole('tab', { name: 'Dashboard' }).click();
    await page.getByTestId('stats-updated').waitFor({ timeout: 10_000 });
    const totalsShown = () => /Requests\s*[1-9]/.test(document.querySelector('[data-testid="totals"]')?.textContent ?? '');
    await page.waitForFunction(totalsShown, undefined, { timeout: 10_000 });
    await page.getByTestId('slow-request').first().waitFor({ timeout: 10_000 });
    assert.ok((await page.getByTestId('slow-request').count()) >= 2, "the remote's slowest checks, with their stages");
    assert.equal(await page.getByTestId('stats-error').count(), 0);

    // The trace buttons save the remote's own trace of the request: the API's answer, byte for byte.
    // A profiled batch's Chrome trace has operator events; the profiling session is replaced in the
    // background after each one, so not every batch finds one: look at every row.
    let operators = 0;
    const rows = await page.getByTestId('slow-request').count();
    for (let row = 0; row < rows; row++) {
      for (const format of ['chrome', 'otlp'] as const) {
        const { saved, api } = await saveTrace(page, row, format);
        assert.equal(saved, api, `row ${row}: the ${format} file is the API's answer`);
        if (format === 'chrome') {
          const events = (JSON.parse(saved) as ChromeTraceDocument).traceEvents;
          operators = Math.max(operators, events.filter((e) => e.cat === 'operator').length);
        }
      }
    }
    assert.ok(operators > 0, `with --profile-sample-rate 1 a saved Chrome trace has operator events (${rows} rows)`);
    assert.equal(await page.getByTestId('trace-error').count(), 0);
    assert.equal(await page.getByTestId('trace-gone').count(), 0);
    await page.screenshot({ path: path.join(SHOTS, 'remote-dashboard.png') });
    await page.getByTestId('status-bar').screenshot({ path: path.join(SHOTS, 'remote-status-bar.png') });
    await page.context().close();
  });

  it('asks again for a token the remote refuses, and goes back to the local service from the dialog', async () => {
    const page = await newPage();
    await page.goto(`${consoleServe.url}/?connect=${encodeURIComponent(remote.url)}&token=wrong`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('connection-dialog').waitFor({ timeout: 10_000 });
    await Promise.all([page.waitForEvent('load'), page.getByTestId('connection-connect').click()]);
    await page.getByTestId('sign-in-refused').waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId('status-link').innerText(), /token refused/);
    await page.getByTestId('sign-in-token').fill(TOKEN);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('status-where').getAttribute('data-kind'), 'remote');

    await page.getByTestId('open-connection').click();
    await page.getByTestId('connection-dialog').waitFor();
    await page.getByTestId('connection-local').check();
    await Promise.all([page.waitForEvent('load'), page.getByTestId('connection-connect').click()]);
    await page.getByTestId('demo-banner').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('status-where').getAttribute('data-kind'), 'service');
    assert.equal(new URL(page.url()).searchParams.get('connect'), null);
    await page.context().close();
  });

  it('says what to start the remote with when it does not allow the page', async () => {
    const page = await newPage();
    // The same console under another name is another origin, one the remote was not told about.
    const otherOrigin = consoleServe.url.replace('127.0.0.1', 'localhost');
    await page.goto(`${otherOrigin}/?connect=${encodeURIComponent(remote.url)}&token=${TOKEN}`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('connection-dialog').waitFor({ timeout: 10_000 });
    await page.getByTestId('connection-test').click();
    await page.locator('[data-testid="connection-result"][data-ok="false"]').waitFor({ timeout: 10_000 });
    assert.match(
      await page.getByTestId('connection-result').innerText(),
      new RegExp(`SERVICE_UNAVAILABLE.*cannot reach it.*--cors-origin ${otherOrigin.replace(/[.]/g, '\\.')}`),
    );
    await page.screenshot({ path: path.join(SHOTS, 'remote-cors-refused.png') });
    await page.context().close();
  });

  it('left no script errors in the pages', () => {
    assert.deepEqual(pageErrors, []);
  });
});
