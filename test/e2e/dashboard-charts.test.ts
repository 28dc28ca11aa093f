/**
 * The dashboard's charts against a KNOWN series: the real `ofa-ve serve` serves the built UI and
 * the model, and Playwright answers /api/v1/events, /api/v1/stats and /api/v1/requests/slowest with
 * stats documents built here, so every drawn figure has an exact expected place. Checked in the
 * rendered SVG (fill geometry with isPointInFill, line points against the axis ticks, bar widths)
 * and in the pixels of a screenshot. Then the failed checks chart against a real service's own
 * stats, from real checks: a burst of refused images among clean checks. Screenshots go to
 * test-results/dashboard-charts-*.png.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import sharp from 'sharp';
import { STAGE_NAMES, type SeriesPoint, type SlowRequest, type StatsDocument } from '../../preload/wire-types.ts';
import { emptySeriesPoint } from '../../main/telemetry/live-stats.ts';
import { formatClock } from '../../renderer/dashboard/stats-format.ts';
import { launchChromium } from '../support/browser.ts';
import { openPage, prepareUiRun, SHOTS, SKIP_WITHOUT_CHROMIUM, startServedUi, type ServedUi } from '../support/e2e-page.ts';
import { checkParts, multipartBody, multipartType } from '../support/multipart-body.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';

/** The last second of every series (epoch s). */
const T_END = Math.floor(Date.UTC(2024, 4, 1, 12, 0, 0) / 1000);
const STAGE_MEANS = { queue: 2, decode_image: 5, tokenize: 1, inference: 20, postprocess: 2 } as const; // 30 ms timed
const MEAN_MS = 40; // 10 ms untimed

/** Where the known series has errors and where it has no traffic, as [first, last) indexes into it. */
function ranges(windowS: number) {
  const errorsFrom = Math.round(windowS * 0.6);
  const idleFrom = Math.round(windowS * 0.3);
  return { errors: [errorsFrom, errorsFrom + 10] as const, idle: [idleFrom, idleFrom + 10] as const };
}

/**
 * One point a second: 2 YES + 1 NO every second; in the error range also 1 client (4xx) and 2 server
 * (5xx) failures; nothing at all in the idle range. P50 10 ms / P90 30 ms in the first half, 20 / 50
 * ms in the second.
 */
function knownSeries(windowS: number, withErrors: boolean): SeriesPoint[] {
  const { errors, idle } = ranges(windowS);
  return Array.from({ length: windowS }, (_, i) => {
    const t = T_END - windowS + 1 + i;
    const idleSecond = i >= idle[0] && i < idle[1];
    const client = withErrors && i >= errors[0] && i < errors[1] ? 1 : 0;
    const server = withErrors && i >= errors[0] && i < errors[1] ? 2 : 0;
    const YES = idleSecond ? 0 : 2;
    const NO = idleSecond ? 0 : 1;
    const requests = YES + NO + client + server;
    const late = i >= windowS / 2;
    return {
      t,
      requests,
      YES,
      NO,
      MAYBE: 0,
      ERROR: client + server,
      client_errors: client,
      server_errors: server,
      p50_ms: idleSecond ? null : late ? 20 : 10,
      p90_ms: idleSecond ? null : late ? 50 : 30,
      p99_ms: idleSecond ? null : late ? 60 : 40,
      error_rate: requests > 0 ? server / requests : 0,
      client_error_rate: requests > 0 ? client / requests : 0,
    };
  });
}

/** The same window with no check at all, as right after the service started. */
function idleSeries(windowS: number): SeriesPoint[] {
  return Array.from({ length: windowS }, (_, i) => emptySeriesPoint(T_END - windowS + 1 + i));
}

function knownDocument(windowS: number, withErrors: boolean, idle = false): StatsDocument {
  const series = idle ? idleSeries(windowS) : knownSeries(windowS, withErrors);
  const sum = (key: keyof SeriesPoint) => series.reduce((acc, p) => acc + (p[key] as number), 0);
  const requests = sum('requests');
  const stages = {} as StatsDocument['stages'];
  for (const stage of STAGE_NAMES)
    stages[stage] = idle
      ? { p50_ms: null, p90_ms: null, mean_ms: null }
      : { p50_ms: STAGE_MEANS[stage], p90_ms: STAGE_MEANS[stage] * 3, mean_ms: STAGE_MEANS[stage] };
  const serverErrors = sum('server_errors');
  const clientErrors = sum('client_errors');
  return {
    window_s: windowS,
    generated_at: new Date(T_END * 1000).toISOString(),
    qps: requests / windowS,
    p50_ms: idle ? null : 15,
    p90_ms: idle ? null : 45,
    p99_ms: idle ? null : 58,
    mean_ms: idle ? null : MEAN_MS,
    error_rate: requests > 0 ? serverErrors / requests : 0,
    client_error_rate: requests > 0 ? clientErrors / requests : 0,
    totals: {
      requests,
      YES: sum('YES'),
      NO: sum('NO'),
      MAYBE: 0,
      ERROR: clientErrors + serverErrors,
      client_errors: clientErrors,
      server_errors: serverErrors,
      by_status: {
        '200': sum('YES') + sum('NO'),
        ...(clientErrors ? { '400': clientErrors } : {}),
        ...(serverErrors ? { '500': serverErrors } : {}),
      },
    },
    mean_batch_size: idle ? null : 2.5,
    series,
    stages,
    queue_depth: 0,
    // A service that just started has no queue samples for the window yet.
    queue_depth_series: idle ? [] : series.map(() => 0),
    alerts: [
      {
        name: 'OfaVeHighErrorRate',
        severity: 'critical',
        state: 'inactive',
        summary: '5xx share over 5 min > 5% for 5 min',
        value: requests > 0 ? serverErrors / requests : null,
        threshold: 0.05,
        active_since: null,
      },
    ],
    process: { uptime_s: 3600, rss_bytes: 200 * 1024 * 1024, heap_used_bytes: 50 * 1024 * 1024 },
  };
}

/**
 * Sparse traffic: 'sparse' is one good check (P50 10 / P90 30 / P99 40 ms) and one 400 every 3 s,
 * nothing in between; 'burst' is a lone second of four 400s in a window without any other check.
 * Every second with data sits between seconds without any.
 */
type Sparse = 'sparse' | 'burst';

/** The seconds (indexes into the window) that have checks. */
function sparseSeconds(windowS: number, sparse: Sparse): number[] {
  if (sparse === 'burst') return [Math.round(windowS / 2)];
  return Array.from({ length: windowS }, (_, i) => i).filter((i) => i % 3 === 1);
}

