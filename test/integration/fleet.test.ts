/**
 * A fleet on one machine: three real `ofa-ve serve` processes on loopback, and a real Prometheus
 * (Debian's `prometheus` on PATH; CI installs it) running deploy/prometheus-fleet.yml, which finds
 * them through file-based service discovery and evaluates deploy/rules/*.rules.yml. The config is
 * the deployed one with test intervals (1 s scrapes and evaluations), no token (loopback) and no
 * remote_write or Alertmanager.
 *
 * The test spreads a load over the replicas itself (two senders on the first, one on each other)
 * and counts what it sent to each, then checks the fleet rules and the fleet dashboard's queries:
 * - the fleet QPS (job:ofa_ve_requests:rate1m) equals the sum of what was sent. The raw counters
 *   equal it exactly; rate() over the rule's 1m window then extrapolates each replica's increase
 *   from its last scrape to the evaluation (at most that gap, over the span sampled), so QPS × 60 s
 *   lies between the count sent and that much above it (the window starts before the first scrape,
 *   at a counter of 0, so nothing is added at its start);
 * - per replica, the same, and the load skew equals each replica's share of what was sent;
 * - the fleet P90 (sum by (le) over the replicas) is the P90 of every latency the clients saw,
 *   within one histogram bucket;
 * - `ofa-ve bench --url` given three times reports per-replica figures that match each replica's
 *   own counters;
 * - killing a replica shows in `up` and in the skew panel's query (no skew for it) at once.
 * About 50 s on two cores.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { REQUEST_LATENCY_BUCKETS } from '../../main/telemetry/metric-buckets.ts';
import { startPrometheus, SKIP_WITHOUT_PROMETHEUS, type PrometheusProcess } from '../support/prometheus-process.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

/** js-yaml (a devDependency; it ships no type declarations), for the parts of deploy/ that are YAML. */
const yaml = createRequire(import.meta.url)('js-yaml') as {
  load(text: string): unknown;
  loadAll(text: string): unknown[];
  dump(value: unknown): string;
};

const DEPLOY = path.join(REPO_ROOT, 'deploy');
const JOB = 'ofa-ve';
const REPLICAS = 3;
/** Senders per replica: uneven, so that the skew has something to show. */
const SENDERS_PER_REPLICA = [2, 1, 1];
const LOAD_MS = 15_000;
const SCRAPE_S = 1;
const RULE_WINDOW_S = 60;
const CAPTIONS = ['a blue picture', 'two dogs play on the grass', 'a red car parked outside', 'a person rides a bicycle'];

/** deploy/prometheus-fleet.yml as deployed, with test intervals, the test's targets file, no token, no remote_write, no Alertmanager. */
function fleetConfig(targetsGlob: string): string {
  const config = yaml.load(readFileSync(path.join(DEPLOY, 'prometheus-fleet.yml'), 'utf8')) as {
    global: Record<string, unknown>;
    rule_files: string[];
    alerting?: unknown;
    remote_write?: unknown;
    scrape_configs: Array<Record<string, unknown> & { job_name: string; file_sd_configs?: unknown }>;
  };
  assert.ok(config.remote_write, 'the deployed config writes to a long-term store');
  delete config.remote_write;
  delete config.alerting;
  config.global.scrape_interval = `${SCRAPE_S}s`;
  config.global.scrape_timeout = '900ms';
  config.global.evaluation_interval = `${SCRAPE_S}s`;
  config.rule_files = config.rule_files.map((file) => path.join(DEPLOY, file));
  const job = config.scrape_configs.find((c) => c.job_name === JOB);
  assert.ok(job?.file_sd_configs, 'job ofa-ve finds its targets in files');
  job.scrape_interval = `${SCRAPE_S}s`;
  job.scrape_timeout = '900ms';
  delete job.authorization; // loopback replicas without --token
  job.file_sd_configs = [{ files: [targetsGlob], refresh_interval: '1s' }];
  return yaml.dump(config);
}

interface DashboardPanel {
  title: string;
  targets?: Array<{ expr?: string; legendFormat?: string }>;
  panels?: DashboardPanel[];
}

