/**
 * A real Prometheus (Debian's `prometheus` on PATH; CI installs it) scrapes the service while a
 * few senders load it for ~20 s with ~4% bad requests; the test then checks that what Prometheus
 * stored agrees with what was sent and with the app's own live statistics.
 *
 * Window alignment. The app's `/api/v1/stats?window=N` counts the requests that ended in the whole
 * seconds [floor(A) - N + 1, A] (A = when it is read); Prometheus' `increase(x[Ns])` at time S uses
 * the samples in (S - N, S] and extrapolates towards both ends. The test lines them up so both read
 * exactly the load and nothing else:
 *   - Prometheus scrapes for a few seconds before the load starts (L0), so every counter has samples
 *     before L0, still at 0 (the service creates its series at 0): `increase` then does not
 *     extrapolate towards the start (a counter's extrapolation stops where it would cross zero);
 *   - after the load stops (L1) the service stays idle; the app is read at A ≥ L1 + 1.5 s with
 *     N = ceil((A - L0) / 1 s) + 2, so its window opens ≥ 2 s before L0;
 *   - Prometheus is queried at S = the last successful scrape at or before A, which is after L1, with
 *     the same N: the window's last sample sits exactly at S (no extrapolation towards the end) and
 *     S - N ≤ A - N lies before L0.
 * Both windows then hold every request sent, so rate, error rates, p90, mean batch size and the stage
 * quantiles compare like with like; the tolerances are those asked of the comparison (10%, or 0.5
 * points; the histogram bucket for p90; one bucket either way for the stages).
 *
 * One Prometheus and one load serve both tests (setting them up is most of the time, on 2 CI cores).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { STAGE_NAMES, type StatsDocument } from '../../preload/wire-types.ts';
import { REQUEST_LATENCY_BUCKETS, STAGE_LATENCY_BUCKETS } from '../../main/telemetry/metric-buckets.ts';
import { startPrometheus, SKIP_WITHOUT_PROMETHEUS, type PrometheusProcess } from '../support/prometheus-process.ts';
import { startHarness, type Harness } from '../support/service-harness.ts';

const JOB = 'ofa-ve';
const LOAD_MS = 20_000;
const SENDERS = 3;
/** Every BAD_EVERY-th request is a bad one (4%), alternating INVALID_IMAGE and EMPTY_TEXT. */
const BAD_EVERY = 25;
/** Idle time after the load before the app is read, so that a scrape lands in between. */
const QUIET_AFTER_LOAD_MS = 1_500;
const CAPTIONS = [
  'a blue picture',
  'two dogs play on the grass',
  'a red car parked outside',
  'nothing at all',
  'a person rides a bicycle down the hill',
];

/** The stage quantiles compared with Prometheus', and the range (ms) where they are compared. */
const STAGE_QUANTILES = [0.5, 0.9] as const;
const STAGE_RANGE_MS = [5, 500] as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function photo(seed: number): Promise<Buffer> {
  return sharp({
    create: {
      width: 200 + seed * 40,
      height: 160 + seed * 20,
      channels: 3,
      background: { r: (seed * 70) % 255, g: 40 + seed * 30, b: 200 - seed * 25 },
    },
  })
    .png()
    .toBuffer();
}

function form(image: Buffer, text: string, filename = 'photo.png'): FormData {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(image)]), filename);
  body.append('text', text);
  return body;
}

/** The [lower, upper] latency bucket (seconds) holding `value` (upper bound inclusive, as `le`). */
function bucketOf(value: number, buckets: readonly number[] = REQUEST_LATENCY_BUCKETS): [number, number] {
  let lower = 0;
  for (const upper of buckets) {
    if (value <= upper) return [lower, upper];
    lower = upper;
  }
  return [lower, Infinity];
}

/** The index of the bucket holding `value` (buckets.length for +Inf). */
function bucketIndex(value: number, buckets: readonly number[]): number {
  const i = buckets.findIndex((upper) => value <= upper);
  return i < 0 ? buckets.length : i;
}

const key = (status: number | string, result: string) => `${status}/${result}`;