function sparseDocument(windowS: number, sparse: Sparse): StatsDocument {
  const busy = new Set(sparseSeconds(windowS, sparse));
  const series = Array.from({ length: windowS }, (_, i): SeriesPoint => {
    const point = emptySeriesPoint(T_END - windowS + 1 + i);
    if (!busy.has(i)) return point;
    if (sparse === 'burst') return { ...point, requests: 4, ERROR: 4, client_errors: 4, client_error_rate: 1 };
    return { ...point, requests: 2, YES: 1, ERROR: 1, client_errors: 1, p50_ms: 10, p90_ms: 30, p99_ms: 40, client_error_rate: 0.5 };
  });
  const doc = knownDocument(windowS, false);
  const sum = (key: 'requests' | 'YES' | 'client_errors') => series.reduce((acc, p) => acc + p[key], 0);
  const clientErrors = sum('client_errors');
  return {
    ...doc,
    series,
    qps: sum('requests') / windowS,
    error_rate: 0,
    client_error_rate: sum('requests') > 0 ? clientErrors / sum('requests') : 0,
    totals: {
      ...doc.totals,
      requests: sum('requests'),
      YES: sum('YES'),
      NO: 0,
      ERROR: clientErrors,
      client_errors: clientErrors,
      server_errors: 0,
      by_status: { '200': sum('YES'), '400': clientErrors },
    },
    queue_depth_series: series.map(() => 0),
  };
}

const SLOWEST: SlowRequest[] = [
  {
    id: 'aaaa1111-0000-4000-8000-000000000001',
    ended_at: new Date(T_END * 1000 - 5000).toISOString(),
    latency_ms: 812,
    result_type: 'YES',
    status_code: 200,
    batch_size: 4,
    stages: { queue: 100, decode_image: 50, tokenize: 5, inference: 600, postprocess: 7 },
  },
  {
    id: 'bbbb2222-0000-4000-8000-000000000002',
    ended_at: new Date(T_END * 1000 - 9000).toISOString(),
    latency_ms: 30_000,
    result_type: 'ERROR',
    status_code: 504,
    error_code: 'TIMEOUT',
    batch_size: null,
    stages: { queue: 29_000 },
  },
  {
    id: 'cccc3333-0000-4000-8000-000000000003',
    ended_at: new Date(T_END * 1000 - 1000).toISOString(),
    latency_ms: 3.2,
    result_type: 'ERROR',
    status_code: 400,
    error_code: 'INVALID_IMAGE',
    batch_size: null,
    stages: {},
  },
];

/** What the page measures in one chart's SVG (user units = CSS px: recharts draws at 1:1). */
interface ChartGeometry {
  svg: { left: number; top: number };
  yTicks: { value: string; y: number }[];
  xTicks: { value: string; x: number }[];
  areas: {
    fill: string;
    strokeCurves: { stroke: string; width: string }[];
    bbox: { x: number; y: number; width: number; height: number };
  }[];
  lines: { stroke: string; d: string }[];
  rects: { fill: string; x: number; width: number }[];
}

function measure(page: Page, chartTestId: string): Promise<ChartGeometry> {
  return page.evaluate((id) => {
    const card = document.querySelector(`[data-testid="${id}"]`);
    // The chart's own surface, not a legend icon's (also an svg.recharts-surface).
    const svg = card?.querySelector('.recharts-wrapper > svg.recharts-surface');
    if (!card || !svg) throw new Error(`no chart ${id}`);
    const rect = svg.getBoundingClientRect();
    // Tick labels and tick lines sit in separate layers (recharts 3), in the same order; the line is
    // exactly at the tick's place (a label near an edge may be nudged to fit).
    const ticks = (axis: string) => {
      const labels = [...card.querySelectorAll(`.recharts-${axis}Axis-tick-labels text.recharts-cartesian-axis-tick-value`)];
      const lines = [...card.querySelectorAll(`.recharts-${axis}Axis-tick-lines line`)];
      if (labels.length !== lines.length) throw new Error(`${axis} axis: ${labels.length} labels, ${lines.length} tick lines`);
      return labels.map((text, i) => ({
        value: text.textContent ?? '',
        y: Number(lines[i]!.getAttribute('y1')),
        x: Number(lines[i]!.getAttribute('x1')),
      }));
    };
    return {
      svg: { left: rect.left + window.scrollX, top: rect.top + window.scrollY },
      yTicks: ticks('y').map(({ value, y }) => ({ value, y })),
      xTicks: ticks('x').map(({ value, x }) => ({ value, x })),
      areas: [...card.querySelectorAll('.recharts-area')].map((g) => {
        const fillPath = g.querySelector<SVGPathElement>('path.recharts-area-area');
        const box = fillPath?.getBBox();
        return {
          fill: fillPath?.getAttribute('fill') ?? '',
          strokeCurves: [...g.querySelectorAll('path.recharts-area-curve')].map((c) => ({
            stroke: getComputedStyle(c).stroke,
            width: getComputedStyle(c).strokeWidth,
          })),
          bbox: { x: box?.x ?? 0, y: box?.y ?? 0, width: box?.width ?? 0, height: box?.height ?? 0 },
        };
      }),
      lines: [...card.querySelectorAll('.recharts-line path.recharts-line-curve')].map((p) => ({
        stroke: p.getAttribute('stroke') ?? '',
        d: p.getAttribute('d') ?? '',
      })),
      rects: [...card.querySelectorAll('path.recharts-rectangle')].map((p) => ({
        fill: p.getAttribute('fill') ?? '',
        x: Number(p.getAttribute('x')),
        width: Number(p.getAttribute('width')),
      })),
    };
  }, chartTestId);
}

/** The vertical extent (px) of the fill with this colour at each given x, measured with isPointInFill. */
function fillExtents(page: Page, chartTestId: string, fill: string, xs: number[], yRange: [number, number]): Promise<number[]> {
  return page.evaluate(
    ({ id, colour, columns, top, bottom }) => {
      const area = [...document.querySelectorAll<SVGPathElement>(`[data-testid="${id}"] path.recharts-area-area`)].find(
        (p) => p.getAttribute('fill') === colour,
      );
      if (!area) throw new Error(`no area filled ${colour}`);
      const svg = area.ownerSVGElement!;
      return columns.map((x) => {
        let inside = 0;
        for (let y = top; y <= bottom; y += 0.25) {
          const point = svg.createSVGPoint();
          point.x = x;
          point.y = y;
          if (area.isPointInFill(point)) inside += 0.25;
        }
        return inside;
      });
    },
    { id: chartTestId, colour: fill, columns: xs, top: yRange[0], bottom: yRange[1] },
  );
}