/** A fleet dashboard panel's queries, with the dashboard variables set to this job and every instance. */
function panelQueries(title: string): string[] {
  const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana', 'ofa-ve-fleet-dashboard.json'), 'utf8')) as {
    panels: DashboardPanel[];
  };
  const flat = (panels: DashboardPanel[]): DashboardPanel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  const panel = flat(dashboard.panels).find((p) => p.title === title);
  assert.ok(panel?.targets?.length, `fleet dashboard panel "${title}"`);
  return panel.targets.map((t) => (t.expr ?? '').replace(/\$\{?job\}?/g, JOB).replace(/\$\{?instance\}?/g, '.*'));
}

function bucketIndex(seconds: number): number {
  const i = REQUEST_LATENCY_BUCKETS.findIndex((upper) => seconds <= upper);
  return i < 0 ? REQUEST_LATENCY_BUCKETS.length : i;
}

/** The exact q-quantile of the values (nearest rank). */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function photo(seed: number): Promise<Buffer> {
  const background = { r: (seed * 70) % 255, g: 40 + seed * 30, b: 200 - seed * 25 };
  return sharp({ create: { width: 160 + seed * 40, height: 120 + seed * 20, channels: 3, background } })
    .png()
    .toBuffer();
}

/** What one replica answered: counts and client-side latencies (successful checks). */
interface Sent {
  answered: number;
  failed: string[];
  latenciesS: number[];
}

/** Closed-loop senders, each bound to one replica, until `until()` says stop. */
async function spreadLoad(urls: string[], sendersPerReplica: number[], images: Buffer[], until: () => boolean): Promise<Sent[]> {
  const sent: Sent[] = urls.map(() => ({ answered: 0, failed: [], latenciesS: [] }));
  let seq = 0;
  const sender = async (replica: number) => {
    for (let i = 0; i < 10_000 && !until(); i++) {
      const n = seq++;
      const body = new FormData();
      body.append('image', new Blob([new Uint8Array(images[n % images.length]!)]), 'photo.png');
      body.append('text', CAPTIONS[n % CAPTIONS.length]!);
      const started = performance.now();
      try {
        const res = await fetch(`${urls[replica]}/api/v1/check`, { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
        await res.json();
        if (res.status !== 200) sent[replica]!.failed.push(`status ${res.status}`);
        else {
          sent[replica]!.answered += 1;
          sent[replica]!.latenciesS.push((performance.now() - started) / 1000);
        }
      } catch (err) {
        sent[replica]!.failed.push((err as Error).message);
      }
    }
  };
  await Promise.all(sendersPerReplica.flatMap((count, replica) => Array.from({ length: count }, () => sender(replica))));
  return sent;
}

/** ofa_ve_request_total summed over its series, read from a replica's own /metrics. */
async function requestsServed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('ofa_ve_request_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
}

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cli = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');
    execFile(process.execPath, [cli, 'bench', ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const exitCode = (error as { code?: unknown } | null)?.code;
      resolve({ code: error ? (typeof exitCode === 'number' ? exitCode : 1) : 0, stdout, stderr });
    });
  });
}

/** Objects anywhere in the bench report that carry a `url` (the per-replica figures). */
function figuresByUrl(node: unknown, found = new Map<string, Record<string, unknown>>()): Map<string, Record<string, unknown>> {
  if (Array.isArray(node)) for (const item of node) figuresByUrl(item, found);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (typeof record.url === 'string' && Object.values(record).some((v) => typeof v === 'number')) {
      found.set(record.url.replace(/\/+$/, ''), record);
    }
    for (const value of Object.values(record)) figuresByUrl(value, found);
  }
  return found;
}

