/**
 * `ofa-ve serve --prometheus-url` for real: two replicas scraped every second by a real Prometheus
 * (Debian's `prometheus` on PATH) on loopback, a known load sent to them by the test, and a third
 * serve pointed at that Prometheus answering GET /api/v1/fleet and /api/v1/compare?source=prometheus.
 * - the fleet QPS × window is the count sent, plus at most rate()'s extrapolation to the evaluation
 *   (the counters start at 0 before the load, so nothing is added at the window's start);
 * - each fleet figure is what its PromQL gives in Prometheus (some are computed from other queries' samples);
 * - one row per replica, both up, the slowest marked; killing one shows up = false for it, and its checks
 *   still count in the window (its row's and the fleet's QPS), not ranked for the slowest;
 * - the comparison has a row per stage, and its P50s are PromQL's histogram_quantile over the same
 *   buckets; with attribute=caption_script (the load sends English and Chinese captions) a slice per
 *   script, whose stage counts add up to the whole's; any other attribute is 400;
 * - without --prometheus-url: 409 PROMETHEUS_NOT_CONFIGURED; with Prometheus gone: 502
 *   PROMETHEUS_UNAVAILABLE, and the service keeps answering.
 * About 30 s on two cores.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { STAGE_NAMES, type FleetDocument, type ModelDocument, type PeriodComparison } from '../../preload/wire-types.ts';
import { startPrometheus, SKIP_WITHOUT_PROMETHEUS, type PrometheusProcess } from '../support/prometheus-process.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';

const JOB = 'ofa-ve';
const LOAD_MS = 8000;
/** The fleet window: longer than the whole test, so it holds every sample since Prometheus started. */
const WINDOW = '2m';
const WINDOW_S = 120;

async function photo(seed: number): Promise<Buffer> {
  return sharp({ create: { width: 160 + seed * 40, height: 120 + seed * 20, channels: 3, background: { r: 200, g: 40 * seed, b: 90 } } })
    .png()
    .toBuffer();
}

/** One closed-loop sender per URL until `untilMs`; the checks answered 200 by each. */
async function load(urls: string[], images: Buffer[], untilMs: number): Promise<number[]> {
  return Promise.all(
    urls.map(async (url, r) => {
      let answered = 0;
      for (let i = 0; Date.now() < untilMs; i++) {
        const body = new FormData();
        body.append('image', new Blob([new Uint8Array(images[(i + r) % images.length]!)]), 'photo.png');
        // English and Chinese captions: the stage histogram's script label (english, cjk) gets both.
        body.append('text', i % 2 ? 'a dog on the grass' : '一只狗在草地上');
        const res = await fetch(`${url}/api/v1/check`, { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
        answered += 1;
      }
      return answered;
    }),
  );
}

async function getJson<T>(url: string): Promise<{ status: number; body: T & { error?: { code: string; message: string } } }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as T & { error?: { code: string; message: string } } };
}

