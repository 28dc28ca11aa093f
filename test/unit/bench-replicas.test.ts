/**
 * `ofa-ve bench --url` given several times: the round-robin target (request i to replica i mod n,
 * under the load generator's concurrent senders too), the per-replica figures computed from the
 * samples it tags, the --url checks, and the text table's line per replica.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundRobinTarget } from '../../main/cli/bench/bench-targets.ts';
import type { NamedCheckPair } from '../../preload/wire-types.ts';
import { runStep, type CheckSample, type CheckTarget } from '../../main/cli/bench/load-generator.ts';
import { replicaUrls } from '../../main/cli/bench/remote-replicas.ts';
import { replicaFigures, replicaTable } from '../../main/cli/bench/replica-figures.ts';
import { UsageError } from '../../main/cli/exit-codes.ts';

const PAIRS: NamedCheckPair[] = ['a', 'b', 'c'].map((name) => ({ name, image: Buffer.from(name), text: `caption ${name}` }));

/** A replica that answers after `delayMs` and remembers what it was sent. */
function replica(url: string, delayMs: number, received: string[]): { url: string; target: CheckTarget } {
  return {
    url,
    target: async (pair) => {
      received.push(pair.name);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { ok: true, latencyMs: delayMs };
    },
  };
}

describe('roundRobinTarget', () => {
  it('sends request i to replica i mod n and tags each sample with its replica', async () => {
    const received: string[][] = [[], [], []];
    const target = roundRobinTarget(['http://a:1', 'http://b:2', 'http://c:3'].map((url, i) => replica(url, 0, received[i]!)));
    const tags: Array<string | undefined> = [];
    for (let i = 0; i < 7; i++) tags.push((await target(PAIRS[i % PAIRS.length]!)).replica);
    assert.deepEqual(tags, ['http://a:1', 'http://b:2', 'http://c:3', 'http://a:1', 'http://b:2', 'http://c:3', 'http://a:1']);
    assert.deepEqual(received, [
      ['a', 'a', 'a'],
      ['b', 'b'],
      ['c', 'c'],
    ]);
  });

  it('spreads a closed-loop step evenly even when one replica is slower', async () => {
    const received: string[][] = [[], [], []];
    const urls = ['http://a:1', 'http://b:2', 'http://c:3'];
    const delaysMs = [1, 5, 0];
    const target = roundRobinTarget(urls.map((url, i) => replica(url, delaysMs[i]!, received[i]!)));
    const outcome = await runStep(target, PAIRS, { concurrency: 3, durationS: 60, requests: 30, warmupS: 0 });
    assert.equal(outcome.samples.length, 30);
    assert.deepEqual(
      received.map((r) => r.length),
      [10, 10, 10],
    );
    const figures = replicaFigures(urls, outcome.samples, outcome.elapsedS);
    assert.deepEqual(
      figures.map((f) => f.requests),
      [10, 10, 10],
    );
  });

  it('refuses an empty list', () => {
    assert.throws(() => roundRobinTarget([]), /at least one replica/);
  });
});

describe('replicaFigures', () => {
  const sample = (replica: string, latencyMs: number, ok = true, code = 'OVERLOADED'): CheckSample =>
    ok ? { ok, latencyMs, replica } : { ok, code, latencyMs, replica };

  it('counts what each replica was sent, its errors, its QPS and its latency quantiles over its answers', () => {
    const samples = [
      ...[10, 20, 30, 40].map((ms) => sample('http://a:1', ms)),
      sample('http://a:1', 5, false),
      ...[100, 300].map((ms) => sample('http://b:2', ms)),
      sample('http://b:2', 1, false),
      sample('http://b:2', 1, false, 'NETWORK'),
    ];
    const [a, b, c] = replicaFigures(['http://a:1', 'http://b:2', 'http://c:3'], samples, 2);
    assert.deepEqual(a, { url: 'http://a:1', requests: 5, qps: 2, answers_qps: 2.5, p50_ms: 20, p95_ms: 40, errors: 1 });
    assert.deepEqual(b, { url: 'http://b:2', requests: 4, qps: 1, answers_qps: 1.5, p50_ms: 100, p95_ms: 300, errors: 2 });
    assert.deepEqual(c, { url: 'http://c:3', requests: 0, qps: 0, answers_qps: 0, p50_ms: null, p95_ms: null, errors: 0 });
  });

  it('counts every answer (a 503 shed or a 4xx too) in answers_qps, as the Fleet panel and Prometheus do; ok only in qps', () => {
    // 2 ok, 1 shed (503 OVERLOADED), 1 refused (400), 1 never answered: over 1 s.
    const samples = [
      sample('http://a:1', 10),
      sample('http://a:1', 20),
      sample('http://a:1', 1, false, 'OVERLOADED'),
      sample('http://a:1', 1, false, 'INVALID_IMAGE'),
      sample('http://a:1', 1, false, 'NETWORK'),
    ];
    const [a] = replicaFigures(['http://a:1'], samples, 1);
    assert.deepEqual([a!.requests, a!.qps, a!.answers_qps, a!.errors], [5, 2, 4, 3]);
  });

  it('prints a line per replica per step, named host:port', () => {
    const urls = ['http://127.0.0.1:7001', 'https://gpu-2.example:7860/ofa'];
    const replicas = replicaFigures(urls, [sample('http://127.0.0.1:7001', 12.5)], 1);
    const lines = replicaTable([{ concurrency: 1, replicas }, { concurrency: 4, replicas }, { concurrency: 8 }]).split('\n');
    assert.equal(lines.length, 2 + 4);
    assert.equal(lines[0], '| conc | replica | requests | ok/s | answers/s | P50 ms | P95 ms | errors |');
    assert.equal(lines[2], '| 1 | 127.0.0.1:7001 | 1 | 1.00 | 1.00 | 12.5 | 12.5 | 0 |');
    assert.equal(lines[3], '| 1 | gpu-2.example:7860/ofa | 0 | 0.00 | 0.00 | — | — | 0 |');
    assert.match(lines[4]!, /^\| 4 \| 127\.0\.0\.1:7001 \|/);
  });
});

describe('replicaUrls (--url, repeatable)', () => {
  it('keeps the order given and drops trailing slashes', () => {
    assert.deepEqual(replicaUrls(['http://a:1/', 'https://b:2/ofa//', 'http://c:3']), ['http://a:1', 'https://b:2/ofa', 'http://c:3']);
  });

  it('refuses a URL given twice, a non-URL and another scheme', () => {
    const twice = (err: unknown) => err instanceof UsageError && /given more than once/.test(err.message);
    assert.throws(() => replicaUrls(['http://a:1', 'http://a:1/']), twice);
    assert.throws(() => replicaUrls(['127.0.0.1:7860']), UsageError);
    assert.throws(() => replicaUrls(['localhost']), UsageError);
    assert.throws(() => replicaUrls(['ftp://a:1']), /http:\/\/ or https:\/\//);
  });
});
