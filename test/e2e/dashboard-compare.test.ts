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
import type { Page, Response } from 'playwright-core';
import sharp from 'sharp';
import {
  STAGE_NAMES,
  type Mark,
  type PeriodComparison,
  type QuantileChange,
  type SliceStats,
  type SlicesSnapshot,
  type StageChange,
} from '../../preload/wire-types.ts';
import { compareQuery } from '../../renderer/api/http-client.ts';
import {
  comparedRows,
  comparisonVerdict,
  formatDifference,
  formatEstimate,
  significanceLabel,
} from '../../renderer/dashboard/compare-format.ts';
import { formatClock, formatMs } from '../../renderer/dashboard/stats-format.ts';
import { SHOTS, SKIP_WITHOUT_CHROMIUM, startServedUi, type ServedUi } from '../support/e2e-page.ts';
import { checkParts, multipartBody, multipartType } from '../support/multipart-body.ts';
import type { ServeProcess } from '../../bench/support/serve-process.ts';

/** What the Slices header says for an answer: the span it read, from its own figures. */
function coveredCaption(doc: SlicesSnapshot): string {
  return `last ${doc.covered_s} s, ${formatClock(doc.from)}–${formatClock(doc.generated_at)} (whole 10 s periods)`;
}

/** Slices are kept per 10 s: each period compared must hold a whole one. */
const PERIOD_MS = 10_000;
const CAPTIONS = ['a dog runs across the grass', '一只狗在草地上奔跑'];
const MARK_NAME = 'before the CJK batch';
/** Every page of this file: wide enough for the Compare and Slices tables, at 1 CSS px per pixel. */
const WIDE = { viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 };