describe(
  'GET /api/v1/fleet and /api/v1/compare?source=prometheus against a real Prometheus',
  { skip: SKIP_WITHOUT_PROMETHEUS, timeout: 90_000 },
  () => {
    let dir: string;
    let replicas: ServeProcess[] = [];
    let reader: ServeProcess | undefined;
    let prom: PrometheusProcess | undefined;
    let instances: string[] = [];
    let sent: number[] = [];
    let loadStart = 0;
    let loadEnd = 0;

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-prom-fleet-'));
      replicas = await Promise.all([0, 1].map(() => startServe(['--access-log-rate', '0'])));
      instances = replicas.map((r) => new URL(r.url).host);
      const config = path.join(dir, 'prometheus.yml');
      await writeFile(
        config,
        [
          'global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}',
          'scrape_configs:',
          `  - job_name: ${JOB}`,
          `    static_configs: [{targets: [${instances.map((i) => `"${i}"`).join(', ')}]}]`,
          '',
        ].join('\n'),
      );
      prom = await startPrometheus(config, path.join(dir, 'data'));
      const p = prom;
      reader = await startServe(['--access-log-rate', '0', '--prometheus-url', `${p.url}/`]);
      // A few scrapes at 0 before the load: rate() then adds nothing at the window's start.
      await p.waitUntil('three scrapes of each replica', 20_000, async () =>
        ((await p.scalar(`min(count_over_time(up{job="${JOB}"}[1m]))`)) ?? 0) >= 3 ? true : undefined,
      );
      const images = await Promise.all([1, 2, 3].map(photo));
      loadStart = Date.now();
      sent = await load(
        replicas.map((r) => r.url),
        images,
        loadStart + LOAD_MS,
      );
      loadEnd = Date.now();
      await p.waitUntil('a scrape of each replica after the load', 10_000, async () => {
        const scraped = await p.byLabel(`timestamp(up{job="${JOB}"})`, 'instance');
        return instances.every((i) => (scraped.get(i) ?? 0) * 1000 > loadEnd + 100) ? true : undefined;
      });
    });

    after(async () => {
      await prom?.stop();
      await Promise.all([...replicas, ...(reader ? [reader] : [])].map((r) => r.stop().catch(() => undefined)));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('says where fleet figures come from, and only where there is a Prometheus', async () => {
      const model = await getJson<ModelDocument>(`${reader!.url}/api/v1/model`);
      assert.equal(model.body.prometheus_url, prom!.url, 'the model document names the Prometheus (no trailing slash)');
      const plain = await getJson<ModelDocument>(`${replicas[0]!.url}/api/v1/model`);
      assert.equal(plain.body.prometheus_url, undefined);
      const refused = await getJson<FleetDocument>(`${replicas[0]!.url}/api/v1/fleet`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error?.code, 'PROMETHEUS_NOT_CONFIGURED');
      assert.match(refused.body.error!.message, /--prometheus-url/);
      const badWindow = await getJson<FleetDocument>(`${reader!.url}/api/v1/fleet?window=5`);
      assert.equal(badWindow.status, 400);
      assert.equal(badWindow.body.error?.code, 'BAD_REQUEST');
    });

    it('fleet QPS is what was sent, with a row per replica and the slowest marked', async (t) => {
      const { status, body: fleet } = await getJson<FleetDocument>(`${reader!.url}/api/v1/fleet?window=${WINDOW}`);
      assert.equal(status, 200, JSON.stringify(fleet.error));
      const total = sent.reduce((a, b) => a + b, 0);
      t.diagnostic(
        `sent ${sent.join(' + ')} = ${total}; fleet QPS ${fleet.qps.value} × ${WINDOW_S} s = ${(fleet.qps.value ?? NaN) * WINDOW_S}`,
      );
      assert.equal(fleet.source, 'prometheus');
      assert.equal(fleet.prometheus_url, prom!.url);
      assert.equal(fleet.window_s, WINDOW_S);
      assert.match(fleet.qps.query, /rate\(ofa_ve_request_total\[2m\]\)/);
      assert.match(
        fleet.p90_ms.query,
        /^histogram_quantile\(0\.9, sum by \(le\) \(rate\(ofa_ve_request_latency_seconds_bucket\[2m\]\)\)\)$/,
      );
      // rate() extrapolates from the last scrape to the evaluation (≤ 2 s here) over the span sampled (≥ 10 s).
      const seen = (fleet.qps.value ?? NaN) * WINDOW_S;
      assert.ok(seen >= total * (1 - 1e-9) && seen <= total * 1.25, `fleet QPS × window ${seen} vs ${total} sent`);
      assert.ok((fleet.p50_ms.value ?? 0) > 0 && fleet.p50_ms.value! <= fleet.p90_ms.value! && fleet.p90_ms.value! <= fleet.p99_ms.value!);
      assert.equal(fleet.error_rate.value, 0, 'every check answered 200');
      // The figures computed in-app from other queries' samples are what their own PromQL gives in Prometheus.
      const at = Date.parse(fleet.generated_at);
      for (const [name, figure, scale] of [
        ['qps', fleet.qps, 1],
        ['p50_ms', fleet.p50_ms, 1000],
        ['p90_ms', fleet.p90_ms, 1000],
        ['p99_ms', fleet.p99_ms, 1000],
      ] as const) {
        const promql = (await prom!.scalar(figure.query, at))! * scale;
        assert.ok(Math.abs(figure.value! - promql) <= 1e-9 * Math.abs(promql), `${name}: ${figure.value} vs PromQL ${promql}`);
      }
      // The error rates too, fleet and replica, computed from one query of the rates by status code: the
      // 5xx counters start at 0, so PromQL has a ratio sample (0) rather than none.
      const errorRate = await prom!.scalar(fleet.error_rate.query, at);
      assert.equal(fleet.error_rate.value, errorRate, `error rate vs PromQL ${errorRate}`);
      const replicaErrorRates = await prom!.byLabel(fleet.replica_queries.error_rate, 'instance', at);
      assert.deepEqual(
        new Map(fleet.replicas.map((r) => [r.instance, r.error_rate])),
        new Map(instances.map((i) => [i, replicaErrorRates.get(i)])),
      );

      assert.deepEqual(fleet.replicas.map((r) => r.instance).sort(), [...instances].sort());
      for (const [i, instance] of instances.entries()) {
        const row = fleet.replicas.find((r) => r.instance === instance)!;
        assert.equal(row.job, JOB);
        assert.equal(row.up, true, `${instance} up`);
        const replicaSeen = (row.qps ?? NaN) * WINDOW_S;
        assert.ok(replicaSeen >= sent[i]! * (1 - 1e-9) && replicaSeen <= sent[i]! * 1.25, `${instance}: ${replicaSeen} vs ${sent[i]}`);
        assert.ok((row.p90_ms ?? 0) > 0 && (row.p90_skew ?? 0) > 0, `${instance} has a P90 and a skew`);
        assert.equal(row.error_rate, 0);
      }
      const slowest = fleet.replicas.filter((r) => r.slowest);
      assert.equal(slowest.length, 1, 'one replica is marked slowest');
      assert.equal(fleet.skew.slowest_instance, slowest[0]!.instance);
      assert.equal(fleet.skew.ratio, Math.max(...fleet.replicas.map((r) => r.p90_skew!)));

      const names = fleet.series.lines.map((l) => l.name);
      for (const name of ['qps', 'p50_ms', 'p90_ms', 'p99_ms', 'error_rate', ...instances.map((i) => `qps ${i}`)]) {
        assert.ok(names.includes(name), `chart line ${name} in ${names.join(', ')}`);
      }
      const qpsLine = fleet.series.lines.find((l) => l.name === 'qps')!;
      assert.ok(
        qpsLine.points.some(([, v]) => (v ?? 0) > 0),
        'the QPS line shows the load',
      );
    });

    it("compare?source=prometheus: per-stage rows whose P50 is PromQL's histogram_quantile", async () => {
      const mid = Math.round((loadStart + loadEnd) / 2 / 1000) * 1000;
      const from = Math.floor(loadStart / 1000) * 1000 - 2000;
      const to = mid + Math.round((mid - from) / 1000) * 1000;
      const query = new URLSearchParams({
        a_from: String(from),
        a_to: String(mid),
        b_from: String(mid),
        b_to: String(to),
        source: 'prometheus',
      });
      const { status, body } = await getJson<PeriodComparison>(`${reader!.url}/api/v1/compare?${query}`);
      assert.equal(status, 200, JSON.stringify(body.error));
      assert.equal(body.source, 'prometheus');
      assert.equal(body.prometheus?.url, prom!.url);
      assert.ok(body.prometheus!.queries.some((q) => q.startsWith('sum by (le, stage) (increase(ofa_ve_stage_latency_seconds_bucket[')));
      assert.deepEqual(body.stages.map((s) => s.stage).sort(), [...STAGE_NAMES].sort());
      assert.equal(body.slices, null);
      assert.ok(body.end_to_end.count_a > 0 && body.end_to_end.count_b > 0, 'both halves of the load are in');
      for (const stage of body.stages) {
        assert.ok(stage.count_a > 0, `${stage.stage}: values in a`);
        assert.equal(stage.quantiles.length, 3);
      }
      // The same figure from Prometheus itself.
      const seconds = Math.round((mid - from) / 1000);
      const promP50 = await prom!.scalar(
        `histogram_quantile(0.5, sum by (le) (increase(ofa_ve_request_latency_seconds_bucket[${seconds}s])))`,
        mid,
      );
      const ours = body.end_to_end.quantiles.find((q) => q.quantile === 0.5)!.a;
      assert.ok(Math.abs(ours.value_ms! - promP50! * 1000) < 1e-6, `P50 ${ours.value_ms} ms vs PromQL ${promP50! * 1000} ms`);
      assert.ok(ours.low_ms! <= ours.value_ms! && ours.value_ms! <= (ours.high_ms ?? Infinity), 'the estimate lies in its interval');

      const slices = await getJson<PeriodComparison>(`${reader!.url}/api/v1/compare?${query}&attribute=caption_script`);
      assert.equal(slices.status, 200, JSON.stringify(slices.body.error));
      const byScriptQuery = 'sum by (le, stage, script) (increase(ofa_ve_stage_latency_seconds_bucket[';
      assert.ok(slices.body.prometheus!.queries.some((q) => q.startsWith(byScriptQuery)));
      assert.equal(slices.body.slices?.attribute, 'caption_script');
      const byScript = new Map(slices.body.slices!.slices.map((s) => [s.slice, s]));
      assert.deepEqual([...byScript.keys()].sort(), ['cjk', 'english'], 'a slice per script sent');
      for (const [script, slice] of byScript) {
        assert.deepEqual(slice.stages.map((s) => s.stage).sort(), [...STAGE_NAMES].sort(), `${script}: a row per stage`);
        assert.ok(slice.a.requests > 0 && slice.b.requests > 0, `${script}: checks in both halves`);
      }
      assert.ok(slices.body.tests > body.tests, "the slices' tests join the family");
      // The script label splits the stage histogram: the slices' counts add up to the whole's (each
      // count is increase()'s extrapolated value rounded to a whole check: one per slice either way).
      for (const stage of STAGE_NAMES) {
        const whole = slices.body.stages.find((s) => s.stage === stage)!;
        const parts = [...byScript.values()].map((s) => s.stages.find((r) => r.stage === stage)!);
        const near = (sum: number, expected: number, side: string) =>
          assert.ok(Math.abs(sum - expected) <= byScript.size, `${stage}: slices add up in ${side}: ${sum} vs ${expected}`);
        near(
          parts.reduce((n, r) => n + r.count_a, 0),
          whole.count_a,
          'a',
        );
        near(
          parts.reduce((n, r) => n + r.count_b, 0),
          whole.count_b,
          'b',
        );
      }
      const other = await getJson<PeriodComparison>(`${reader!.url}/api/v1/compare?${query}&attribute=image_size`);
      assert.equal(other.status, 400);
      assert.equal(other.body.error?.code, 'BAD_REQUEST');
      assert.match(other.body.error!.message, /only caption_script is in Prometheus/);
    });

    it('a killed replica shows up = false; a Prometheus gone is PROMETHEUS_UNAVAILABLE and the service keeps serving', async () => {
      const killed = replicas[1]!;
      killed.child.kill('SIGKILL');
      const deadline = Date.now() + 15_000;
      let row: FleetDocument['replicas'][number] | undefined;
      while (Date.now() < deadline) {
        const { body } = await getJson<FleetDocument>(`${reader!.url}/api/v1/fleet?window=${WINDOW}`);
        row = body.replicas.find((r) => r.instance === instances[1]);
        if (row?.up === false) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      assert.equal(row?.up, false, `the killed replica: ${JSON.stringify(row)}`);
      // Its checks in the window still count, in its row and in the fleet's QPS as in the quantiles:
      // every fleet figure is of the same requests. Its figures are from before it went down.
      const { body: after } = await getJson<FleetDocument>(`${reader!.url}/api/v1/fleet?window=${WINDOW}`);
      const down = after.replicas.find((r) => r.instance === instances[1])!;
      const total = sent.reduce((a, b) => a + b, 0);
      assert.equal(down.up, false);
      assert.equal(down.as_of_last_scrape, true);
      assert.ok(
        (down.qps ?? 0) * WINDOW_S >= sent[1]! * (1 - 1e-9),
        `the killed replica's QPS × window ${down.qps! * WINDOW_S} vs ${sent[1]}`,
      );
      assert.ok((after.qps.value ?? 0) * WINDOW_S >= total * (1 - 1e-9), `fleet QPS × window ${after.qps.value! * WINDOW_S} vs ${total}`);
      const at = Date.parse(after.generated_at);
      const promQps = (await prom!.scalar(after.qps.query, at)) ?? NaN;
      assert.ok(Math.abs(after.qps.value! - promQps) <= 1e-9 * promQps, `fleet QPS ${after.qps.value} vs PromQL ${promQps}`);
      // Not ranked: the one replica up has no other to be compared with, so none is "slowest".
      assert.equal(down.p90_skew, null);
      assert.deepEqual(
        after.replicas.filter((r) => r.slowest),
        [],
      );
      assert.equal(after.skew.compared_replicas, 1);

      await prom!.stop();
      const gone = await getJson<FleetDocument>(`${reader!.url}/api/v1/fleet`);
      assert.equal(gone.status, 502);
      assert.equal(gone.body.error?.code, 'PROMETHEUS_UNAVAILABLE');
      assert.match(gone.body.error!.message, new RegExp(`Prometheus at ${prom!.url.replace(/\./g, '\\.')}`));
      const health = await fetch(`${reader!.url}/healthz`);
      assert.equal(health.status, 200);
      // The operator sees it too: counted (the dashboard user alone sees the 502).
      const metrics = await (await fetch(`${reader!.url}/metrics`)).text();
      assert.match(metrics, /^ofa_ve_prometheus_query_failures_total [1-9]\d*$/m);
    });
  },
);