async function drive(h: Harness, images: Buffer[], durationMs: number) {
  const counted = new Map<string, number>();
  const transportErrors: string[] = [];
  const notText = Buffer.from('this is a text file, not an image\n');
  let seq = 0;
  const until = Date.now() + durationMs;
  const sender = async () => {
    for (let i = 0; i < 20_000 && Date.now() < until; i++) {
      const n = seq++;
      let body: FormData;
      let expected: [number, string] | undefined;
      if (n % BAD_EVERY === BAD_EVERY - 1) {
        const invalidImage = Math.floor(n / BAD_EVERY) % 2 === 0;
        body = invalidImage ? form(notText, CAPTIONS[n % CAPTIONS.length]!, 'notes.png') : form(images[n % images.length]!, '');
        expected = [400, invalidImage ? 'INVALID_IMAGE' : 'EMPTY_TEXT'];
      } else {
        body = form(images[n % images.length]!, CAPTIONS[n % CAPTIONS.length]!);
      }
      try {
        const res = await fetch(`${h.url}/api/v1/check`, { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
        const json = (await res.json()) as { label?: string; error?: { code: string } };
        let result = 'ERROR';
        if (res.status === 200) result = String(json.label);
        if (expected) {
          assert.equal(res.status, expected[0], `request ${n}`);
          assert.equal(json.error?.code, expected[1], `request ${n}`);
        }
        counted.set(key(res.status, result), (counted.get(key(res.status, result)) ?? 0) + 1);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        transportErrors.push(`request ${n}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return { counted, transportErrors, sent: seq };
}

/** What the shared setup leaves for the tests: the load as sent, and both sides read over the same window. */
interface Run {
  prom: PrometheusProcess;
  stats: StatsDocument;
  window: number;
  appAt: number;
  scrapeAt: number;
  loadStart: number;
  loadEnd: number;
  counted: Map<string, number>;
  sent: number;
}

describe('a real Prometheus scraping the service', { skip: SKIP_WITHOUT_PROMETHEUS }, () => {
  let h: Harness | undefined;
  let prom: PrometheusProcess | undefined;
  let dir: string | undefined;
  let run: Run | undefined;

  before(
    async () => {
      h = await startHarness();
      const target = new URL(h.url).host;
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-prom-'));
      const config = path.join(dir, 'prometheus.yml');
      await writeFile(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 900ms',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          `  - job_name: ${JOB}`,
          '    metrics_path: /metrics',
          '    static_configs:',
          `      - targets: ['${target}']`,
          '',
        ].join('\n'),
      );
      prom = await startPrometheus(config, path.join(dir, 'data'));

      // Samples well before the load starts, all at 0 (see the header comment).
      await prom.waitFor(`count_over_time(up{job="${JOB}"}[1m])`, (v) => (v ?? 0) >= 5, 20_000, '5 scrapes before the load');
      assert.equal(await prom.scalar(`up{job="${JOB}"}`), 1, `target up before the load; prometheus log: ${prom.log}`);

      const images = await Promise.all([1, 2, 3, 4].map(photo));
      const loadStart = Date.now();
      const { counted, transportErrors, sent } = await drive(h, images, LOAD_MS);
      const loadEnd = Date.now();
      assert.deepEqual(transportErrors, [], 'every request got an answer');

      // The app, read once the service has been idle a while; N covers the load plus ≥ 2 s before it.
      let stats: StatsDocument | undefined;
      let window = 0;
      let appAt = 0;
      let scrapeAt: number | undefined;
      const attempts: string[] = [];
      for (let attempt = 0; attempt < 4 && scrapeAt === undefined; attempt++) {
        await sleep(Math.max(0, loadEnd + QUIET_AFTER_LOAD_MS + attempt * 1000 - Date.now()));
        appAt = Date.now();
        window = Math.ceil((appAt - loadStart) / 1000) + 2;
        stats = (await (await fetch(`${h.url}/api/v1/stats?window=${window}`)).json()) as StatsDocument;
        // Two more scrapes after that moment: the latest scrape is ≥ 1 s after it.
        const scrapedAfter = (v: number | undefined) => v !== undefined && v * 1000 >= appAt + 1000;
        await prom.waitFor(`timestamp(up{job="${JOB}"})`, scrapedAfter, 10_000, 'two scrapes after the load');
        // The last successful scrape at or before the app's reading; it must follow the load.
        const last = await prom.scalar(`timestamp(ofa_ve_request_total{job="${JOB}",status_code="200",result_type="YES"})`, appAt);
        const lastUp = last === undefined ? undefined : await prom.scalar(`up{job="${JOB}"}`, Math.round(last * 1000));
        if (last !== undefined && lastUp === 1 && last * 1000 > loadEnd) scrapeAt = Math.round(last * 1000);
        else attempts.push(`attempt ${attempt}: no good scrape between the load's end and the app reading (last ${last}, up ${lastUp})`);
      }
      assert.ok(stats && scrapeAt !== undefined, `a successful scrape after the load (${attempts.join('; ')}); log: ${prom.log}`);
      run = { prom, stats, window, appAt, scrapeAt, loadStart, loadEnd, counted, sent };
    },
    { timeout: 120_000 },
  );

  after(async () => {
    await prom?.stop();
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('agrees with what was sent and with the live stats', async (t) => {
    assert.ok(run, 'the shared setup ran');
    const { prom, stats, window, appAt, scrapeAt, loadStart, loadEnd, counted, sent } = run;

    // 1. The target is up.
    assert.equal(await prom.scalar(`up{job="${JOB}"}`), 1, 'up{job="ofa-ve"}');

    // 2. Every series equals what was counted, and the sum is everything sent.
    const series = await prom.query(`sum by (status_code, result_type) (ofa_ve_request_total{job="${JOB}"})`);
    const stored = new Map(series.map((s) => [key(s.metric.status_code ?? '?', s.metric.result_type ?? '?'), Number(s.value[1])]));
    const storedTotal = [...stored.values()].reduce((a, b) => a + b, 0);
    t.diagnostic(
      `sent ${sent} in ${((loadEnd - loadStart) / 1000).toFixed(1)} s by ${SENDERS} senders; counted ${JSON.stringify(Object.fromEntries([...counted].sort()))}`,
    );
    t.diagnostic(`prometheus  ${JSON.stringify(Object.fromEntries([...stored].filter(([, v]) => v > 0).sort()))}`);
    for (const [k, v] of stored) assert.equal(v, counted.get(k) ?? 0, `series ${k}`);
    for (const [k, v] of counted) assert.equal(stored.get(k), v, `series ${k} in prometheus`);
    assert.equal(storedTotal, sent, 'sum of the series');
    assert.equal(
      [...counted.values()].reduce((a, b) => a + b, 0),
      sent,
    );
    assert.ok((counted.get(key(400, 'ERROR')) ?? 0) > 0, 'some bad requests were sent');

    // The app's window holds the whole load, and nothing else.
    assert.equal(stats.totals.requests, sent, 'app window total');
    assert.equal(stats.totals.ERROR, counted.get(key(400, 'ERROR')) ?? 0, 'app window errors');
    assert.equal(stats.totals.client_errors, counted.get(key(400, 'ERROR')) ?? 0, 'the bad requests are client errors');
    assert.equal(stats.totals.server_errors, 0, 'and nothing failed on the service side');

    // 3. Rate, error rates (5xx and 4xx), p90 and mean batch size over the same window, Prometheus at the scrape, the app at its reading.
    const range = `[${window}s]`;
    const increase = (await prom.scalar(`sum(increase(ofa_ve_request_total{job="${JOB}"}${range}))`, scrapeAt)) ?? NaN;
    const rate = (await prom.scalar(`sum(rate(ofa_ve_request_total{job="${JOB}"}${range}))`, scrapeAt)) ?? NaN;
    const failures = async (statusRe: string) =>
      (await prom.scalar(`sum(increase(ofa_ve_request_total{job="${JOB}",status_code=~"${statusRe}"}${range}))`, scrapeAt)) ?? NaN;
    const serverErrors = await failures('5..');
    const clientErrors = await failures('4..');
    const promErrorRate = serverErrors / increase;
    const promClientErrorRate = clientErrors / increase;
    const p90s =
      (await prom.scalar(
        `histogram_quantile(0.9, sum by (le) (increase(ofa_ve_request_latency_seconds_bucket{job="${JOB}"}${range})))`,
        scrapeAt,
      )) ?? NaN;
    const batchIncrease = (part: string) => `sum(increase(ofa_ve_batch_size_${part}{job="${JOB}"}${range}))`;
    const batchExpr = `${batchIncrease('sum')} / ${batchIncrease('count')}`;
    const promBatch = (await prom.scalar(batchExpr, scrapeAt)) ?? NaN;
    const rawDelta =
      (await prom.scalar(
        `sum(ofa_ve_request_total{job="${JOB}"}) - sum(ofa_ve_request_total{job="${JOB}"} offset ${window}s)`,
        scrapeAt,
      )) ?? NaN;
    const appP90s = (stats.p90_ms ?? NaN) / 1000;
    const [lower, upper] = bucketOf(appP90s);

    t.diagnostic(
      `window ${window} s; app read ${appAt - loadEnd} ms after the load, prometheus at the scrape ${scrapeAt - loadEnd} ms after it`,
    );
    t.diagnostic(
      `requests: prometheus increase ${increase.toFixed(2)} (raw delta ${rawDelta}), app ${stats.totals.requests}, sent ${sent}`,
    );
    t.diagnostic(
      `qps: prometheus ${rate.toFixed(3)}, app ${stats.qps.toFixed(3)} (${(((rate - stats.qps) / stats.qps) * 100).toFixed(2)}%)`,
    );
    t.diagnostic(`error rate (5xx): prometheus ${(promErrorRate * 100).toFixed(3)}%, app ${(stats.error_rate * 100).toFixed(3)}%`);
    const percent = (ratio: number) => `${(ratio * 100).toFixed(3)}%`;
    t.diagnostic(`client error rate (4xx): prometheus ${percent(promClientErrorRate)}, app ${percent(stats.client_error_rate)}`);
    t.diagnostic(
      `p90: prometheus ${(p90s * 1000).toFixed(1)} ms, app ${stats.p90_ms?.toFixed(1)} ms (bucket ${lower * 1000}..${upper * 1000} ms)`,
    );
    t.diagnostic(`mean batch size: prometheus ${promBatch.toFixed(4)}, app ${stats.mean_batch_size?.toFixed(4)}`);

    assert.ok(Math.abs(rate - stats.qps) <= 0.1 * stats.qps, `rate ${rate} vs app qps ${stats.qps}`);
    assert.equal(promErrorRate, 0, 'no 5xx in prometheus');
    assert.equal(stats.error_rate, 0, 'the bad requests are not server errors in the app either');
    assert.ok(stats.client_error_rate > 0.03, `client error rate ${stats.client_error_rate} (every ${BAD_EVERY}th request is bad)`);
    assert.ok(
      Math.abs(promClientErrorRate - stats.client_error_rate) <= Math.max(0.1 * stats.client_error_rate, 0.005),
      `client error rate ${promClientErrorRate} vs app ${stats.client_error_rate}`,
    );
    assert.ok(Number.isFinite(p90s) && Number.isFinite(appP90s), `p90 ${p90s} s vs app ${stats.p90_ms} ms`);
    const sameBucket = bucketOf(p90s)[0] === lower && bucketOf(p90s)[1] === upper;
    assert.ok(sameBucket || Math.abs(p90s - appP90s) <= upper - lower, `p90 ${p90s} s vs app ${appP90s} s (bucket ${lower}..${upper})`);
    // Both hold every batch run in the window, so sum / count is the same figure, not merely close.
    const batchMessage = `mean batch size: prometheus ${promBatch}, app ${stats.mean_batch_size}`;
    assert.ok(stats.mean_batch_size !== null && Number.isFinite(promBatch), batchMessage);
    assert.ok(Math.abs(promBatch - stats.mean_batch_size) <= 1e-6 * promBatch, batchMessage);
  });

  it("histogram_quantile of each stage agrees with the app's stage quantiles within one bucket at 5–500 ms", async (t) => {
    assert.ok(run, 'the shared setup ran');
    const { prom, stats, window, scrapeAt } = run;
    const compared: string[] = [];
    for (const stage of STAGE_NAMES) {
      for (const q of STAGE_QUANTILES) {
        const appMs = q === 0.5 ? stats.stages[stage].p50_ms : stats.stages[stage].p90_ms;
        const buckets = `increase(ofa_ve_stage_latency_seconds_bucket{job="${JOB}",stage="${stage}"}[${window}s])`;
        const expr = `histogram_quantile(${q}, sum by (le) (${buckets}))`;
        const promS = (await prom.scalar(expr, scrapeAt)) ?? NaN;
        t.diagnostic(`${stage} p${q * 100}: prometheus ${(promS * 1000).toFixed(2)} ms, app ${appMs?.toFixed(2)} ms`);
        if (appMs === null || appMs < STAGE_RANGE_MS[0] || appMs > STAGE_RANGE_MS[1]) continue;
        assert.ok(Number.isFinite(promS), `${stage} p${q * 100}: prometheus has no value (${promS})`);
        const promBucket = bucketIndex(promS, STAGE_LATENCY_BUCKETS);
        const appBucket = bucketIndex(appMs / 1000, STAGE_LATENCY_BUCKETS);
        const [lo, hi] = bucketOf(promS, STAGE_LATENCY_BUCKETS);
        assert.ok(
          Math.abs(promBucket - appBucket) <= 1,
          `${stage} p${q * 100}: prometheus ${promS * 1000} ms (in ${lo * 1000}..${hi * 1000} ms), app ${appMs} ms: over a bucket apart`,
        );
        compared.push(`${stage} p${q * 100}`);
      }
    }
    t.diagnostic(`compared: ${compared.join(', ')}`);
    // On the CI machine queue, decode_image and inference lie in the range; a test that compared nothing would prove nothing.
    assert.ok(compared.length > 0, `no stage quantile lies in ${STAGE_RANGE_MS.join('–')} ms`);
  });
});
