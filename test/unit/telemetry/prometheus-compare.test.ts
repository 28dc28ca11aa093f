import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { STAGE_NAMES } from '../../../preload/wire-types.ts';
import { PrometheusClient } from '../../../main/telemetry/prometheus-client.ts';
import { comparePrometheusRanges } from '../../../main/telemetry/prometheus-compare.ts';
import * as Q from '../../../main/telemetry/prometheus-queries.ts';
import { sample, startRecordingPrometheus, type Answer, type RecordingPrometheus } from '../../support/recording-prometheus.ts';

// Nothing listens on port 9: a range that got as far as a query would fail PROMETHEUS_UNAVAILABLE instead.
const client = new PrometheusClient('http://127.0.0.1:9');
const HOUR = 3_600_000;
const now = Date.now();
const ok = { fromMs: now - 2 * HOUR, toMs: now - HOUR };

describe('comparePrometheusRanges: a range is checked before any query', () => {
  for (const [what, range, message] of [
    ['empty', { fromMs: now - HOUR, toMs: now - HOUR }, /at least one second/],
    ['backwards', { fromMs: now - HOUR, toMs: now - 2 * HOUR }, /at least one second/],
    ['longer than 30 days (an increase() over every sample kept)', { fromMs: 0, toMs: now - HOUR }, /at most 30 days/],
    ['ending in the future', { fromMs: now - HOUR, toMs: now + 10 * HOUR }, /end by now/],
  ] as const) {
    it(`${what}: a RangeError, no query sent`, async () => {
      await assert.rejects(
        comparePrometheusRanges(client, ok, range),
        (err: Error) => err instanceof RangeError && message.test(err.message),
      );
      await assert.rejects(
        comparePrometheusRanges(client, range, ok),
        (err: Error) => err instanceof RangeError && message.test(err.message),
      );
    });
  }

  it('a valid pair of ranges goes on to Prometheus (here: nothing listening)', async () => {
    await assert.rejects(comparePrometheusRanges(client, ok, { fromMs: now - HOUR, toMs: now }), { code: 'PROMETHEUS_UNAVAILABLE' });
  });
});

/** Every stage timed: english {≤0.1: 6, ≤0.5: 8, +Inf: 8} (sum 1.2 s), cjk {≤0.1: 1, ≤0.5: 4, +Inf: 5} (sum 2 s). */
function stageAnswer(path: string, query: string): Answer {
  if (path !== '/api/v1/query') return undefined;
  const starts = (expr: (w: string) => string) => query.startsWith(expr('').slice(0, expr('').indexOf('[') + 1));
  if (starts(Q.stageBucketsIncreaseByScript)) {
    return STAGE_NAMES.flatMap((stage) => [
      sample({ stage, script: 'english', le: '0.1' }, 6),
      sample({ stage, script: 'english', le: '0.5' }, 8),
      sample({ stage, script: 'english', le: '+Inf' }, 8),
      sample({ stage, script: 'cjk', le: '0.1' }, 1),
      sample({ stage, script: 'cjk', le: '0.5' }, 4),
      sample({ stage, script: 'cjk', le: '+Inf' }, 5),
    ]);
  }
  if (starts(Q.stageSumIncreaseByScript)) {
    return STAGE_NAMES.flatMap((stage) => [sample({ stage, script: 'english' }, 1.2), sample({ stage, script: 'cjk' }, 2)]);
  }
  if (starts(Q.latencyBucketsIncrease)) return [sample({ le: '1' }, 13), sample({ le: '+Inf' }, 13)];
  if (starts(Q.latencySumIncrease)) return [sample({}, 6.5)];
  if (starts(Q.requestsByStatusIncrease)) return [sample({ status_code: '200' }, 13)];
  return undefined;
}

describe('comparePrometheusRanges with attribute=caption_script', () => {
  let prom: RecordingPrometheus;
  before(async () => {
    prom = await startRecordingPrometheus(stageAnswer);
  });
  after(() => prom.close());

  it('reads the stage histograms once per range (per stage × script) and sums the stages in-app', async () => {
    const b = { fromMs: now - HOUR, toMs: now };
    const c = await comparePrometheusRanges(new PrometheusClient(prom.url), ok, b, 'caption_script');
    // 5 queries per range: stage buckets and sums per script, end-to-end buckets and sum, answers by status
    // (besides, the scrape interval's lookup: the jobs scraping the service and /api/v1/targets).
    const rangeQueries = prom.queries.filter((q) => q.query.includes('increase('));
    assert.equal(rangeQueries.length, 10, prom.queries.map((q) => q.query).join('\n'));
    assert.ok(!prom.queries.some((q) => q.query.startsWith('sum by (le, stage) (')), 'no per-stage bucket query');
    // The per-stage figures' PromQL is still listed: it gives the same figures in Prometheus.
    // The hour rounded inward to whole seconds (this stand-in tells no scrape interval).
    const window = `${Math.floor(ok.toMs / 1000) - Math.ceil(ok.fromMs / 1000)}s`;
    assert.ok(c.prometheus!.queries.includes(Q.stageBucketsIncrease(window)));
    assert.ok(c.prometheus!.queries.includes(Q.stageBucketsIncreaseByScript(window)));
    for (const stage of c.stages) {
      // 8 + 5 checks per stage; mean (1.2 + 2) s / 13; P50 = rank 6.5 of {≤0.1: 7, ≤0.5: 12, +Inf: 13}.
      assert.deepEqual([stage.count_a, stage.count_b], [13, 13], stage.stage);
      assert.ok(Math.abs(stage.mean.a_ms! - 3200 / 13) < 1e-9, `${stage.stage} mean ${stage.mean.a_ms}`);
      assert.ok(Math.abs(stage.quantiles[0]!.a.value_ms! - 0.1 * (6.5 / 7) * 1000) < 1e-9, `${stage.stage} P50`);
    }
    const slices = new Map(c.slices!.slices.map((s) => [s.slice, s]));
    assert.deepEqual([...slices.keys()], ['english', 'cjk']);
    assert.equal(slices.get('english')!.stages[0]!.count_a, 8);
    assert.equal(slices.get('cjk')!.stages[0]!.count_a, 5);
  });
});

