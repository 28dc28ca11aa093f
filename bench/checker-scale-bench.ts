/**
 * The checker with thousands of images, as reviewers use it: the browser UI against the real
 * `ofa-ve serve` (demo model), in Debian's Chromium. N photos (640x480 JPEGs, all different) are
 * picked, captioned and checked; the same photos are then sent straight to the service from Node,
 * 4 in flight as the page sends them, for what the service gives without a page in front of it.
 *
 *   node --import tsx bench/checker-scale-bench.ts [--images 2000] [--json FILE]
 *
 * Figures: time until the rows show, the batch's checks/s (the page's own summary line) against the
 * direct run's, the page's main-thread long tasks, its CPU (Chrome's TaskDuration) and the CPU of
 * the service, elements in the page, JS heap, and how long a sort click takes to paint.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type CDPSession, type Page } from 'playwright-core';
import sharp from 'sharp';
import { startServe } from './support/serve-process.ts';
import { childPids, cpuSeconds } from './support/proc-stats.ts';
import { renderCheckerScale, type CheckerScaleResult, type LongTasks } from './checker-scale-report.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '2000' }, json: { type: 'string' } } });
const N = Number(values.images);
if (!Number.isInteger(N) || N < 1) throw new Error(`--images must be a positive whole number, got ${values.images}`);
const CAPTION = 'two dogs play on the grass';
/** The page's batch runner keeps this many checks in flight (renderer/api/batch-runner.ts CONSOLE_BATCH). */
const IN_FLIGHT = 4;
const say = (text: string) => process.stderr.write(`[checker-scale] ${text}\n`);