describe('dashboard slices and compare against a real service (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let ui: ServedUi;
  let serve: ServeProcess;
  /** Before the service was started: its slices never read from earlier than this. */
  let serviceStart = 0;
  let page: Page;
  let image: Uint8Array;
  const consoleErrors: string[] = [];

  before(async () => {
    const pixels = Buffer.alloc(64 * 48 * 3, 120);
    image = new Uint8Array(
      await sharp(pixels, { raw: { width: 64, height: 48, channels: 3 } })
        .png()
        .toBuffer(),
    );
    serviceStart = Date.now();
    ui = await startServedUi({ context: WIDE, errors: consoleErrors, consoleErrors: true });
    ({ serve, page } = ui);
    await page.goto(`${serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('compare-panel').waitFor({ timeout: 15_000 });
  });
  after(async () => {
    assert.equal(await ui?.close(), 0, 'ofa-ve serve stopped cleanly');
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
    const answers: SlicesSnapshot[] = [];
    const onResponse = (response: Response) => {
      if (/\/api\/v1\/slices\?/.test(response.url()) && response.ok())
        response.json().then(
          (doc: SlicesSnapshot) => answers.push(doc),
          () => {},
        );
    };
    page.on('response', onResponse);
    await page.getByTestId('slice-attr-caption_script').click();
    assert.equal(await page.getByTestId('slice-attr-caption_script').getAttribute('aria-pressed'), 'true');
    for (const slice of ['english', 'cjk']) {
      const row = page.getByTestId(`slice-row-${slice}`);
      await row.waitFor({ timeout: 10_000 });
      assert.match((await row.locator('[data-col="qps"]').textContent()) ?? '', /^[0-9]+\.[0-9]+$/);
      assert.match((await row.locator('[data-col="p50"]').textContent()) ?? '', /^[0-9.]+ (ms|s)$/);
      assert.match((await row.locator('[data-col="requests"]').textContent()) ?? '', /^[1-9][0-9,]*$/);
      assert.equal((await row.locator('.stage-bar-segment').count()) > 0, true, `${slice} has a stage bar`);
      assert.match((await row.locator('[data-col="client_error_rate"]').textContent()) ?? '', /^[0-9.]+%$/);
    }
    // The header states the span an answer the page got says it read (covered_s: whole 10 s periods).
    // Polled every 5 s: wait for an answer seen here, then for the header to show it.
    let header = '';
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      header = (await page.locator('#slices-title .muted').textContent()) ?? '';
      if (answers.some((doc) => header === coveredCaption(doc))) break;
      await page.waitForTimeout(200);
    }
    page.off('response', onResponse);
    assert.ok(answers.length > 0, 'the page asked for slices');
    assert.ok(
      answers.some((doc) => header === coveredCaption(doc)),
      `header ${JSON.stringify(header)} is one of ${JSON.stringify(answers.map(coveredCaption))}`,
    );
    assert.ok(
      // Whole 10 s periods: 60–69 s, or less for a service younger than that (read from its first second).
      answers.every(
        (doc) => doc.covered_s > 0 && doc.covered_s < 70 && (doc.covered_s >= 60 || Date.parse(doc.from) >= serviceStart - 1000),
      ),
      "a 60 s window reads 60–69 s, or the service's whole life when it is younger",
    );
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

  it('an empty or reversed range is refused in words, and the last comparison goes with it', async () => {
    assert.equal(await page.getByTestId('comparison').count(), 1, 'the comparison of the test before is on show');
    await page.getByTestId('range-a-from').selectOption('ago:5');
    await page.getByTestId('range-a-to').selectOption('ago:5');
    await page.getByTestId('compare-run').click();
    const error = page.getByTestId('compare-error');
    await error.waitFor({ timeout: 5000 });
    assert.match(await error.innerText(), /^range A is empty: its "from" and "to" are the same time; choose a later "to"$/);
    assert.equal(await page.getByTestId('comparison').count(), 0, 'no tables that would read as the answer to this choice');
    await page.getByTestId('range-a-from').selectOption('ago:5');
    await page.getByTestId('range-a-to').selectOption('ago:15');
    await page.getByTestId('compare-run').click();
    assert.match(await error.innerText(), /^range A ends before it starts/);
    await page.getByTestId('compare-panel').screenshot({ path: path.join(SHOTS, 'dashboard-compare-empty-range.png') });
  });

  it('logged no errors in the page console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});

/** A quantile change with its interval in each period. */
function quantile(q: number, a: [number, number, number], b: [number, number, number], significant: boolean): QuantileChange {
  return {
    quantile: q,
    a: { value_ms: a[0], low_ms: a[1], high_ms: a[2] },
    b: { value_ms: b[0], low_ms: b[1], high_ms: b[2] },
    difference_ms: b[0] - a[0],
    low_ms: b[0] - a[0] - 1,
    high_ms: b[0] - a[0] + 1,
    testable: q !== 0.99,
    significant: q !== 0.99 && significant,
  };
}

/** A stage as the audit saw it at 1400 px: long intervals, "not tested" P99s, a share of the change. */
function stageChange(stage: StageChange['stage'], scale: number, share: number | null): StageChange {
  const est = (v: number): [number, number, number] => [v * scale, v * scale * 0.6, v * scale * 3];
  return {
    stage,
    count_a: 688,
    count_b: 276,
    mean: {
      a_ms: 2250 * scale,
      b_ms: 58.2 * scale,
      difference_ms: -2191.8 * scale,
      low_ms: null,
      high_ms: null,
      testable: true,
      significant: true,
    },
    quantiles: [
      quantile(0.5, est(283), est(53.3), true),
      quantile(0.9, est(6940), est(93.2), true),
      quantile(0.99, est(7670), est(173), false),
    ],
    share_of_change: share,
    significant: true,
  };
}

/** The comparison the audit rendered: the post stage's times under 0.01 ms and its share a hair below 0. */
function auditComparison(): PeriodComparison {
  const now = Date.now();
  const range = (fromMin: number, toMin: number) => ({
    from: new Date(now - fromMin * 60_000).toISOString(),
    to: new Date(now - toMin * 60_000).toISOString(),
    resolution_s: 10,
    requests: 1185,
    successes: 688,
    error_rate: 0.397,
    client_error_rate: 0,
  });
  const post = stageChange('postprocess', 1, -0.0004);
  post.quantiles = [
    quantile(0.5, [0.004, 0.003, 0.006], [0.02, 0.018, 0.024], true),
    quantile(0.9, [0.02, 0.018, 0.024], [0.04, 0.035, 0.042], true),
    quantile(0.99, [0.04, 0.036, 0.072], [0.1, 0.06, 1.04], false),
  ];
  post.mean = { a_ms: 0.004, b_ms: 0.02, difference_ms: 0.016, low_ms: 0.01, high_ms: 0.02, testable: true, significant: true };
  return {
    a: range(15, 5),
    b: range(5, 0),
    interval_confidence: 0.95,
    family_error_rate: 0.05,
    tests: 48,
    method: '',
    end_to_end: stageChange('end_to_end', 1, 1),
    stages: [
      stageChange('queue', 0.95, 0.95),
      stageChange('inference', 0.04, 0.04),
      stageChange('decode_image', 0.004, 0.004),
      stageChange('tokenize', 0.0001, 0.001),
      post,
    ],
    untimed: { a_ms: 1, b_ms: 1, difference_ms: 0, share_of_change: 0 },
    explained_by: { stage: 'queue', share_of_change: 0.95 },
    slices: null,
  };
}

/** The audit's slices: english with a quarter refused (INVALID_IMAGE), a slice all refused, one with 5xx. */
function auditSlices(): SlicesSnapshot {
  const stages = Object.fromEntries(STAGE_NAMES.map((st) => [st, { p50_ms: 2, p90_ms: 4, mean_ms: 2 }])) as SliceStats['stages'];
  const slice = (name: string, requests: number, errorRate: number, clientErrorRate: number): SliceStats => ({
    slice: name,
    requests,
    qps: requests / 65,
    p50_ms: clientErrorRate >= 1 ? null : 52.7,
    p90_ms: clientErrorRate >= 1 ? null : 87.8,
    mean_ms: clientErrorRate >= 1 ? null : 60,
    error_rate: errorRate,
    client_error_rate: clientErrorRate,
    stages,
  });
  const now = Date.now();
  return {
    attribute: 'caption_script',
    window_s: 60,
    from: new Date(Math.floor((now - 59_000) / 10_000) * 10_000).toISOString(),
    covered_s: 65,
    generated_at: new Date(now).toISOString(),
    slices: [slice('english', 280, 0, 0.25), slice('cjk', 70, 0.1, 0), slice('other', 12, 0, 1)],
  };
}

describe(
  'dashboard Compare and Slices tables fit and say 5xx and 4xx apart (Playwright, Debian chromium)',
  { skip: SKIP_WITHOUT_CHROMIUM },
  () => {
    let ui: ServedUi;
    let page: Page;
    const consoleErrors: string[] = [];
    const slices = auditSlices();

    before(async () => {
      ui = await startServedUi({ context: WIDE, errors: consoleErrors });
      page = ui.page;
      await page.route(/\/api\/v1\/compare\?/, (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(auditComparison()) }),
      );
      await page.route(/\/api\/v1\/slices\?/, (route) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(slices) }),
      );
      await page.goto(`${ui.serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
      await page.getByTestId('compare-panel').waitFor({ timeout: 15_000 });
      await page.getByTestId('compare-run').click();
      await page.getByTestId('comparison').waitFor({ timeout: 10_000 });
    });
    after(async () => {
      assert.equal(await ui?.close(), 0, 'ofa-ve serve stopped cleanly');
    });

    /** Cells whose text runs past their own box or past the card's, and boxes in the card that scroll. */
    function cutOff(panelTestId: string) {
      return page.evaluate((id) => {
        const card = document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
        if (!card) throw new Error(`no ${id}`);
        const edge = card.getBoundingClientRect();
        const right = edge.right - Number.parseFloat(getComputedStyle(card).paddingRight);
        const out: string[] = [];
        for (const cell of card.querySelectorAll<HTMLElement>('th, td')) {
          const r = cell.getBoundingClientRect();
          const what = `${cell.closest('table')?.dataset.testid ?? 'table'} ${JSON.stringify(cell.textContent)}`;
          if (cell.scrollWidth > cell.clientWidth + 1) out.push(`${what} overflows its cell: ${cell.scrollWidth} > ${cell.clientWidth}`);
          if (r.right > right + 0.5) out.push(`${what} ends at ${Math.round(r.right)}, past the card's ${Math.round(right)}`);
          // The text itself, which may run past its cell without the cell growing.
          const range = document.createRange();
          range.selectNodeContents(cell);
          const text = range.getBoundingClientRect();
          if (text.width > 0 && (text.right > r.right + 0.5 || text.right > right + 0.5))
            out.push(
              `${what}: text ends at ${Math.round(text.right)}, its cell at ${Math.round(r.right)}, the card at ${Math.round(right)}`,
            );
        }
        for (const box of card.querySelectorAll<HTMLElement>('.table-scroll')) {
          if (box.scrollWidth > box.clientWidth + 1) out.push(`a table scrolls: ${box.scrollWidth} > ${box.clientWidth}`);
        }
        return out;
      }, panelTestId);
    }

    for (const width of [1400, 1024]) {
      it(`fits every stage table in the Compare card at ${width} px, the Significant column whole`, async () => {
        await page.setViewportSize({ width, height: 1100 });
        await page.waitForTimeout(200);
        await page.getByTestId('compare-panel').screenshot({ path: path.join(SHOTS, `dashboard-compare-fit-${width}px.png`) });
        assert.deepEqual(await cutOff('compare-panel'), []);
        const post = page.getByTestId('compare-stage-postprocess');
        assert.equal(await post.locator('thead th').last().innerText(), 'Significant');
        assert.equal(
          await post
            .locator('tr[data-q="P99"] [data-col="sig"]')
            .innerText()
            .then((t) => t.replace(/\s+/g, ' ')),
          'not tested',
        );
        assert.equal(await post.locator('tr[data-q="P50"] [data-col="a"]').textContent(), '<0.01 ms [<0.01 ms–<0.01 ms]');
      });
    }

    it('captions a share that rounds to zero as 0% and signs with the minus sign, never a hyphen', async () => {
      const caption = (await page.getByTestId('compare-stage-postprocess').locator('caption').textContent()) ?? '';
      assert.equal(caption, 'post 688 → 276 values · 0% of the change');
      const text = await page.getByTestId('comparison').innerText();
      assert.doesNotMatch(text, /-\d/, 'no hyphen-minus before a figure');
      assert.match(text, /\u2212\d/, 'negative differences use U+2212');
    });

    it('shows server (5xx) and client (4xx) errors of each slice in their own columns', async () => {
      await page.setViewportSize({ width: 1400, height: 1100 });
      const panel = page.getByTestId('slices-panel');
      await panel.getByTestId('slice-row-english').waitFor({ timeout: 10_000 });
      assert.deepEqual(
        (await panel.locator('thead th').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')),
        ['Slice', 'Checks', 'QPS', 'P50', 'P90', 'Server errors (5xx)', 'Client errors (4xx)', 'Stage means'],
      );
      const cells = async (slice: string) => {
        const row = panel.getByTestId(`slice-row-${slice}`);
        return [await row.locator('[data-col="error_rate"]').innerText(), await row.locator('[data-col="client_error_rate"]').innerText()];
      };
      assert.deepEqual(await cells('english'), ['0.0%', '25.0%'], '70 of 280 refused, none failed');
      assert.deepEqual(await cells('cjk'), ['10.0%', '0.0%']);
      assert.deepEqual(await cells('other'), ['—', '100.0%'], 'all refused: no check left to fail');
      assert.equal(await panel.locator('#slices-title .muted').textContent(), coveredCaption(slices));
      assert.match(coveredCaption(slices), /^last 65 s, /);
      assert.deepEqual(await cutOff('slices-panel'), []);
      await panel.screenshot({ path: path.join(SHOTS, 'dashboard-compare-slices-errors.png') });
    });

    it('logged no errors in the page', () => {
      assert.deepEqual(consoleErrors, []);
    });
  },
);

/** The audit's comparison as Prometheus gives it: estimated counts, a 2 s scrape interval, a mean change under 0.01 ms. */
function prometheusComparison(url: string): PeriodComparison {
  const c = auditComparison();
  const post = c.stages.find((s) => s.stage === 'postprocess')!;
  post.mean = { a_ms: 0.006, b_ms: 0.002, difference_ms: -0.004, low_ms: -0.01, high_ms: 0.002, testable: true, significant: false };
  return {
    ...c,
    a: { ...c.a, resolution_s: 2 },
    b: { ...c.b, resolution_s: 2 },
    source: 'prometheus',
    counts_estimated: true,
    prometheus: { url, queries: [] },
  };
}

describe(
  'dashboard Compare from Prometheus: estimates marked ≈, its scrape interval, its host whole',
  { skip: SKIP_WITHOUT_CHROMIUM },
  () => {
    // A path prefix makes it long, as a Thanos or a proxied Prometheus is.
    const PROM_URL = 'http://127.0.0.1:9397/monitoring/prometheus';
    let ui: ServedUi;
    let page: Page;
    const pageErrors: string[] = [];

    before(async () => {
      ui = await startServedUi({ context: WIDE, errors: pageErrors });
      page = ui.page;
      // The service as if it read a Prometheus (--prometheus-url): the Compare panel then offers it as a source.
      await page.route(/\/api\/v1\/model$/, async (route) => {
        const res = await route.fetch();
        route.fulfill({ response: res, json: { ...(await res.json()), prometheus_url: PROM_URL } });
      });
      await page.route(/\/api\/v1\/fleet\?/, (route) =>
        route.fulfill({
          status: 502,
          json: { error: { code: 'PROMETHEUS_UNAVAILABLE', message: `cannot reach Prometheus at ${PROM_URL}` } },
        }),
      );
      await page.route(/\/api\/v1\/compare\?/, (route) => route.fulfill({ status: 200, json: prometheusComparison(PROM_URL) }));
      await page.goto(`${ui.serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
      await page.getByTestId('compare-source-select').waitFor({ timeout: 15_000 });
      await page.getByTestId('compare-source-select').selectOption('prometheus');
      await page.getByTestId('compare-run').click();
      await page.getByTestId('comparison').waitFor({ timeout: 10_000 });
    });
    after(async () => {
      assert.equal(await ui?.close(), 0, 'ofa-ve serve stopped cleanly');
    });

    it('shows the source choice whole: the host and path in the option, the full URL in its title', async () => {
      const select = page.getByTestId('compare-source-select');
      assert.equal(await select.locator('option[value="prometheus"]').textContent(), 'Prometheus at 127.0.0.1:9397/monitoring/prometheus');
      assert.equal(await select.getAttribute('title'), `Prometheus at ${PROM_URL}`);
      const fits = await select.evaluate((el: HTMLSelectElement) => {
        const ctx = document.createElement('canvas').getContext('2d')!;
        const style = getComputedStyle(el);
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const text = ctx.measureText(el.selectedOptions[0]!.text).width;
        return { text: Math.ceil(text), box: el.clientWidth };
      });
      assert.ok(fits.text < fits.box, `the chosen source's text (${fits.text} px) fits its select (${fits.box} px)`);
      await page.getByTestId('compare-panel').screenshot({ path: path.join(SHOTS, 'dashboard-compare-prometheus.png') });
    });

    it("marks Prometheus' counts as estimates (≈) and gives its scrape interval as the resolution", async () => {
      for (const id of ['compare-period-a', 'compare-period-b']) {
        const line = await page.getByTestId(id).innerText();
        assert.match(line, / · ≈1,185 checks · 2 s scrape interval · /, line);
        assert.doesNotMatch(line, /1 s periods/);
      }
      const caption = await page.getByTestId('compare-stage-end_to_end').locator('caption').textContent();
      assert.equal(caption, 'end to end ≈688 → ≈276 values');
      assert.match(await page.getByTestId('comparison').innerText(), /Counts marked ≈ are estimates/);
    });

    it('prints a change under 0.01 ms without a sign, its relative change with one', async () => {
      const diff = page.getByTestId('compare-stage-postprocess').locator('tr[data-q="mean"] [data-col="diff"]');
      assert.equal(await diff.textContent(), '<0.01 ms (\u221266.7%)');
    });

    it('logged no errors in the page', () => {
      assert.deepEqual(pageErrors, []);
    });
  },
);