describe(
  'a fleet of three ofa-ve serve replicas behind a real Prometheus with file_sd',
  { skip: SKIP_WITHOUT_PROMETHEUS, timeout: 150_000 },
  () => {
    let dir: string;
    let replicas: ServeProcess[] = [];
    let prom: PrometheusProcess | undefined;
    let urls: string[] = [];
    let instances: string[] = [];
    /** Prometheus' start (its TSDB is new: no sample is older) and a moment after every replica's first scrape. */
    let promStartedAt = 0;
    let firstScrapeAt = 0;
    let images: Buffer[] = [];

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-fleet-'));
      replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startServe(['--access-log-rate', '0'])));
      urls = replicas.map((r) => r.url);
      instances = urls.map((u) => new URL(u).host);
      images = await Promise.all([1, 2, 3].map(photo));

      // The targets file, as a deployment would keep it (file_sd re-reads it on change).
      await mkdir(path.join(dir, 'targets'));
      await writeFile(path.join(dir, 'targets', 'ofa-ve.json'), JSON.stringify([{ targets: instances, labels: {} }], null, 2));
      const config = path.join(dir, 'prometheus.yml');
      await writeFile(config, fleetConfig(path.join(dir, 'targets', 'ofa-ve*.json')));
      promStartedAt = Date.now();
      prom = await startPrometheus(config, path.join(dir, 'data'));
      const p = prom;
      await p.waitUntil('all three replicas up', 20_000, async () =>
        (await p.scalar(`count(up{job="${JOB}"} == 1)`)) === REPLICAS ? true : undefined,
      );
      firstScrapeAt = Date.now();
      // Samples well before the load, all at 0 (the service creates its series at 0).
      await p.waitUntil('5 scrapes of each replica', 15_000, async () =>
        ((await p.scalar(`min(count_over_time(up{job="${JOB}"}[1m]))`)) ?? 0) >= 5 ? true : undefined,
      );
    });

    after(async () => {
      await prom?.stop();
      await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('fleet QPS, per-replica QPS and skew, and the fleet P90 agree with what the clients sent and saw', async (t) => {
      const p = prom!;
      const loadStart = Date.now();
      const sent = await spreadLoad(urls, SENDERS_PER_REPLICA, images, () => Date.now() - loadStart >= LOAD_MS);
      const loadEnd = Date.now();
      assert.deepEqual(
        sent.flatMap((s) => s.failed),
        [],
        'every check answered 200',
      );
      const total = sent.reduce((n, s) => n + s.answered, 0);

      // An evaluation after every replica's first scrape past the load, within the rule window of the first scrape.
      const at = await p.waitUntil('a rule evaluation after a scrape of each replica past the load', 10_000, async () => {
        const evaluated = await p.scalar(`timestamp(job:ofa_ve_requests:rate1m{job="${JOB}"})`);
        if (evaluated === undefined) return undefined;
        const te = Math.round(evaluated * 1000);
        // (timestamp() of a selector is its sample's time; of an expression such as `up == 1`, the evaluation's)
        const scraped = await p.byLabel(`timestamp(up{job="${JOB}"})`, 'instance', te);
        const up = await p.byLabel(`up{job="${JOB}"}`, 'instance', te);
        return instances.every((i) => (scraped.get(i) ?? 0) * 1000 > loadEnd && up.get(i) === 1) ? te : undefined;
      });
      assert.ok(at - promStartedAt < RULE_WINDOW_S * 1000, 'the rule window reaches back before the first scrape');
      // rate() extrapolates a replica's increase from its last sample towards the evaluation by at most
      // that gap (toEnd), over the span it sampled (from its first scrape, at or before firstScrapeAt).
      const lastScrape = await p.byLabel(`timestamp(up{job="${JOB}"})`, 'instance', at);
      const allowance = new Map(
        instances.map((i) => {
          const last = (lastScrape.get(i) ?? NaN) * 1000;
          return [i, (at - last) / (last - firstScrapeAt)];
        }),
      );
      const tolerance = Math.max(...allowance.values());
      assert.ok(tolerance < 0.1, `extrapolation allowance ${tolerance}: under 10% once the span holds over ten scrapes`);

      // The raw counters hold exactly what was sent.
      const counters = await p.byLabel(`sum by (instance) (ofa_ve_request_total{job="${JOB}"})`, 'instance', at);
      instances.forEach((instance, i) => assert.equal(counters.get(instance), sent[i]!.answered, `${instance}: counter = checks sent`));

      // Per replica and fleet QPS from the rules: × 60 s = the count sent, plus at most the extrapolation.
      const perReplica = await p.byLabel(`instance:ofa_ve_requests:rate1m{job="${JOB}"}`, 'instance', at);
      const fleet = (await p.scalar(`job:ofa_ve_requests:rate1m{job="${JOB}"}`, at)) ?? NaN;
      const fleetPanel = (await p.scalar(panelQueries('Fleet QPS')[0]!, at)) ?? NaN;
      t.diagnostic(`sent ${sent.map((s) => s.answered).join(' + ')} = ${total} checks in ${((loadEnd - loadStart) / 1000).toFixed(1)} s`);
      t.diagnostic(
        `rules at ${at - loadEnd} ms after the load: per replica × 60 s ${instances.map((i) => ((perReplica.get(i) ?? NaN) * 60).toFixed(2)).join(', ')}`,
      );
      t.diagnostic(
        `fleet QPS ${fleet.toFixed(4)} × 60 s = ${(fleet * 60).toFixed(2)} vs ${total} sent (allowed +${(tolerance * 100).toFixed(2)}%)`,
      );
      const withinExtrapolation = (value: number, count: number, allowed: number, what: string) =>
        assert.ok(
          value * RULE_WINDOW_S >= count * (1 - 1e-9) && value * RULE_WINDOW_S <= count * (1 + allowed),
          `${what}: ${value} × 60 vs ${count} (+${allowed})`,
        );
      instances.forEach((instance, i) =>
        withinExtrapolation(perReplica.get(instance) ?? NaN, sent[i]!.answered, allowance.get(instance)!, instance),
      );
      withinExtrapolation(fleet, total, tolerance, 'fleet QPS');
      const sumOfReplicas = [...perReplica.values()].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(fleet - sumOfReplicas) <= 1e-9 * fleet, "the fleet QPS is the sum of the replicas'");
      assert.equal(fleetPanel, fleet, "the dashboard's Fleet QPS reads the rule");

      // Skew: each replica's share of what was sent, over the mean share.
      const skew = await p.byLabel(panelQueries('Load skew per replica')[0]!, 'instance', at);
      const mean = total / REPLICAS;
      instances.forEach((instance, i) => {
        const expected = sent[i]!.answered / mean;
        const got = skew.get(instance) ?? NaN;
        t.diagnostic(`skew ${instance}: ${got.toFixed(4)} (sent ${expected.toFixed(4)})`);
        assert.ok(Math.abs(got - expected) <= 2 * tolerance * expected, `skew of ${instance}: ${got} vs ${expected}`);
      });

      // Fleet P90: the rule is histogram_quantile over the bucket rates summed by le, and lies within
      // one bucket of the P90 of every latency the clients measured.
      const p90 = (await p.scalar(`job:ofa_ve_request_latency_seconds:p90_rate1m{job="${JOB}"}`, at)) ?? NaN;
      const p90Panel = await p.byLabel(panelQueries('Fleet latency P50 / P90 / P99')[1]!, 'job', at);
      const direct =
        (await p.scalar(`histogram_quantile(0.9, sum by (le) (rate(ofa_ve_request_latency_seconds_bucket{job="${JOB}"}[1m])))`, at)) ?? NaN;
      const clientP90 = quantile(
        sent.flatMap((s) => s.latenciesS),
        0.9,
      );
      t.diagnostic(
        `fleet P90: rule ${(p90 * 1000).toFixed(1)} ms, clients ${(clientP90 * 1000).toFixed(1)} ms (buckets ${bucketIndex(p90)} and ${bucketIndex(clientP90)})`,
      );
      assert.ok(Math.abs(p90 - direct) <= 1e-9 * direct, `rule ${p90} = sum by (le) quantile ${direct}`);
      assert.equal(p90Panel.get(JOB), p90, "the dashboard's fleet P90 reads the rule");
      assert.ok(
        Math.abs(bucketIndex(p90) - bucketIndex(clientP90)) <= 1,
        `fleet P90 ${p90} s vs clients' ${clientP90} s: more than a bucket apart`,
      );
    });

    it("ofa-ve bench --url given once per replica reports per-replica figures that match each replica's counters", async (t) => {
      const before = await Promise.all(urls.map(requestsServed));
      const report = path.join(dir, 'bench.json');
      const args = [...urls.flatMap((u) => ['--url', u]), '--concurrency', '3', '--requests', '30', '--warmup', '0', '--json', report];
      const { code, stdout, stderr } = await runBench(args);
      t.diagnostic(`ofa-ve bench ${args.join(' ')} → exit ${code}`);
      assert.equal(code, 0, `bench exited ${code}:\n${stderr}`);
      const served = (await Promise.all(urls.map(requestsServed))).map((n, i) => n - before[i]!);
      t.diagnostic(`checks each replica served during the bench: ${served.join(', ')}`);
      assert.ok(
        served.every((n) => n > 0),
        `round-robin reached every replica: ${served.join(', ')}`,
      );
      const figures = figuresByUrl(JSON.parse(await readFile(report, 'utf8')));
      for (const [i, url] of urls.entries()) {
        const replica = figures.get(url);
        assert.ok(replica, `the report has figures for ${url}: ${JSON.stringify([...figures.keys()])}`);
        const requests = Object.entries(replica).find(
          ([k, v]) => /^(requests|count|checks|answered|sent)$/.test(k) && typeof v === 'number',
        )?.[1];
        assert.equal(requests, served[i], `${url}: the report's count is what the replica counted`);
        assert.ok(stdout.includes(new URL(url).host) || stderr.includes(new URL(url).host), `the printed report names ${url}`);
      }
    });

    it("a killed replica shows in `up` and in the skew panel's query at once", async (t) => {
      const p = prom!;
      const killed = replicas[REPLICAS - 1]!;
      const killedInstance = instances[REPLICAS - 1]!;
      killed.child.kill('SIGKILL');
      if (killed.child.exitCode === null && killed.child.signalCode === null)
        await new Promise((resolve) => killed.child.once('exit', resolve));
      const killedAt = Date.now();

      // The survivors keep taking checks while Prometheus notices.
      let stop = false;
      const load = spreadLoad(urls.slice(0, -1), [1, 1], images, () => stop || Date.now() - killedAt > 20_000);
      try {
        const up = await p.waitUntil('up 0 for the killed replica', 10_000, async () => {
          const values = await p.byLabel(`up{job="${JOB}"}`, 'instance');
          return values.get(killedInstance) === 0 ? values : undefined;
        });
        t.diagnostic(`up: ${JSON.stringify(Object.fromEntries(up))} after ${Date.now() - killedAt} ms`);
        for (const instance of instances.slice(0, -1)) assert.equal(up.get(instance), 1, `${instance} is still up`);
        const [upQuery, downQuery] = panelQueries('Replicas up');
        assert.equal(await p.scalar(upQuery!), REPLICAS - 1, 'Replicas up: up');
        assert.equal(await p.scalar(downQuery!), 1, 'Replicas up: down');

        // The skew panel: the replicas up compared with each other, none for the killed one at once.
        const skew = await p.waitUntil('the skew panel without the killed replica', 10_000, async () => {
          const values = await p.byLabel(panelQueries('Load skew per replica')[0]!, 'instance');
          return !values.has(killedInstance) && values.size === REPLICAS - 1 ? values : undefined;
        });
        t.diagnostic(`skew after the kill (${Date.now() - killedAt} ms): ${JSON.stringify(Object.fromEntries(skew))}`);
        for (const instance of instances.slice(0, -1)) assert.ok((skew.get(instance) ?? 0) > 0, `${instance} still takes load`);
        // QPS per replica counts what the killed one answered while that is in the window, as the fleet
        // latency and 5xx rules do: the fleet QPS is their sum, of the same requests.
        // A few evaluations back (ms): both rules of one evaluation, whichever is being written now.
        const at = Date.now() - 2500;
        const perReplica = await p.byLabel(panelQueries('QPS per replica')[0]!, 'instance', at);
        const fleetQps = (await p.scalar(`job:ofa_ve_requests:rate1m{job="${JOB}"}`, at)) ?? NaN;
        const summed = [...perReplica.values()].reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(fleetQps - summed) <= 1e-9 * Math.max(1, summed), `fleet QPS ${fleetQps} vs the replicas' ${summed}`);
      } finally {
        stop = true;
        const sent = await load;
        assert.deepEqual(
          sent.flatMap((s) => s.failed),
          [],
          'the survivors answered every check',
        );
      }
    });
  },
);
