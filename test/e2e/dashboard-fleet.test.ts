/**
 * The dashboard's Fleet panel against a real `ofa-ve serve --prometheus-url` and a real Prometheus
 * (Debian's) scraping that same serve every second through file_sd: the panel shows the figures and
 * per-replica rows of the GET /api/v1/fleet answer the page itself received, each captioned with
 * its source; the in-app charts say they are this replica's; the Compare panel offers Prometheus
 * as a source and shows that a comparison came from it. Screenshot: test-results/dashboard-fleet.png.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import sharp from 'sharp';
import type { FleetDocument } from '../../preload/wire-types.ts';
import { formatClock, formatMs, formatPercent, formatQps } from '../../renderer/dashboard/stats-format.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { launchChromium } from '../support/browser.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM } from '../support/e2e-page.ts';
import { startPrometheus, SKIP_WITHOUT_PROMETHEUS, type PrometheusProcess } from '../support/prometheus-process.ts';

const JOB = 'ofa-ve';

describe(
  'dashboard Fleet panel from a real Prometheus (Playwright, Debian chromium)',
  { skip: SKIP_WITHOUT_CHROMIUM || SKIP_WITHOUT_PROMETHEUS, timeout: 90_000 },
  () => {
    let dir: string;
    let prom: PrometheusProcess | undefined;
    let serve: ServeProcess | undefined;
    let browser: Browser | undefined;
    let page: Page;
    const pageErrors: string[] = [];

    before(async () => {
      await prepareUiRun();
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-fleet-ui-'));
      // Prometheus first (its port is its own choice), then the serve that reads it, then its target.
      const targets = path.join(dir, 'targets');
      await mkdir(targets);
      const config = path.join(dir, 'prometheus.yml');
      await writeFile(
        config,
        [
          'global: {scrape_interval: 1s, scrape_timeout: 900ms}',
          'scrape_configs:',
          `  - job_name: ${JOB}`,
          `    file_sd_configs: [{files: ["${targets}/*.json"], refresh_interval: 1s}]`,
          '',
        ].join('\n'),
      );
      prom = await startPrometheus(config, path.join(dir, 'data'));
      serve = await startServe(['--access-log-rate', '0', '--prometheus-url', prom.url]);
      await writeFile(path.join(targets, 'ofa-ve.json'), JSON.stringify([{ targets: [new URL(serve.url).host] }]));
      const p = prom;
      await p.waitUntil('two scrapes of the serve', 20_000, async () =>
        ((await p.scalar(`count_over_time(up{job="${JOB}"}[1m])`)) ?? 0) >= 2 ? true : undefined,
      );
      const png = new Uint8Array(
        await sharp({ create: { width: 96, height: 64, channels: 3, background: '#4080c0' } })
          .png()
          .toBuffer(),
      );
      for (let i = 0; i < 12; i++) {
        const body = new FormData();
        body.append('image', new Blob([png]), 'photo.png');
        body.append('text', 'a blue picture');
        const res: Response = await fetch(`${serve.url}/api/v1/check`, { method: 'POST', body });
        assert.equal(res.status, 200);
      }
      await p.waitUntil('the checks scraped', 10_000, async () =>
        ((await p.scalar(`sum(ofa_ve_request_total{job="${JOB}"})`)) ?? 0) >= 12 ? true : undefined,
      );
      browser = await launchChromium();
      page = await openPage(browser, { context: { viewport: { width: 1400, height: 1400 }, deviceScaleFactor: 1 }, errors: pageErrors });
    });

    after(async () => {
      await browser?.close();
      await serve?.stop();
      await prom?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('renders the figures and replica rows of the fleet answer it received, captioned with their source', async () => {
      const answered = page.waitForResponse((res) => res.url().includes('/api/v1/fleet?') && res.status() === 200, { timeout: 20_000 });
      await page.goto(`${serve!.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
      const doc = (await (await answered).json()) as FleetDocument;
      const panel = page.getByTestId('fleet-panel');
      // The panel asks again every few seconds: read it while it shows this answer.
      await panel
        .getByTestId('fleet-updated')
        .filter({ hasText: formatClock(doc.generated_at) })
        .waitFor({ timeout: 10_000 });
      const texts = await panel.evaluate((el) => {
        const text = (id: string) => el.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
        return {
          qps: text('fleet-qps'),
          p50: text('fleet-p50'),
          p90: text('fleet-p90'),
          p99: text('fleet-p99'),
          errors: text('fleet-error-rate'),
          source: text('fleet-source'),
          replicasSource: text('fleet-replicas-source'),
          rows: [...el.querySelectorAll('[data-testid="fleet-replica"]')].map((r) => ({
            instance: r.getAttribute('data-instance'),
            up: r.getAttribute('data-up'),
            slowest: r.getAttribute('data-slowest'),
            qps: r.querySelector('[data-col="qps"]')?.textContent,
            p90: r.querySelector('[data-col="p90"]')?.textContent,
          })),
          captions: [...el.querySelectorAll('.chart-note')].map((n) => n.textContent ?? ''),
        };
      });
      assert.equal(texts.qps, formatQps(doc.qps.value));
      assert.ok((doc.qps.value ?? 0) > 0, 'Prometheus saw the checks');
      assert.equal(texts.p50, formatMs(doc.p50_ms.value));
      assert.equal(texts.p90, formatMs(doc.p90_ms.value));
      assert.equal(texts.p99, formatMs(doc.p99_ms.value));
      assert.equal(texts.errors, doc.error_rate.value === null ? '—' : formatPercent(doc.error_rate.value));
      assert.ok(texts.source?.includes(`Prometheus at ${prom!.url}`), texts.source ?? '');
      assert.ok(texts.replicasSource?.includes(`Prometheus at ${prom!.url}`));
      assert.deepEqual(
        texts.rows,
        doc.replicas.map((r) => ({
          instance: r.instance,
          up: 'up',
          slowest: String(r.slowest),
          qps: formatQps(r.qps),
          p90: formatMs(r.p90_ms),
        })),
      );
      assert.equal(texts.rows.length, 1);
      assert.equal(texts.rows[0]!.slowest, 'true', 'the one replica is the slowest');
      assert.equal(texts.captions.length, 2);
      for (const caption of texts.captions) assert.match(caption, new RegExp(`Prometheus at ${prom!.url.replace(/\./g, '\\.')}, sum`));
      assert.ok((await panel.getByTestId('fleet-chart-qps').locator('.recharts-line').count()) >= 1, 'the QPS chart has lines');
      const inApp = await page.getByTestId('chart-qps').locator('.chart-note').textContent();
      assert.match(inApp ?? '', /this replica, in-app/);
      await panel.screenshot({ path: path.join(SHOTS, 'dashboard-fleet.png') });
      assert.deepEqual(pageErrors, []);
    });

    it("after a window change shows none of the old window's figures while the new window's answer is on its way", async () => {
      const panel = page.getByTestId('fleet-panel');
      await panel.getByTestId('fleet-qps').waitFor({ timeout: 10_000 });
      // Hold the 15 min answer: until it comes, the panel has no figures of the window it shows as chosen.
      const fifteen = /\/api\/v1\/fleet\?.*window=15m/;
      const heldRoutes: Route[] = [];
      let asked: () => void = () => {};
      const held = new Promise<void>((resolve) => (asked = resolve));
      await page.route(fifteen, (route) => {
        heldRoutes.push(route);
        asked();
      });
      await panel.getByTestId('fleet-window-15m').click();
      await held;
      assert.equal(await panel.getByTestId('fleet-window-15m').getAttribute('aria-pressed'), 'true');
      assert.equal(await panel.getByTestId('fleet-figures').count(), 0, 'the 5 min figures are not shown under 15 min');
      assert.equal(await panel.getByTestId('fleet-updated').count(), 0);
      assert.equal(await panel.getByText('Asking Prometheus…').count(), 1);
      await page.unroute(fifteen);
      await Promise.all(heldRoutes.map((route) => route.continue().catch(() => {})));
      await panel.getByTestId('fleet-figures').waitFor({ timeout: 10_000 });
      assert.deepEqual(pageErrors, []);
    });

    it('the Compare panel offers Prometheus as the source and says the comparison came from it', async () => {
      const compare = page.getByTestId('compare-panel');
      await compare.getByTestId('compare-source-select').selectOption('prometheus');
      assert.equal(await compare.getByTestId('compare-attribute').isDisabled(), false, 'caption_script slices from Prometheus');
      assert.equal(await compare.locator('[data-testid="compare-attribute"] option[value="image_size"]').isDisabled(), true);
      await compare.getByTestId('range-b-from').selectOption('ago:5');
      await compare.getByTestId('compare-run').click();
      const view = compare.getByTestId('comparison');
      await view.waitFor({ timeout: 15_000 });
      assert.equal(await view.getAttribute('data-source'), 'prometheus');
      assert.match((await compare.getByTestId('compare-source').textContent()) ?? '', /Prometheus at .*sum by \(le, stage\)/);
      assert.ok((await compare.locator('[data-testid^="compare-stage-"]').count()) >= 6, 'end to end and the five stages');
    });
  },
);