/** A linear value → y map from the y axis' tick labels ("6", "20 ms", "1.5 s"). */
function yScale(ticks: { value: string; y: number }[]): (value: number) => number {
  const parsed = ticks
    .map(({ value, y }) => {
      const m = /^([\d.]+)\s*(ms|s|%)?$/.exec(value.trim());
      return m ? { v: Number(m[1]) * (m[2] === 's' ? 1000 : 1), y } : undefined;
    })
    .filter((t): t is { v: number; y: number } => t !== undefined);
  assert.ok(parsed.length >= 2, `two numeric y ticks: ${JSON.stringify(ticks)}`);
  const a = parsed[0]!;
  const b = parsed[parsed.length - 1]!;
  return (value) => a.y + ((value - a.v) * (b.y - a.y)) / (b.v - a.v);
}

function linePoints(d: string): { x: number; y: number; move: boolean }[] {
  return [...d.matchAll(/([ML])\s*(-?[\d.]+(?:e-?\d+)?)[ ,](-?[\d.]+(?:e-?\d+)?)/g)].map((m) => ({
    move: m[1] === 'M',
    x: Number(m[2]),
    y: Number(m[3]),
  }));
}

/** Pixels of the ERROR colour (purple: blue and red well above green) per column of a screenshot clip. */
async function errorColumns(png: Buffer): Promise<number[]> {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const columns = new Array<number>(info.width).fill(0);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * info.channels;
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      if (b - g > 50 && r - g > 15 && b > 120) columns[x]! += 1;
    }
  }
  return columns;
}

/** A colour as "#rrggbb" or "rgb(r, g, b)" → [r, g, b]. */
function rgb(colour: string): [number, number, number] {
  const hex = /^#([\da-f]{2})([\da-f]{2})([\da-f]{2})$/i.exec(colour.trim());
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const fn = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(colour.trim());
  if (fn) return [Number(fn[1]), Number(fn[2]), Number(fn[3])];
  throw new Error(`not a colour: ${colour}`);
}

/** A screenshot clip as pixels: the colour at (x, y). */
async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): [number, number, number] => {
    const i = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return [data[i]!, data[i + 1]!, data[i + 2]!];
  };
  return { width: info.width, height: info.height, at };
}

const colourDistance = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

