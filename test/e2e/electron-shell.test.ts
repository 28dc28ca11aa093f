/**
 * The desktop shell through Playwright's Electron driver: the window opens on the app's own
 * origin, a check works over IPC, the webPreferences are the secure ones, navigation, new windows
 * and permissions are denied. Runs wherever an Electron binary exists (a developer machine: `npm
 * ci` without ELECTRON_SKIP_BINARY_DOWNLOAD); elsewhere it says plainly that it was skipped.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import sharp from 'sharp';
import { electronBinary } from '../support/electron-binary.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

const binary = electronBinary();
const skip = binary
  ? false
  : 'no Electron binary on this machine (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1); these tests run where `npm ci` could download Electron';

/** A display for Electron: the session's own, or an Xvfb started here. */
async function ensureDisplay(): Promise<ChildProcess | undefined> {
  if (process.platform !== 'linux' || process.env.DISPLAY) return undefined;
  const display = ':97';
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1400x950x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 800));
  process.env.DISPLAY = display;
  return xvfb;
}

describe('Electron shell (Playwright _electron)', { skip }, () => {
  let app: ElectronApplication;
  let page: Page;
  let xvfb: ChildProcess | undefined;

  before(async () => {
    assert.ok(existsSync(path.join(REPO_ROOT, 'out/main/index.js')), 'run `npm run build` first');
    xvfb = await ensureDisplay();
    app = await _electron.launch({
      executablePath: binary!,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), path.join(REPO_ROOT, 'out/main/index.js'), '--port', '0'],
      cwd: REPO_ROOT,
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });
  after(async () => {
    await app?.close();
    xvfb?.kill();
  });

  it('opens the console window on the app:// origin', async () => {
    assert.equal(await page.title(), 'OFA-VE Console');
    assert.match(page.url(), /^app:\/\/console\//);
    await page.getByTestId('demo-banner').waitFor({ timeout: 20_000 });
    await mkdir(path.join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(REPO_ROOT, 'test-results', 'electron-window.png') });
  });

  it('behaves as the secure webPreferences say: no Node in the page, only the typed API', async () => {
    // The values themselves are unit-tested (test/unit/electron-web-preferences.test.ts); here, their effect.
    assert.equal(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
    assert.equal(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process), 'undefined');
    assert.equal(await page.evaluate(() => typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer), 'undefined');
    const api = await page.evaluate(() => Object.keys((window as unknown as { ofaVe: object }).ofaVe).sort());
    assert.deepEqual(api, [
      'addMark',
      'check',
      'chooseModelDirectory',
      'compare',
      'connect',
      'connection',
      'endpoint',
      'marks',
      'modelInfo',
      'onAppEvent',
      'saveFile',
      'slices',
      'slowest',
      'subscribeStats',
      'testConnection',
      'trace',
    ]);
    assert.equal(await page.evaluate(() => document.createElement('webview').constructor.name), 'HTMLElement', 'no <webview> tag');
  });

  it('checks an image over IPC, through the same service that counts /metrics', async () => {
    const png = await sharp({ create: { width: 256, height: 192, channels: 3, background: { r: 30, g: 160, b: 90 } } })
      .png()
      .toBuffer();
    const outcome = await page.evaluate(
      async (bytes) => {
        const api = (window as unknown as { ofaVe: { check(r: unknown): Promise<{ ok: boolean; value?: { label: string } }> } }).ofaVe;
        return api.check({ image: new Uint8Array(bytes), name: 'green.png', text: 'a green field' });
      },
      [...png],
    );
    assert.equal(outcome.ok, true);
    assert.match(outcome.value!.label, /^(YES|NO|MAYBE)$/);
    const endpoint = await page.evaluate(async () =>
      (window as unknown as { ofaVe: { endpoint(): Promise<{ ok: boolean; value: { metrics_url: string } }> } }).ofaVe.endpoint(),
    );
    const metrics = await (await fetch(endpoint.value.metrics_url)).text();
    assert.match(metrics, /^ofa_ve_request_total\{status_code="200",result_type="(YES|NO|MAYBE)"\} 1$/m);
  });

  it('denies navigation away from the app, new windows and permission requests', async () => {
    const before = page.url();
    await page.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    assert.equal(page.url(), before);
    assert.equal(await page.evaluate(() => window.open('https://example.com/') === null), true);
    assert.equal((await app.windows()).length, 1);
    assert.equal(await page.evaluate(() => Notification.requestPermission()), 'denied');
  });
});
