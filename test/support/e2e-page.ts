/**
 * What the browser end-to-end tests share: where their screenshots go, when they skip, the check
 * that the UI is built, and a fresh page that records the errors it raises.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { chromiumAvailable, launchChromium } from './browser.ts';
import { REPO_ROOT } from './shared-reference.ts';

export const SHOTS = path.join(REPO_ROOT, 'test-results');

/** `describe`'s skip: why, when there is no Chromium to drive. */
export const SKIP_WITHOUT_CHROMIUM = chromiumAvailable() ? false : 'Debian chromium is not installed (apt-get install chromium)';

/** Fails unless `npm run build` wrote the UI (the tests load out/renderer), and makes SHOTS. */
export async function prepareUiRun(): Promise<void> {
  const built = existsSync(path.join(REPO_ROOT, 'out/renderer/index.html'));
  assert.ok(built, 'out/renderer is missing: run `npm run build` before the e2e tests (npm test does)');
  await mkdir(SHOTS, { recursive: true });
}

export interface PageOptions {
  context: BrowserContextOptions;
  /** Gets every uncaught error of the page and, with `consoleErrors`, every console.error too. */
  errors?: string[];
  consoleErrors?: boolean;
}

/** A page in a context of its own. */
export async function openPage(browser: Browser, options: PageOptions): Promise<Page> {
  const context = await browser.newContext(options.context);
  // tsx compiles the tests with esbuild's keepNames: functions passed to page.evaluate call __name.
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
  const page = await context.newPage();
  const errors = options.errors;
  if (errors) {
    if (options.consoleErrors) {
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
    }
    page.on('pageerror', (err) => errors.push(String(err)));
  }
  return page;
}

/** A real `ofa-ve serve` and a Chromium page for it (not navigated yet: routes may be set first). */
export interface ServedUi {
  readonly serve: ServeProcess;
  readonly page: Page;
  /** Closes the browser and stops the service; resolves to the service's exit code. */
  close(): Promise<number | null>;
}

/** prepareUiRun, `ofa-ve serve` with `serveArgs`, Chromium, and openPage on it; nothing left running if a step fails. */
export async function startServedUi(options: PageOptions & { serveArgs?: string[] }): Promise<ServedUi> {
  await prepareUiRun();
  const serve = await startServe(options.serveArgs ?? []);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await openPage(browser, options);
    const opened = browser;
    return {
      serve,
      page,
      async close() {
        await opened.close();
        return serve.stop();
      },
    };
  } catch (err) {
    await browser?.close();
    await serve.stop();
    throw err;
  }
}