/** Polls a condition of this process' state (what the routes saw) for up to 5 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), what);
}

describe('dashboard charts against a known series (Playwright, Debian chromium)', { skip: SKIP_WITHOUT_CHROMIUM }, () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let withErrors = true;
  /** Answer with a window without any check (a service that just started). */
  let idle = false;
  /** Answer with sparse traffic instead of the known series. */
  let sparse: Sparse | undefined;
  let slowestCalls = 0;
  const eventWindows: number[] = [];
  const consoleErrors: string[] = [];

  const answerStats = async (route: Route) => {
    const url = new URL(route.request().url());
    const windowS = Number(url.searchParams.get('window') ?? 60);
    const doc = sparse ? sparseDocument(windowS, sparse) : knownDocument(windowS, withErrors, idle);
    if (url.pathname === '/api/v1/events') {
      eventWindows.push(windowS);
      // One event per connection: the client reconnects about once a second, as after a clean end.
      await route.fulfill({ status: 200, contentType: 'text/event-stream', body: `event: stats\ndata: ${JSON.stringify(doc)}\n\n` });
    } else {
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(doc) });
    }
  };

  before(async () => {
    await prepareUiRun();
    serve = await startServe();
    browser = await launchChromium();
    const context = { viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 };
    page = await openPage(browser, { context, errors: consoleErrors, consoleErrors: true });
    await page.route(/\/api\/v1\/(events|stats)\?/, answerStats);
    await page.route(/\/api\/v1\/requests\/slowest$/, async (route) => {
      slowestCalls += 1;
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ requests: SLOWEST }) });
    });
    await page.goto(`${serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('charts').waitFor({ timeout: 15_000 });
    await page.mouse.move(0, 0); // no tooltip over a chart
  });
  after(async () => {
    await browser?.close();
    const code = await serve?.stop();
    assert.equal(code, 0, 'ofa-ve serve stopped cleanly');
  });

  async function showWindow(windowS: number, errors: boolean): Promise<void> {
    withErrors = errors;
    await page.getByTestId(`window-${windowS}`).click();
    const expected = knownDocument(windowS, errors, idle).totals.ERROR;
    await page.waitForFunction(
      ({ w, errorTotal, noChecks }) =>
        document.querySelector(`[data-testid="window-${w}"]`)?.getAttribute('aria-pressed') === 'true' &&
        document.querySelector('[data-testid="total-ERROR"]')?.textContent === String(errorTotal) &&
        (document.querySelector('[data-testid="p50"]')?.textContent === '—') === noChecks &&
        document.querySelector('[data-testid="p90-caption"]')?.textContent?.includes(w >= 120 ? `${w / 60} min` : `${w} s`),
      { w: windowS, errorTotal: expected, noChecks: idle },
      { timeout: 10_000 },
    );
    await page.mouse.move(0, 0);
  }

  /** Checks the stacked requests chart: the ERROR layer only where the series has errors, at the right height. */
  async function checkQpsChart(windowS: number, errors: boolean, shot: string): Promise<void> {
    const palette = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--error').trim() || '#a371f7');
    const geometry = await measure(page, 'chart-qps');
    assert.equal(geometry.areas.length, 4, 'YES, NO, MAYBE, ERROR layers');
    for (const area of geometry.areas) {
      for (const curve of area.strokeCurves) {
        assert.ok(
          curve.stroke === 'none' || Number.parseFloat(curve.width) === 0,
          `stacked layer ${area.fill} has no visible outline: ${JSON.stringify(curve)}`,
        );
      }
    }
    const error = geometry.areas.find((a) => a.fill === palette);
    assert.ok(error, `an area filled with the ERROR colour ${palette}: ${geometry.areas.map((a) => a.fill).join(', ')}`);
    const yes = geometry.areas[0]!.bbox;
    const x = (i: number) => yes.x + (i / (windowS - 1)) * yes.width;
    const y = yScale(geometry.yTicks);
    const pxPerRequest = y(0) - y(1);
    assert.ok(pxPerRequest > 5, `a request is ${pxPerRequest} px high`);

    const { errors: errorRange } = ranges(windowS);
    const seconds = Array.from({ length: windowS - 1 }, (_, i) => i);
    const extents = await fillExtents(
      page,
      'chart-qps',
      palette,
      seconds.map((i) => (x(i) + x(i + 1)) / 2),
      [y(0) - 12 * pxPerRequest, y(0) + 2],
    );
    for (const i of seconds) {
      const expected = errors && i >= errorRange[0] && i < errorRange[1] ? 3 * pxPerRequest : 0;
      assert.ok(Math.abs(extents[i]! - expected) <= 1, `second ${i}: ERROR layer ${extents[i]} px high, expected ${expected}`);
    }

    // The pixels: ERROR-coloured columns only over the seconds with errors (±2 px of antialiasing).
    // The plot area: from the top tick down to the 0 line, from the first second to the last.
    const plotTop = Math.min(...geometry.yTicks.map((t) => t.y));
    const clip = { x: geometry.svg.left + yes.x, y: geometry.svg.top + plotTop, width: yes.width, height: y(0) - plotTop + 1 };
    const png = await page.screenshot({ clip, path: path.join(SHOTS, `dashboard-charts-${shot}-plot.png`) });
    await page.screenshot({ path: path.join(SHOTS, `dashboard-charts-${shot}.png`), fullPage: true });
    const columns = await errorColumns(png);
    const from = x(errorRange[0]) - yes.x - 2;
    const to = x(errorRange[1]) - yes.x + 2;
    const stray = columns.flatMap((count, col) => (count > 0 && (!errors || col < from || col > to) ? [col] : []));
    assert.deepEqual(stray, [], `ERROR-coloured pixels outside the seconds with errors (columns of ${JSON.stringify(clip)})`);
    const inside = columns.slice(Math.ceil(from + 2), Math.floor(to - 2) + 1).reduce((a, b) => a + b, 0);
    if (errors) assert.ok(inside > 0, 'ERROR-coloured pixels where the errors are');
  }

  it('draws the 5 minute stacked requests chart with errors only in the seconds that had them', async () => {
    await showWindow(300, true);
    await checkQpsChart(300, true, '5min');
  });

  it('draws the 15 minute stacked requests chart with errors only in the seconds that had them', async () => {
    await showWindow(900, true);
    await checkQpsChart(900, true, '15min');
  });

  it('paints no ERROR colour at all over a series without errors', async () => {
    await showWindow(900, false);
    await checkQpsChart(900, false, '15min-no-errors');
    await showWindow(300, false);
    await checkQpsChart(300, false, '5min-no-errors');
  });

  it('puts the P50 and P90 lines at the known latencies, with a gap where there was no traffic', async () => {
    await showWindow(300, true);
    const geometry = await measure(page, 'chart-latency');
    const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#4aa3ff');
    assert.equal(geometry.lines.length, 3, 'P50, P90, P99');
    assert.equal(geometry.lines[0]!.stroke, accent, 'the first line is P50');
    const y = yScale(geometry.yTicks);
    const points = geometry.lines.map((l) => linePoints(l.d));
    const p50 = points[0]!;
    const p90 = points[1]!;
    assert.equal(p50.length, 300 - 10, 'one point per second with traffic');
    const xs = p50.map((p) => p.x);
    const xOf = (i: number) => xs[0]! + (i / 299) * (xs[xs.length - 1]! - xs[0]!);
    const at = (line: { x: number; y: number }[], i: number) =>
      line.reduce((best, p) => (Math.abs(p.x - xOf(i)) < Math.abs(best.x - xOf(i)) ? p : best));
    for (const [i, p50ms, p90ms] of [
      [20, 10, 30],
      [140, 10, 30],
      [200, 20, 50],
      [290, 20, 50],
    ] as const) {
      assert.ok(Math.abs(at(p50, i).y - y(p50ms)) < 0.75, `P50 at second ${i}: y ${at(p50, i).y}, expected ${y(p50ms)} (${p50ms} ms)`);
      assert.ok(Math.abs(at(p90, i).y - y(p90ms)) < 0.75, `P90 at second ${i}: y ${at(p90, i).y}, expected ${y(p90ms)} (${p90ms} ms)`);
    }
    assert.equal(p50.filter((p) => p.move).length, 2, 'the P50 line breaks over the idle seconds');
  });

  it('divides the mean latency into stage means plus the untimed rest, adding up to the mean', async () => {
    const geometry = await measure(page, 'chart-stages');
    const untimedColour = await page.evaluate(
      () => getComputedStyle(document.documentElement).getPropertyValue('--stage-untimed').trim() || '#56616d',
    );
    const ticks = geometry.xTicks.map(({ value, x }) => ({ v: Number.parseFloat(value), x })).filter((t) => Number.isFinite(t.v));
    const a = ticks[0]!;
    const b = ticks[ticks.length - 1]!;
    const pxPerMs = (b.x - a.x) / (b.v - a.v);
    assert.equal(geometry.rects.length, 6, 'five stages and the untimed rest');
    const total = geometry.rects.reduce((acc, r) => acc + r.width, 0);
    assert.ok(Math.abs(total - MEAN_MS * pxPerMs) <= 3, `the bar is ${total} px, the mean ${MEAN_MS * pxPerMs} px`);
    const untimed = geometry.rects.find((r) => r.fill === untimedColour);
    assert.ok(untimed && Math.abs(untimed.width - 10 * pxPerMs) <= 1.5, `untimed segment ${untimed?.width} px, expected ${10 * pxPerMs}`);
    assert.match(await page.getByTestId('chart-stages').innerText(), /mean latency 40\.0 ms = stage means \+ untimed/);
  });

  it('states what each figure means and keeps client errors out of the error rate', async () => {
    const doc = knownDocument(300, true);
    assert.equal(
      await page.getByTestId('error-rate').innerText(),
      `${((doc.totals.server_errors / doc.totals.requests) * 100).toFixed(2)}%`,
    );
    assert.equal(
      await page.getByTestId('client-error-rate').innerText(),
      `${((doc.totals.client_errors / doc.totals.requests) * 100).toFixed(2)}%`,
    );
    assert.equal(await page.getByTestId('p90-caption').innerText(), 'P90 of successful checks over the last 5 min');
    assert.match(await page.getByTestId('mean-batch-caption').innerText(), /mean size of the batches the model ran/);
    assert.match(await page.getByTestId('client-error-rate-caption').innerText(), /never alerts/);
    assert.match(await page.getByTestId('total-error-split').innerText(), /4xx 10 · 5xx 20/);
  });

  it('lists failed checks with their code among the slowest requests', async () => {
    const rows = page.locator('[data-testid="slow-request"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="slow-request"]').length === 3);
    assert.deepEqual(await rows.locator('[data-testid="slow-error-code"]').allInnerTexts(), ['TIMEOUT 504', 'INVALID_IMAGE 400']);
    await page.getByTestId('slowest-failed').click();
    assert.equal(await rows.count(), 2);
    await page.getByTestId('slowest-all').click();
    assert.equal(await rows.count(), 3);
  });

  it('works from the keyboard: Enter and Space on every dashboard control', async () => {
    for (const key of ['Enter', ' ']) {
      const windowS = key === 'Enter' ? 900 : 60;
      const before = eventWindows.length;
      await page.getByTestId(`window-${windowS}`).focus();
      await page.keyboard.press(key === ' ' ? 'Space' : key);
      await page.waitForFunction(
        (w) => document.querySelector(`[data-testid="window-${w}"]`)?.getAttribute('aria-pressed') === 'true',
        windowS,
      );
      await until(() => eventWindows.slice(before).includes(windowS), `the stats stream asked for window=${windowS}`);
      const calls = slowestCalls;
      await page.getByTestId('slowest-refresh').focus();
      await page.keyboard.press(key === ' ' ? 'Space' : key);
      await until(() => slowestCalls > calls, `${JSON.stringify(key)} on Refresh fetched the slowest requests again`);
      await page.getByTestId('slowest-failed').focus();
      await page.keyboard.press(key === ' ' ? 'Space' : key);
      assert.equal(await page.getByTestId('slowest-failed').getAttribute('aria-pressed'), 'true');
      await page.getByTestId('slowest-all').focus();
      await page.keyboard.press(key === ' ' ? 'Space' : key);
      assert.equal(await page.getByTestId('slowest-all').getAttribute('aria-pressed'), 'true');
      await page.getByTestId('copy-metrics-url').focus();
      await page.keyboard.press(key === ' ' ? 'Space' : key);
      await page.waitForFunction(() => /Copied|press Ctrl\+C/.test(document.querySelector('.metrics-url')?.textContent ?? ''));
    }
    await page.getByRole('tab', { name: 'Checker' }).focus();
    await page.keyboard.press('Space');
    await page.getByTestId('drop-zone').waitFor();
    await page.getByRole('tab', { name: 'Dashboard' }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('charts').waitFor();
    assert.ok(eventWindows.includes(900) && eventWindows.includes(60));
  });

  /** A tick label's time of day in seconds ("12:01:30" → 43290). */
  const daySeconds = (label: string) => {
    const [h, m, sec] = label.split(':').map(Number);
    return h! * 3600 + m! * 60 + sec!;
  };

  /** Asserts a time axis' ticks keep one step, in time (mod a day) and on screen; returns the step in s. */
  function assertRegularTicks(ticks: { value: string; x: number }[], what: string): number {
    const labels = ticks.map((t) => t.value);
    assert.ok(ticks.length >= 3, `${what}: at least 3 time ticks, got ${JSON.stringify(labels)}`);
    const seconds = labels.map(daySeconds);
    const steps = seconds.slice(1).map((sec, i) => (sec - seconds[i]! + 86_400) % 86_400);
    assert.equal(new Set(steps).size, 1, `${what}: ticks ${labels.join(' ')} have steps ${steps.join(', ')} s`);
    assert.equal(seconds[0]! % steps[0]!, 0, `${what}: ticks on multiples of ${steps[0]} s: ${labels.join(' ')}`);
    const gaps = ticks.slice(1).map((t, i) => t.x - ticks[i]!.x);
    assert.ok(Math.max(...gaps) - Math.min(...gaps) <= 1, `${what}: tick spacing ${gaps.map((g) => g.toFixed(1)).join(', ')} px`);
    return steps[0]!;
  }

  /** The time axis' labels as drawn: their boxes, and the chart's svg box (CSS px). */
  function timeLabelBoxes(chartTestId: string) {
    return page.evaluate((id) => {
      const card = document.querySelector(`[data-testid="${id}"]`);
      const svg = card?.querySelector('.recharts-wrapper > svg.recharts-surface');
      if (!card || !svg) throw new Error(`no chart ${id}`);
      const box = (r: DOMRect) => ({ left: r.left, right: r.right });
      return {
        svg: box(svg.getBoundingClientRect()),
        labels: [...card.querySelectorAll('.recharts-xAxis-tick-labels text')].map((t) => box(t.getBoundingClientRect())),
      };
    }, chartTestId);
  }

  /** Every multiple of the step in the window has its label, and the labels neither touch nor leave the chart. */
  async function assertWholeTimeAxis(chart: string, windowS: number, what: string): Promise<void> {
    const { xTicks } = await measure(page, chart);
    const step = assertRegularTicks(xTicks, what);
    const first = daySeconds(formatClock(T_END - windowS + 1));
    const last = daySeconds(formatClock(T_END));
    const seconds = xTicks.map((t) => daySeconds(t.value));
    const ahead = (a: number, b: number) => (b - a + 86_400) % 86_400; // seconds from a forward to b
    assert.ok(ahead(first, seconds[0]!) < step, `${what}: no tick left out at the start (${formatClock(T_END - windowS + 1)})`);
    assert.ok(ahead(seconds[seconds.length - 1]!, last) < step, `${what}: no tick left out at the end (${formatClock(T_END)})`);
    const { svg, labels } = await timeLabelBoxes(chart);
    assert.equal(labels.length, xTicks.length);
    labels.forEach((label, i) => {
      assert.ok(label.left >= svg.left - 0.5 && label.right <= svg.right + 0.5, `${what}: label ${xTicks[i]!.value} inside the chart`);
      const next = labels[i + 1];
      if (next) assert.ok(label.right + 4 <= next.left, `${what}: labels ${xTicks[i]!.value} and ${xTicks[i + 1]!.value} apart`);
    });
  }

  it('puts the time ticks on one fixed step over the whole window, on every live chart', async () => {
    for (const windowS of [60, 300, 900]) {
      await showWindow(windowS, true);
      for (const chart of ['chart-qps', 'chart-latency', 'chart-errors', 'chart-queue']) {
        await assertWholeTimeAxis(chart, windowS, `${chart}, ${windowS} s`);
        assert.ok((await measure(page, chart)).xTicks.length >= 4, `${chart}, ${windowS} s: at least 4 time ticks at 1400 px`);
      }
    }
  });

  it('keeps a y axis with ticks on every live chart while there has been no check', async () => {
    idle = true;
    try {
      for (const windowS of [300, 60]) {
        await showWindow(windowS, false);
        for (const chart of ['chart-qps', 'chart-latency', 'chart-errors', 'chart-queue']) {
          const { yTicks, lines } = await measure(page, chart);
          assert.ok(yTicks.length >= 3, `${chart}, ${windowS} s, no checks: y ticks ${JSON.stringify(yTicks.map((t) => t.value))}`);
          await assertWholeTimeAxis(chart, windowS, `${chart}, ${windowS} s, no checks`);
          if (chart === 'chart-latency') {
            assert.deepEqual(
              yTicks.map((t) => t.value),
              ['0 ms', '25 ms', '50 ms', '75 ms', '100 ms'],
            );
            assert.ok(
              lines.every((l) => l.d === ''),
              'no latency line drawn',
            );
          }
        }
      }
      await page.getByTestId('charts').screenshot({ path: path.join(SHOTS, 'dashboard-charts-no-checks.png') });
    } finally {
      idle = false;
    }
  });

  /** Shows a window of sparse traffic and waits until the page has drawn it. */
  async function showSparse(windowS: number, mode: Sparse): Promise<void> {
    sparse = mode;
    await page.getByTestId(`window-${windowS}`).click();
    const doc = sparseDocument(windowS, mode);
    await page.waitForFunction(
      ({ w, errorTotal }) =>
        document.querySelector(`[data-testid="window-${w}"]`)?.getAttribute('aria-pressed') === 'true' &&
        document.querySelector('[data-testid="total-ERROR"]')?.textContent === String(errorTotal) &&
        document.querySelector('[data-testid="p90-caption"]')?.textContent?.includes(w >= 120 ? `${w / 60} min` : `${w} s`),
      { w: windowS, errorTotal: doc.totals.ERROR },
      { timeout: 10_000 },
    );
    await page.mouse.move(0, 0);
    await page.waitForTimeout(200); // the frame after the data
  }

  /**
   * The plot area of a chart as drawn: where second i of the window is (x, in the clip), the value
   * → y map, the rows of the grid lines, and the pixels of a screenshot of it.
   */
  async function plotPixels(chart: string, windowS: number, shot: string) {
    const geometry = await measure(page, chart);
    const axisLine = await page.evaluate((id) => {
      const line = document.querySelector(`[data-testid="${id}"] .recharts-xAxis line.recharts-cartesian-axis-line`);
      // What the chart is drawn on: the nearest background that is not transparent.
      let background = 'rgb(0, 0, 0)';
      for (let el = line?.closest('figure') ?? null; el; el = el.parentElement) {
        const colour = getComputedStyle(el).backgroundColor;
        if (colour && colour !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(colour)) {
          background = colour;
          break;
        }
      }
      return { x1: Number(line?.getAttribute('x1')), x2: Number(line?.getAttribute('x2')), background };
    }, chart);
    assert.ok(axisLine.x2 > axisLine.x1 + 100, `${chart}: the time axis line spans the plot: ${JSON.stringify(axisLine)}`);
    const y = yScale(geometry.yTicks);
    const plotTop = Math.min(...geometry.yTicks.map((t) => t.y));
    const clip = {
      x: geometry.svg.left + axisLine.x1,
      y: geometry.svg.top + plotTop,
      width: axisLine.x2 - axisLine.x1,
      height: y(0) - plotTop,
    };
    const png = await page.screenshot({ clip, path: path.join(SHOTS, `dashboard-charts-${shot}.png`) });
    const pxPerSecond = clip.width / (windowS - 1);
    return {
      ...(await pixels(png)),
      background: rgb(axisLine.background),
      /** Second i's place in the clip (the window's first second at 0, its last at the right edge). */
      x: (i: number) => i * pxPerSecond,
      pxPerSecond,
      /** A value's row in the clip. */
      y: (value: number) => y(value) - plotTop,
      gridRows: geometry.yTicks.map((t) => t.y - plotTop),
    };
  }

  it('draws every second of sparse traffic on the latency chart: an isolated second is a visible point on each line', async () => {
    const accent = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#4aa3ff');
    const warn = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--warn').trim() || '#f2cc60');
    const danger = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--danger').trim() || '#f85149');
    try {
      for (const windowS of [60, 300, 900]) {
        await showSparse(windowS, 'sparse');
        const plot = await plotPixels('chart-latency', windowS, `sparse-latency-${windowS}s-plot`);
        for (const [name, colour, ms] of [
          ['P50', accent, 10],
          ['P90', warn, 30],
          ['P99', danger, 40],
        ] as const) {
          const want = rgb(colour);
          // Each second with checks: a pixel of the line's colour within 2 px of its value.
          const missing = sparseSeconds(windowS, 'sparse').filter((i) => {
            for (let dx = -2; dx <= 2; dx++)
              for (let dy = -2; dy <= 2; dy++) {
                const px = plot.x(i) + dx;
                const py = plot.y(ms) + dy;
                if (px < 0 || py < 0 || px >= plot.width || py >= plot.height) continue;
                if (colourDistance(plot.at(px, py), want) <= 48) return false;
              }
            return true;
          });
          assert.deepEqual(missing, [], `${name} (${ms} ms), ${windowS} s window: seconds with checks drawn nowhere`);
        }
      }
      const legend = await page.getByTestId('chart-latency').locator('.recharts-legend-wrapper').innerText();
      assert.match(legend, /P50[\s\S]*P90[\s\S]*P99/, 'the legend still names the three lines');
    } finally {
      sparse = undefined;
    }
  });

  /**
   * Per second of the window: the most marked (not background, not grid) pixels in one of its
   * columns. `interior`: only the columns wholly inside the second, clear of its neighbours' edges.
   */
  function markedHeights(plot: Awaited<ReturnType<typeof plotPixels>>, windowS: number, interior = false): number[] {
    const gridRows = new Set(plot.gridRows.flatMap((r) => [Math.floor(r) - 1, Math.floor(r), Math.ceil(r), Math.ceil(r) + 1]));
    const column = (x: number) => {
      let marked = 0;
      for (let row = 0; row < plot.height; row++) {
        if (gridRows.has(row)) continue;
        if (colourDistance(plot.at(x, row), plot.background) > 24) marked++;
      }
      return marked;
    };
    return Array.from({ length: windowS }, (_, i) => {
      // The columns of second i: from its place to the next second's (the window's last: its own place).
      const start = interior ? Math.ceil(plot.x(i)) + 1 : Math.floor(plot.x(i));
      const end = interior ? Math.floor(plot.x(i + 1)) - 1 : Math.ceil(plot.x(i + 1)) - 1;
      const from = Math.max(2, start); // not the y axis line at the left edge
      const to = Math.min(plot.width - 1, Math.max(from, end));
      let best = 0;
      for (let x = from; x <= to; x++) best = Math.max(best, column(x));
      return best;
    });
  }

  it('draws every second of sparse traffic on the failed checks chart, with its width and height, and nothing between', async () => {
    try {
      for (const [mode, windowS, pct] of [
        ['sparse', 60, 50],
        ['sparse', 300, 50],
        ['burst', 60, 100],
        ['burst', 900, 100],
      ] as const) {
        await showSparse(windowS, mode);
        const plot = await plotPixels('chart-errors', windowS, `${mode}-errors-${windowS}s-plot`);
        const heights = markedHeights(plot, windowS);
        const busy = new Set(sparseSeconds(windowS, mode));
        const expected = plot.y(0) - plot.y(pct);
        const what = `${mode}, ${windowS} s window`;
        for (const i of busy) {
          // Less the grid rows the run crosses (up to 4 px each, not counted).
          assert.ok(
            heights[i]! >= expected - 4 * plot.gridRows.length - 2,
            `${what}: second ${i} (${pct}% client errors) is drawn ${heights[i]} px high, expected about ${expected.toFixed(1)} px`,
          );
        }
        if (plot.pxPerSecond >= 3) {
          // One column per second at least: the seconds without checks stay empty (no traffic is not 0 %).
          const inside = markedHeights(plot, windowS, true);
          const filled = inside.flatMap((h, i) => (!busy.has(i) && h > 2 ? [i] : []));
          assert.deepEqual(filled, [], `${what}: seconds without checks are drawn`);
        }
      }
      const legend = await page.getByTestId('chart-errors').locator('.recharts-legend-wrapper').innerText();
      assert.match(legend, /server \(5xx\)[\s\S]*client \(4xx\)/, 'the legend still names both layers');
    } finally {
      sparse = undefined;
    }
  });

  it('cuts nothing off at 700 px wide', async () => {
    await page.setViewportSize({ width: 700, height: 900 });
    await showWindow(300, true);
    await page.waitForTimeout(300); // ResponsiveContainer measures on the next frame
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const out: string[] = [];
      for (const el of document.querySelectorAll<HTMLElement>('[data-testid="dashboard"] *, [data-testid="status-bar"] *, .app-header *')) {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.right > width + 0.5 || r.left < -0.5))
          out.push(`${el.tagName}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
        if (getComputedStyle(el).overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1 && !el.closest('svg')) {
          out.push(`${el.tagName}.${el.className} scrolls ${el.scrollWidth} > ${el.clientWidth}`);
        }
      }
      return { out: out.slice(0, 12), pageWidth: document.documentElement.scrollWidth, width };
    });
    // The main area scrolls inside the window: one screenshot at its top, one at its bottom.
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-charts-700px.png') });
    await page.locator('.app-main').evaluate((main) => main.scrollTo(0, main.scrollHeight));
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-charts-700px-bottom.png') });
    assert.deepEqual(overflow.out, [], `nothing sticks out of or scrolls within ${overflow.width} px`);
    assert.ok(overflow.pageWidth <= 700, `page is ${overflow.pageWidth} px wide`);
    for (const chart of ['chart-qps', 'chart-latency', 'chart-errors', 'chart-queue']) {
      await assertWholeTimeAxis(chart, 300, `${chart} at 700 px`);
    }
    await page.setViewportSize({ width: 1400, height: 1100 });
  });

  it('logged no errors in the page console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});

/** What the failed checks chart draws: its time and % ticks, and its bars (user units = CSS px). */
function errorBars(page: Page) {
  return page.evaluate(() => {
    const card = document.querySelector('[data-testid="chart-errors"]');
    const svg = card?.querySelector('.recharts-wrapper > svg.recharts-surface');
    if (!card || !svg) throw new Error('no failed checks chart');
    const rect = svg.getBoundingClientRect();
    const ticks = (axis: string) => {
      const labels = [...card.querySelectorAll(`.recharts-${axis}Axis-tick-labels text.recharts-cartesian-axis-tick-value`)];
      const lines = [...card.querySelectorAll(`.recharts-${axis}Axis-tick-lines line`)];
      return labels.map((text, i) => ({
        value: text.textContent ?? '',
        x: Number(lines[i]?.getAttribute('x1')),
        y: Number(lines[i]?.getAttribute('y1')),
      }));
    };
    // What the chart is drawn on: the nearest background that is not transparent.
    let background = 'rgb(0, 0, 0)';
    for (let el: Element | null = card; el; el = el.parentElement) {
      const colour = getComputedStyle(el).backgroundColor;
      if (colour && colour !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(colour)) {
        background = colour;
        break;
      }
    }
    return {
      svg: { left: rect.left + window.scrollX, top: rect.top + window.scrollY },
      background,
      xTicks: ticks('x'),
      yTicks: ticks('y'),
      bars: [...card.querySelectorAll('rect.second-bar')].map((r) => ({
        x: Number(r.getAttribute('x')),
        y: Number(r.getAttribute('y')),
        width: Number(r.getAttribute('width')),
        height: Number(r.getAttribute('height')),
      })),
    };
  });
}

describe(
  'the failed checks chart against a real service: a burst of refused images among clean checks',
  { skip: SKIP_WITHOUT_CHROMIUM },
  () => {
    let ui: ServedUi;
    let page: Page;
    let image: Uint8Array;
    const consoleErrors: string[] = [];

    before(async () => {
      image = new Uint8Array(
        await sharp(Buffer.alloc(64 * 48 * 3, 120), { raw: { width: 64, height: 48, channels: 3 } })
          .png()
          .toBuffer(),
      );
      ui = await startServedUi({
        context: { viewport: { width: 1400, height: 1100 }, deviceScaleFactor: 1 },
        errors: consoleErrors,
        consoleErrors: true,
      });
      page = ui.page;
      await page.goto(`${ui.serve.url}/#dashboard`, { waitUntil: 'domcontentloaded' });
      await page.getByTestId('charts').waitFor({ timeout: 15_000 });
      await page.mouse.move(0, 0);
    });
    after(async () => {
      assert.equal(await ui?.close(), 0, 'ofa-ve serve stopped cleanly');
    });

    /** One check: a real image, or bytes that are no image (400 INVALID_IMAGE). */
    async function check(good: boolean): Promise<number> {
      const res = await fetch(`${ui.serve.url}/api/v1/check`, {
        method: 'POST',
        headers: { 'content-type': multipartType() },
        body: new Uint8Array(multipartBody(checkParts(good ? image : new TextEncoder().encode('not an image'), 'a grey picture'))),
      });
      await res.arrayBuffer();
      return res.status;
    }

    /** Waits until `ms` into the next wall-clock second. */
    const intoNextSecond = (ms: number) => new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + ms));

    it('draws the burst second visibly, at its own height, at 15 and at 5 min, though the seconds after it have no failures', async () => {
      // The user's case: 8 checks at once, 5 of them refused (62.5 % of the second), then seconds of
      // clean checks only. On a busy machine a check may take over a second, so a try whose last second
      // with failures is not followed by one with checks is made again.
      const series = async () => ((await (await fetch(`${ui.serve.url}/api/v1/stats?window=900`)).json()) as StatsDocument).series;
      const lastFailedIsFollowedByChecks = (points: SeriesPoint[]) => {
        const last = points.filter((p) => p.ERROR > 0).pop();
        const next = last && points.find((p) => p.t === last.t + 1);
        return next !== undefined && next.requests > 0 && next.ERROR === 0;
      };
      for (let i = 0; i < 3; i++) assert.equal(await check(true), 200); // a model's first checks are slow
      let points: SeriesPoint[] = [];
      for (let attempt = 0; attempt < 3 && !lastFailedIsFollowedByChecks(points); attempt++) {
        await intoNextSecond(50);
        const statuses = await Promise.all([true, false, true, false, false, true, false, false].map(check));
        assert.equal(statuses.filter((s) => s === 400).length, 5, `five refused: ${statuses.join(' ')}`);
        // Two clients checking clean images for 3 s from the next second on.
        await intoNextSecond(0);
        const until = Date.now() + 3000;
        const clean = async () => {
          while (Date.now() < until) assert.equal(await check(true), 200);
        };
        await Promise.all([clean(), clean()]);
        await intoNextSecond(100);
        points = await series();
      }
      const failed = points.filter((p) => p.ERROR > 0);
      assert.ok(
        lastFailedIsFollowedByChecks(points),
        `the last second with failures is followed by one with checks and none failed: ${JSON.stringify(
          points.filter((p) => p.requests > 0).map((p) => [p.t, p.requests, p.ERROR]),
        )}`,
      );
      const errorTotal = failed.reduce((sum, p) => sum + p.ERROR, 0);
      const failedPct = (p: SeriesPoint) => (p.client_error_rate + p.error_rate) * 100;
      const worst = failed.reduce((a, b) => (failedPct(b) > failedPct(a) ? b : a));
      // The user's 62.5 %, unless a check of the burst ended in the next second.
      if (failed.length === 1 && worst.requests === 8) assert.equal(failedPct(worst), 62.5);

      for (const windowS of [900, 300]) {
        await page.getByTestId(`window-${windowS}`).click();
        await page.waitForFunction(
          ({ w, errors }) =>
            document.querySelector(`[data-testid="window-${w}"]`)?.getAttribute('aria-pressed') === 'true' &&
            document.querySelector('[data-testid="total-ERROR"]')?.textContent === String(errors) &&
            document.querySelector('[data-testid="p90-caption"]')?.textContent?.includes(`${w / 60} min`),
          { w: windowS, errors: errorTotal },
          { timeout: 10_000 },
        );
        await page.mouse.move(0, 0);
        await page.waitForTimeout(200); // the frame after the data
        const drawn = await errorBars(page);
        const y = yScale(drawn.yTicks);
        // A second's x from the time ticks (local wall-clock labels, as formatClock writes them).
        const day = (label: string) =>
          label
            .split(':')
            .map(Number)
            .reduce((acc, v) => acc * 60 + v, 0);
        const a = drawn.xTicks[0]!;
        const b = drawn.xTicks[drawn.xTicks.length - 1]!;
        const signed = (from: number, to: number) => ((to - from + 86_400 + 43_200) % 86_400) - 43_200;
        const pxPerSecond = (b.x - a.x) / signed(day(a.value), day(b.value));
        const x = (t: number) => a.x + signed(day(a.value), day(formatClock(t))) * pxPerSecond;
        const what = `${windowS / 60} min (${pxPerSecond.toFixed(2)} px a second)`;

        // Each second with failures lies under a bar at least 2 px wide, as high as it is (its own
        // bar) or higher (where seconds are narrower than that, a few share the bar of their worst).
        for (const second of failed) {
          const pct = failedPct(second);
          const over = drawn.bars.filter((bar) => bar.x <= x(second.t) + 0.5 && bar.x + bar.width >= x(second.t + 1) - 0.5);
          // The top of the stack (client errors over server errors).
          const top = over.reduce<(typeof over)[number] | undefined>(
            (best, bar) => (best === undefined || bar.y < best.y ? bar : best),
            undefined,
          );
          const label = `${what}: the second at ${formatClock(second.t)} (${pct.toFixed(1)} % failed)`;
          assert.ok(top, `${label} has a bar over it: ${JSON.stringify(drawn.bars)}`);
          assert.ok(top.width >= 1.9, `${label} is drawn ${top.width.toFixed(2)} px wide`);
          if (second === worst) {
            assert.ok(Math.abs(top.y - y(pct)) <= 1, `${label}: its bar's top at ${top.y.toFixed(1)}, expected ${y(pct).toFixed(1)}`);
          } else {
            assert.ok(top.y <= y(pct) + 1, `${label}: its bar's top at ${top.y.toFixed(1)}, expected ${y(pct).toFixed(1)} or above`);
          }
          const bottom = Math.max(...over.map((bar) => bar.y + bar.height));
          assert.ok(Math.abs(bottom - y(0)) <= 1, `${label}: its bar stands on 0 %`);
        }

        // And on screen: a column of the bar (the clip is 4 px wider each side) is painted from its top
        // down to the 0 % line, the grid rows aside.
        const bar = drawn.bars.find(
          (r) => r.x <= x(worst.t) + 0.5 && r.x + r.width >= x(worst.t + 1) - 0.5 && Math.abs(r.y - y(failedPct(worst))) <= 1,
        )!;
        const clip = { x: drawn.svg.left + bar.x - 4, y: drawn.svg.top + bar.y - 4, width: bar.width + 8, height: bar.height + 8 };
        const shot = await pixels(await page.screenshot({ clip, path: path.join(SHOTS, `dashboard-charts-burst-${windowS}s.png`) }));
        const background = rgb(drawn.background);
        let painted = 0;
        for (let column = 1; column < shot.width - 1; column++) {
          let rows = 0;
          for (let row = 4; row < 4 + Math.floor(bar.height); row++) if (colourDistance(shot.at(column, row), background) > 24) rows++;
          painted = Math.max(painted, rows);
        }
        assert.ok(
          painted >= bar.height - 4 * drawn.yTicks.length - 2,
          `${what}: the burst's bar is painted ${painted} of ${bar.height.toFixed(1)} px high`,
        );
      }
      assert.deepEqual(consoleErrors, []);
    });
  },
);
