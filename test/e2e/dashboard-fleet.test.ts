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
  { skip: SKIP_WITHOUT_CHROMIUM || SKIP_WITHOUT_PROMETHEUS, timeout: 150_000 },
  () => {
    let dir: string;
    let prom: PrometheusProcess | undefined;
    let serve: ServeProcess | undefined;
    let second: ServeProcess | undefined;
    let targets: string;
    let sentToFirst = 0;
    let browser: Browser | undefined;
    let page: Page;
    const pageErrors: string[] = [];
    let png = new Uint8Array();

    async function sendChecks(url: string, count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const body = new FormData();
        body.append('image', new Blob([png]), 'photo.png');
        body.append('text', 'a blue picture');
        const res: Response = await fetch(`${url}/api/v1/check`, { method: 'POST', body });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
      }
    }

    before(async () => {
      await prepareUiRun();
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-fleet-ui-'));
      // Prometheus first (its port is its own choice), then the serve that reads it, then its target.
      targets = path.join(dir, 'targets');
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
      const pngBytes = new Uint8Array(
        await sharp({ create: { width: 96, height: 64, channels: 3, background: '#4080c0' } })
          .png()
          .toBuffer(),
      );
      png = pngBytes;
      await sendChecks(serve.url, 12);
      sentToFirst = 12;
      await p.waitUntil('the checks scraped', 10_000, async () =>
        ((await p.scalar(`sum(ofa_ve_request_total{job="${JOB}"})`)) ?? 0) >= 12 ? true : undefined,
      );
      browser = await launchChromium();
      page = await openPage(browser, { context: { viewport: { width: 1400, height: 1400 }, deviceScaleFactor: 1 }, errors: pageErrors });
    });

    after(async () => {
      await browser?.close();
      await second?.stop().catch(() => undefined);
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
      assert.equal(texts.rows[0]!.slowest, 'false', 'a replica alone is not "slowest" of one');
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
    it('a second replica: every QPS line its own colour over a fleet line behind; once it is down, its figures as of its last scrape', async () => {
      second = await startServe(['--access-log-rate', '0']);
      const secondHost = new URL(second.url).host;
      await writeFile(path.join(targets, 'ofa-ve.json'), JSON.stringify([{ targets: [new URL(serve!.url).host, secondHost] }]));
      const p = prom!;
      // Scraped at 0 before its checks, so rate() over the window counts every one of them.
      await p.waitUntil('two scrapes of the second replica', 20_000, async () =>
        ((await p.scalar(`count_over_time(up{instance="${secondHost}"}[1m])`)) ?? 0) >= 2 ? true : undefined,
      );
      const sentToSecond = 20;
      await sendChecks(second.url, sentToSecond);
      await p.waitUntil("the second replica's checks scraped", 10_000, async () =>
        ((await p.scalar(`sum(ofa_ve_request_total{instance="${secondHost}"})`)) ?? 0) >= sentToSecond ? true : undefined,
      );
      const panel = page.getByTestId('fleet-panel');
      const fleetAnswer = (done: (doc: FleetDocument) => boolean) =>
        page.waitForResponse(
          async (res) => res.url().includes('/api/v1/fleet?window=5m') && res.status() === 200 && done((await res.json()) as FleetDocument),
          { timeout: 30_000 },
        );
      const shown = async (doc: FleetDocument) =>
        panel
          .getByTestId('fleet-updated')
          .filter({ hasText: formatClock(doc.generated_at) })
          .waitFor({ timeout: 10_000 });

      // Both replicas' lines in the chart.
      const both = fleetAnswer((d) => d.series.lines.some((l) => l.name === `qps ${secondHost}`) && d.replicas.length === 2);
      // A fresh page (the last test left the 15 min window chosen), on the 5 min window.
      await page.goto('about:blank');
      await page.goto(`${serve!.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
      await shown(await (await both).json());
      const chart = await panel.getByTestId('fleet-chart-qps').evaluate((el) => {
        const stroke = (g: Element) => g.querySelector('path.recharts-line-curve')?.getAttribute('stroke') ?? '';
        const lines = [...el.querySelectorAll('g.recharts-line')];
        return {
          fleet: lines.filter((g) => g.classList.contains('fleet-total')).map(stroke),
          fleetWidth: Number(el.querySelector('g.fleet-total path.recharts-line-curve')?.getAttribute('stroke-width')),
          fleetFirst: lines[0]?.classList.contains('fleet-total') ?? false,
          replicas: lines.filter((g) => !g.classList.contains('fleet-total')).map(stroke),
          axis: el.querySelector('.recharts-yAxis-tick-labels text.recharts-cartesian-axis-tick-value')?.getAttribute('fill') ?? '',
          legend: [...el.querySelectorAll('.recharts-legend-item')].map((item) => ({
            icon: item.querySelector('.recharts-surface path')?.getAttribute('stroke') ?? '',
            text: item.querySelector('.recharts-legend-item-text')?.textContent ?? '',
          })),
          yTicks: [...el.querySelectorAll('.recharts-yAxis-tick-labels text.recharts-cartesian-axis-tick-value')].map(
            (t) => t.textContent ?? '',
          ),
        };
      });
      assert.equal(chart.fleet.length, 1, JSON.stringify(chart));
      assert.equal(chart.replicas.length, 2, JSON.stringify(chart));
      assert.ok(chart.fleetFirst, 'the fleet line is drawn first, under the replicas');
      assert.ok(chart.axis, 'the axis colour read from its tick labels');
      assert.ok(chart.fleetWidth > 1.5, `the fleet line is wider than the replicas': ${chart.fleetWidth}`);
      const colours = [chart.fleet[0]!, ...chart.replicas, chart.axis].map((c) => c.toLowerCase());
      assert.equal(new Set(colours).size, 4, `fleet, two replicas and the axis each in a colour of their own: ${colours.join(' ')}`);
      assert.deepEqual(
        chart.legend.map((l) => l.icon.toLowerCase()),
        [chart.fleet[0]!, ...chart.replicas].map((c) => c.toLowerCase()),
        'the legend shows each line in its colour',
      );
      assert.equal(chart.yTicks[0], '0', `the QPS axis' 0: ${chart.yTicks.join(', ')}`);
      for (const tick of chart.yTicks) assert.doesNotMatch(tick, /\.\d*0$/, `one tick format: ${chart.yTicks.join(', ')}`);
      // The two charts fill their row (no empty third column).
      const layout = await panel.locator('.fleet-charts').evaluate((grid) => ({
        right: grid.getBoundingClientRect().right,
        cards: [...grid.children].map((c) => c.getBoundingClientRect().right),
      }));
      assert.ok(Math.abs(Math.max(...layout.cards) - layout.right) <= 1, `the last chart ends at the row's end: ${JSON.stringify(layout)}`);

      // The second replica goes down.
      second.child.kill('SIGKILL');
      await p.waitUntil('up 0 for the second replica', 15_000, async () =>
        (await p.scalar(`up{instance="${secondHost}"}`)) === 0 ? true : undefined,
      );
      const downAnswer = fleetAnswer((d) => d.replicas.some((r) => r.instance === secondHost && r.up === false));
      const doc = (await (await downAnswer).json()) as FleetDocument;
      await shown(doc);
      // Its checks in the window still count in the fleet's QPS, as in the quantiles.
      const total = sentToFirst + sentToSecond;
      assert.ok(
        (doc.qps.value ?? 0) * doc.window_s >= total * (1 - 1e-9),
        `fleet QPS × window ${doc.qps.value! * doc.window_s} vs ${total}`,
      );
      const view = await panel.evaluate((el, host) => {
        const row = el.querySelector(`[data-testid="fleet-replica"][data-instance="${host}"]`);
        return {
          qps: el.querySelector('[data-testid="fleet-qps"]')?.textContent,
          up: row?.getAttribute('data-up'),
          asOf: row?.getAttribute('data-as-of-last-scrape'),
          note: row?.querySelector('[data-testid="fleet-replica-as-of"]')?.textContent ?? '',
          skew: row?.querySelector('[data-col="skew"]')?.textContent,
          slowest: [...el.querySelectorAll('[data-testid="fleet-replica"][data-slowest="true"]')].length,
          source: el.querySelector('[data-testid="fleet-replicas-source"]')?.textContent ?? '',
        };
      }, secondHost);
      assert.equal(view.qps, formatQps(doc.qps.value));
      assert.equal(view.up, 'down');
      assert.equal(view.asOf, 'true');
      assert.match(view.note, /as of its last scrape/);
      assert.equal(view.skew, 'not compared (down)');
      assert.equal(view.slowest, 0, 'one replica up: none is "slowest"');
      assert.doesNotMatch(view.source, /slowest: .* at 0\./, view.source);
      await panel.screenshot({ path: path.join(SHOTS, 'dashboard-fleet-replica-down.png') });
      assert.deepEqual(pageErrors, []);
    });
  },
);
