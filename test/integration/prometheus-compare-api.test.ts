/**
 * GET /api/v1/compare?source=prometheus against a real Prometheus scraping every 2 s: each range is
 * read over whole scrape intervals (its ends rounded inward, so B starts after its mark and never
 * reaches into A), the same range asked again ("to now" a moment later) reads the same counts, the
 * resolution is Prometheus' scrape interval (2 s, not 1 s), and the counts say they are estimates.
 * About 25 s on two cores.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { PeriodComparison } from '../../preload/wire-types.ts';
import { startPrometheus, SKIP_WITHOUT_PROMETHEUS, type PrometheusProcess } from '../support/prometheus-process.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';

const JOB = 'ofa-ve';
const SCRAPE_S = 2;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Closed-loop checks to `url` until `untilMs`; how many it answered. */
async function load(url: string, image: Buffer, untilMs: number): Promise<number> {
  let answered = 0;
  while (Date.now() < untilMs) {
    const body = new FormData();
    body.append('image', new Blob([new Uint8Array(image)]), 'photo.png');
    body.append('text', 'a dog on the grass');
    const res = await fetch(`${url}/api/v1/check`, { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    if (res.ok) answered += 1;
  }
  return answered;
}

describe('GET /api/v1/compare?source=prometheus: whole scrape intervals', { skip: SKIP_WITHOUT_PROMETHEUS, timeout: 90_000 }, () => {
  let dir: string;
  let replica: ServeProcess | undefined;
  /** The serve that reads Prometheus (`--prometheus-url`), as in a fleet. */
  let reader: ServeProcess | undefined;
  let prom: PrometheusProcess | undefined;
  let loadStart = 0;
  let mark = 0;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-prom-compare-'));
    replica = await startServe(['--access-log-rate', '0']);
    const instance = new URL(replica.url).host;
    const config = path.join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        `global: {scrape_interval: ${SCRAPE_S}s, scrape_timeout: 1s, evaluation_interval: ${SCRAPE_S}s}`,
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        `    static_configs: [{targets: ["${instance}"]}]`,
        '',
      ].join('\n'),
    );
    prom = await startPrometheus(config, path.join(dir, 'data'));
    const p = prom;
    reader = await startServe(['--access-log-rate', '0', '--prometheus-url', p.url]);
    await p.waitUntil('two scrapes', 20_000, async () =>
      ((await p.scalar(`count_over_time(up{job="${JOB}"}[1m])`)) ?? 0) >= 2 ? true : undefined,
    );
    const image = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toBuffer();
    loadStart = Date.now();
    await load(replica.url, image, loadStart + 5000);
    // A mark between scrapes (not on the 2 s grid), as a user's is.
    if (Date.now() % 2000 < 300) await sleep(400);
    mark = Date.now();
    await load(replica.url, image, mark + 5000);
    const loadEnd = Date.now();
    await p.waitUntil('a scrape after the load', 10_000, async () =>
      ((await p.scalar(`timestamp(up{job="${JOB}"})`)) ?? 0) * 1000 > loadEnd + 100 ? true : undefined,
    );
  });

  after(async () => {
    await prom?.stop();
    await Promise.all([replica, reader].map((s) => s?.stop().catch(() => undefined)));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const compare = async (aFrom: number, aTo: number, bFrom: number, bTo: number): Promise<PeriodComparison> => {
    const query = new URLSearchParams({ a_from: `${aFrom}`, a_to: `${aTo}`, b_from: `${bFrom}`, b_to: `${bTo}`, source: 'prometheus' });
    const res = await fetch(`${reader!.url}/api/v1/compare?${query}`, { signal: AbortSignal.timeout(20_000) });
    const body = (await res.json()) as PeriodComparison & { error?: unknown };
    assert.equal(res.status, 200, JSON.stringify(body.error));
    return body;
  };
  it('reads B from the first scrape interval after its mark, A up to the last one before it, at the scrape interval', async () => {
    const aFrom = loadStart - 3000;
    const c = await compare(aFrom, mark, mark, Date.now());
    const [aFromRead, aToRead, bFromRead, bToRead] = [c.a.from, c.a.to, c.b.from, c.b.to].map((t) => Date.parse(t));
    assert.ok(bFromRead! >= mark, `B read from ${c.b.from}, its mark ${new Date(mark).toISOString()}`);
    assert.ok(aToRead! <= mark && aFromRead! >= aFrom, `A read ${c.a.from}–${c.a.to}`);
    for (const t of [aFromRead, aToRead, bFromRead, bToRead]) assert.equal(t! % (SCRAPE_S * 1000), 0, 'on the scrape grid');
    assert.deepEqual([c.a.resolution_s, c.b.resolution_s], [SCRAPE_S, SCRAPE_S]);
    assert.equal(c.counts_estimated, true);
    assert.ok(c.a.requests > 0 && c.b.requests > 0, 'both halves of the load are in');
  });

  it('gives the same counts each time the same range is asked, and for "to now" asked again within the interval', async () => {
    // A's start just before a grid point, B's end just after one; then the same range, and one starting
    // 0.3 s earlier and ending 1.5 s later: the same whole intervals.
    const aFrom = Math.floor((loadStart - 3000) / 2000) * 2000 - 500;
    // B ends two whole intervals after its mark (tied to the mark, not to now: the load ran 5 s past
    // it), and Prometheus has scraped past the later range's end, so the samples read are final.
    const to = Math.ceil(mark / 2000) * 2000 + 2 * 2000 + 200;
    const p = prom!;
    await p.waitUntil('a scrape past the ranges', 15_000, async () =>
      ((await p.scalar(`timestamp(up{job="${JOB}"})`)) ?? 0) * 1000 > to + 1500 + SCRAPE_S * 1000 ? true : undefined,
    );
    const counts = (c: PeriodComparison) => [c.a, c.b].map((r) => [r.from, r.to, r.requests, r.successes]);
    const first = await compare(aFrom, mark, mark, to);
    const again = await compare(aFrom, mark, mark, to);
    const later = await compare(aFrom - 300, mark, mark, to + 1500);
    assert.deepEqual(counts(again), counts(first));
    assert.deepEqual(counts(later), counts(first));
    assert.deepEqual(again.end_to_end.count_b, first.end_to_end.count_b);
  });
});