/** Distinct photos: a gradient, shapes and noise, seeded by the index (JPEG quality 85, ~60 KB). */
async function writePhotos(dir: string): Promise<string[]> {
  const noise = await sharp({
    create: { width: 640, height: 480, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 14 } },
  })
    .png()
    .toBuffer();
  const one = async (i: number) => {
    let seed = (i + 1) * 2654435761;
    const r = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const shapes = Array.from({ length: 10 }, () => {
      const colour = `rgb(${(r() * 255) | 0},${(r() * 255) | 0},${(r() * 255) | 0})`;
      return `<rect x="${r() * 600}" y="${r() * 440}" width="${40 + r() * 200}" height="${30 + r() * 160}" fill="${colour}"/>`;
    }).join('');
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="hsl(${(i * 37) % 360},55%,45%)"/>` +
      `${shapes}</svg>`;
    const file = path.join(dir, `img-${String(i).padStart(5, '0')}.jpg`);
    await writeFile(
      file,
      await sharp(Buffer.from(svg))
        .composite([{ input: noise, blend: 'overlay' }])
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
    return file;
  };
  const files: string[] = [];
  for (let i = 0; i < N; i += 8) files.push(...(await Promise.all(Array.from({ length: Math.min(8, N - i) }, (_, k) => one(i + k)))));
  return files;
}

/** Long tasks since `from` (ms of the page's clock): count, total and longest. */
async function longTasks(page: Page, from: number): Promise<LongTasks> {
  const tasks = (await page.evaluate('globalThis.__longTasks')) as { start: number; duration: number }[];
  const since = tasks.filter((t) => t.start >= from).map((t) => t.duration);
  return { count: since.length, total_ms: Math.round(since.reduce((a, b) => a + b, 0)), max_ms: Math.round(Math.max(0, ...since)) };
}

/** One of Chrome's Performance.getMetrics figures for the page (TaskDuration: seconds its main thread was busy). */
async function cdpMetric(cdp: CDPSession, name: string): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return metrics.find((m) => m.name === name)?.value ?? Number.NaN;
}

/** CPU seconds of `ofa-ve serve` and its inference worker. */
const serviceCpuSeconds = (pid: number) => [pid, ...childPids(pid)].reduce((sum, p) => sum + (cpuSeconds(p) ?? 0), 0);

const pageNow = (page: Page) => page.evaluate(() => performance.now());

const dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-checker-scale-'));
const serve = await startServe(['--access-log-rate', '0']);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  say(`writing ${N} photos`);
  const files = await writePhotos(dir);
  const context = await browser.newContext({ viewport: { width: 1400, height: 950 } });
  // Page code as text: this file compiles without the DOM's types.
  await context.addInitScript(`
    globalThis.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) globalThis.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: 'longtask', buffered: true });
  `);
  const page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.accept());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(serve.url, { waitUntil: 'domcontentloaded' });
  await page.getByTestId('drop-zone').waitFor();

  // 1. Pick the photos: until the counts line has them all.
  const addFrom = await pageNow(page);
  const t0 = performance.now();
  await page.getByTestId('pick-images').setInputFiles(files);
  await page
    .getByTestId('result-counts')
    .filter({ hasText: new RegExp(`^${N} rows? `) })
    .waitFor({ timeout: 300_000 });
  const rowsShownS = (performance.now() - t0) / 1000;
  const addTasks = await longTasks(page, addFrom);
  say(`${N} rows shown after ${rowsShownS.toFixed(2)} s`);

  // 2. Caption and check: until the page's batch line says it finished.
  await page.getByTestId('caption-all').fill(CAPTION);
  await page
    .getByTestId('check-all')
    .filter({ hasText: new RegExp(`^Check ${N} ready$`) })
    .waitFor({ timeout: 60_000 });
  const checkFrom = await pageNow(page);
  const pageTask0 = await cdpMetric(cdp, 'TaskDuration');
  const serveCpu0 = serviceCpuSeconds(serve.child.pid as number);
  const t1 = performance.now();
  await page.getByTestId('check-all').click();
  await page
    .getByTestId('batch-summary')
    .filter({ hasText: /^Finished/ })
    .waitFor({ timeout: 1_800_000 });
  const batchS = (performance.now() - t1) / 1000;
  const pageCpuS = (await cdpMetric(cdp, 'TaskDuration')) - pageTask0;
  const serveCpuS = serviceCpuSeconds(serve.child.pid as number) - serveCpu0;
  const checkTasks = await longTasks(page, checkFrom);
  const summary = await page.getByTestId('batch-summary').innerText();
  const counts = await page.getByTestId('result-counts').innerText();
  const afterBatch = {
    elements: await page.locator('*').count(),
    rows_in_page: await page.getByTestId('result-row').count(),
    js_heap_mib: (await cdpMetric(cdp, 'JSHeapUsedSize')) / 2 ** 20,
  };
  say(`${summary}; page main thread ${pageCpuS.toFixed(1)} s, service ${serveCpuS.toFixed(1)} s of CPU`);

  // 3. Sort clicks (file A to Z, then Z to A): until the row sorted first is first and two frames have passed.
  const sortClickMs: number[] = [];
  for (const first of [files[0], files[N - 1]] as string[]) {
    const s0 = performance.now();
    await page.getByTestId('sort-file').click();
    await page
      .locator(`tbody > tr[data-testid="result-row"]`)
      .first()
      .and(page.locator(`[data-file="${path.basename(first)}"]`))
      .waitFor();
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))');
    sortClickMs.push(Math.round(performance.now() - s0));
  }

  // 4. The same photos straight to the service, as many in flight as the page keeps.
  let next = 0;
  const t2 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < files.length) {
        const file = files[next++] as string;
        const form = new FormData();
        form.append('image', new Blob([await readFile(file)], { type: 'image/jpeg' }), path.basename(file));
        form.append('text', CAPTION);
        const res = await fetch(`${serve.url}/api/v1/check`, { method: 'POST', body: form });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`direct check of ${file}: HTTP ${res.status}`);
      }
    }),
  );
  const directS = (performance.now() - t2) / 1000;

  const result: CheckerScaleResult = {
    tool: 'bench/checker-scale-bench.ts',
    date: new Date().toISOString(),
    command: `node --import tsx bench/checker-scale-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', load_average_at_start: os.loadavg() },
    images: N,
    in_flight: IN_FLIGHT,
    rows_shown_s: rowsShownS,
    add_long_tasks: addTasks,
    batch_s: batchS,
    page_checks_per_s: N / batchS,
    direct_checks_per_s: N / directS,
    page_to_direct: directS / batchS,
    page_summary: summary,
    counts,
    check_long_tasks: checkTasks,
    page_main_thread_s: pageCpuS,
    service_cpu_s: serveCpuS,
    after_batch: afterBatch,
    sort_click_ms: sortClickMs,
  };
  process.stdout.write(`${renderCheckerScale(result).join('\n')}\n`);
  if (values.json) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await browser.close();
  await serve.stop();
  await rm(dir, { recursive: true, force: true });
}