/**
 * A stand-in Prometheus with a targets API: the ofa-ve job scraped every `intervalS` (and a node job
 * every minute, not this service's), or no targets API at all (as Thanos or Mimir may answer). Every
 * instant query it gets is recorded with its evaluation time; figures as stageAnswer gives them.
 */
async function startScrapingPrometheus(intervalS: number | null): Promise<{ url: string; asked: string[]; close(): Promise<void> }> {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/api/v1/targets') {
        if (intervalS === null) return json(404, { status: 'error', errorType: 'not_found', error: 'no targets here' });
        const activeTargets = [
          { labels: { job: 'ofa-ve', instance: 'a:1' }, scrapeInterval: `${intervalS}s` },
          { labels: { job: 'node', instance: 'a:9100' }, scrapeInterval: '1m' },
        ];
        return json(200, { status: 'success', data: { activeTargets } });
      }
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const query = params.get('query') ?? '';
      asked.push(`${params.get('time')} ${query}`);
      const result = query.startsWith('count by (job) (') ? [sample({ job: 'ofa-ve' }, 1)] : stageAnswer(path, query);
      if (!result) return json(400, { status: 'error', errorType: 'bad_data', error: `unexpected query ${query}` });
      json(200, { status: 'success', data: { resultType: 'vector', result } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, asked, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('comparePrometheusRanges: whole scrape intervals, the resolution Prometheus has, counts as estimates', () => {
  // A 15 s grid point two hours back; the marks fall between scrapes (…:00.633, as a user's mark does).
  const base = Math.floor((now - 2 * HOUR) / 15_000) * 15_000;
  const mark = base + 600_633;
  const a = { fromMs: base + 633, toMs: mark };
  const b = { fromMs: mark, toMs: base + 1_200_100 };
  const iso = (ms: number) => new Date(ms).toISOString();

  it('rounds each range inward to the scrape interval: B starts after its mark, never in A; resolution_s is the interval', async () => {
    const prom = await startScrapingPrometheus(15);
    try {
      const c = await comparePrometheusRanges(new PrometheusClient(prom.url), a, b, 'caption_script');
      assert.deepEqual([c.a.from, c.a.to, c.a.resolution_s], [iso(base + 15_000), iso(base + 600_000), 15]);
      assert.deepEqual([c.b.from, c.b.to, c.b.resolution_s], [iso(base + 615_000), iso(base + 1_200_000), 15]);
      assert.ok(Date.parse(c.b.from) >= mark && Date.parse(c.a.to) <= mark, 'neither range reaches over the mark');
      assert.equal(c.counts_estimated, true);
      assert.match(c.method, /counts are estimates/);
      // increase() over whole intervals, evaluated on the grid.
      assert.ok(c.prometheus!.queries.includes(Q.latencyBucketsIncrease('585s')), c.prometheus!.queries.join('\n'));
      const times = new Set(prom.asked.filter((q) => q.includes('increase(')).map((q) => q.split(' ')[0]));
      assert.deepEqual([...times].sort(), [((base + 600_000) / 1000).toFixed(3), ((base + 1_200_000) / 1000).toFixed(3)]);
    } finally {
      await prom.close();
    }
  });

  it('reads the same scrapes when the same range is asked again, or "to now" a moment later', async () => {
    const prom = await startScrapingPrometheus(15);
    try {
      const client = new PrometheusClient(prom.url);
      // The figures' queries and their evaluation times (the interval's lookup is asked at the later end as given).
      const reads = () =>
        prom.asked
          .splice(0)
          .filter((q) => q.includes('increase('))
          .sort();
      const first = await comparePrometheusRanges(client, a, b, 'caption_script');
      const readFirst = reads();
      const again = await comparePrometheusRanges(client, a, b, 'caption_script');
      assert.deepEqual(reads(), readFirst);
      const later = await comparePrometheusRanges(client, a, { ...b, toMs: b.toMs + 9_000 }, 'caption_script');
      assert.deepEqual(reads(), readFirst);
      assert.deepEqual([again.a, again.b], [first.a, first.b]);
      assert.deepEqual([later.a, later.b], [first.a, first.b]);
    } finally {
      await prom.close();
    }
  });

  it('without a targets API (Thanos, Mimir) the resolution is unknown (null), the ranges whole seconds', async () => {
    const prom = await startScrapingPrometheus(null);
    try {
      const c = await comparePrometheusRanges(new PrometheusClient(prom.url), a, b, 'caption_script');
      assert.deepEqual([c.a.resolution_s, c.b.resolution_s], [null, null]);
      assert.deepEqual(
        [c.a.from, c.a.to, c.b.from, c.b.to],
        [iso(base + 1000), iso(base + 600_000), iso(base + 601_000), iso(base + 1_200_000)],
      );
    } finally {
      await prom.close();
    }
  });

  it('refuses a range that holds no whole scrape interval, naming it', async () => {
    const prom = await startScrapingPrometheus(15);
    try {
      const short = { fromMs: mark, toMs: mark + 10_000 };
      await assert.rejects(comparePrometheusRanges(new PrometheusClient(prom.url), a, short, 'caption_script'), (err: Error) => {
        return err instanceof RangeError && /whole 15 s step/.test(err.message);
      });
    } finally {
      await prom.close();
    }
  });
});
