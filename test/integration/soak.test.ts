/**
 * Soak: steady moderate load (4 clients, each sending its next check as soon as the previous one is
 * answered; mostly valid checks, some JSON, some bad input so error paths soak too) against the real
 * `ofa-ve serve`, sampling every 5 s:
 * - the server's resident memory (/proc/PID/status VmRSS) and its inference worker's;
 * - the JavaScript heap in use right after a full GC (nodejs_heap_size_used_bytes from /metrics;
 *   the server is started with test/support/gc-on-signal.mjs preloaded, and SIGUSR2 before each
 *   sample collects the garbage, which otherwise piles up between major GCs like a leak would);
 * - open file descriptors (process_open_fds from /metrics).
 * The first third of the run is warm-up. No sustained growth: the median of the last third is within
 * 15% of the median of the middle third for memory, and within +10 for descriptors. Also: no 5xx,
 * every request answered, and the counter equals the requests sent.
 *
 * Duration: SOAK_SECONDS (default 120, what CI runs). By hand, for half an hour:
 *   SOAK_SECONDS=1800 node --import tsx --test --test-timeout=2000000 test/integration/soak.test.ts
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { uniform01 } from '../../models/tools/seeded-random.ts';
import { childPids, HAS_PROC, mib, rssBytes } from '../../bench/support/proc-stats.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { requestTotals } from '../support/service-harness.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const SAMPLE_EVERY_MS = 5_000;
const CONCURRENCY = 4;
const MEMORY_GROWTH_LIMIT = 0.15;
const FD_GROWTH_LIMIT = 10;
const GC_ON_SIGNAL = path.join(REPO_ROOT, 'test', 'support', 'gc-on-signal.mjs');

interface Sample {
  t: number;
  rss?: number;
  workerRss?: number;
  heapUsed: number;
  fds: number;
  requests: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function metric(exposition: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition);
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

/** [middle third, last third] of the samples (the first third is warm-up). */
function thirds<T>(samples: T[]): [T[], T[]] {
  const third = Math.floor(samples.length / 3);
  return [samples.slice(third, 2 * third), samples.slice(samples.length - third)];
}

describe(`soak: ${SOAK_SECONDS} s of steady load at concurrency ${CONCURRENCY} against ofa-ve serve`, () => {
  let server: ServeProcess;
  let images: { good: Buffer[]; bad: Buffer[] };

  before(async () => {
    const make = (w: number, h: number, r: number) =>
      sharp({ create: { width: w, height: h, channels: 3, background: { r, g: 120, b: 255 - r } } });
    images = {
      good: [
        await make(64, 48, 10).png().toBuffer(),
        await make(320, 240, 90).jpeg().toBuffer(),
        await make(100, 100, 200).webp().toBuffer(),
      ],
      bad: [
        Buffer.from('not an image at all'),
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
        (await make(64, 48, 10).png().toBuffer()).subarray(0, 100),
      ],
    };
    server = await startServe([], {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(GC_ON_SIGNAL).href}`.trim(),
    });
  });
  after(async () => server?.stop());

  it('shows no sustained growth of memory, heap or open descriptors', { timeout: (SOAK_SECONDS + 120) * 1000 }, async (t) => {
    assert.ok(SOAK_SECONDS >= 3 * (SAMPLE_EVERY_MS / 1000) * 2, 'SOAK_SECONDS leaves at least two samples per third');
    const url = server.url;
    const pid = server.child.pid!;
    const workerPid = HAS_PROC ? childPids(pid)[0] : undefined;
    const byStatus = new Map<number, number>();
    const failures: string[] = [];
    let sent = 0;
    const deadline = performance.now() + SOAK_SECONDS * 1000;

    const client = async (c: number): Promise<void> => {
      const random = uniform01(0x50a4 + c);
      while (performance.now() < deadline && failures.length < 10) {
        const roll = random();
        const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)] as T;
        let init: RequestInit;
        if (roll < 0.8 || roll >= 0.97) {
          const body = new FormData();
          body.append('image', new Blob([new Uint8Array(roll < 0.8 ? pick(images.good) : pick(images.bad))]), 'image.bin');
          body.append('text', roll < 0.8 ? pick(['a dog on the grass', 'a red car', 'two people walking']) : pick(['', 'a dog']));
          init = { method: 'POST', body };
        } else if (roll < 0.9) {
          init = {
            method: 'POST',
            body: JSON.stringify({ image: pick(images.good).toString('base64'), text: 'a cat on a sofa', premise: 'an animal indoors' }),
            headers: { 'content-type': 'application/json' },
          };
        } else {
          init = { method: 'POST', body: 'text=a+dog', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
        }
        sent += 1;
        try {
          const res = await fetch(`${url}/api/v1/check`, { ...init, signal: AbortSignal.timeout(30_000) });
          await res.arrayBuffer();
          byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
          if (res.status >= 500) failures.push(`status ${res.status}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };

    const samples: Sample[] = [];
    const started = performance.now();
    const sample = async (): Promise<void> => {
      // A full GC first (test/support/gc-on-signal.mjs), so the heap is what is retained.
      process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 300));
      const metrics = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      samples.push({
        t: Math.round((performance.now() - started) / 1000),
        rss: HAS_PROC ? rssBytes(pid) : metric(metrics, 'process_resident_memory_bytes'),
        workerRss: workerPid === undefined ? undefined : rssBytes(workerPid),
        heapUsed: metric(metrics, 'nodejs_heap_size_used_bytes'),
        fds: metric(metrics, 'process_open_fds'),
        requests: requestTotals(metrics).total,
      });
    };
    const sampler = (async () => {
      // On a fixed cadence: sample k is taken at k × SAMPLE_EVERY_MS, however long the previous took.
      for (let k = 1; started + k * SAMPLE_EVERY_MS <= deadline; k++) {
        await new Promise((r) => setTimeout(r, Math.max(0, started + k * SAMPLE_EVERY_MS - 300 - performance.now())));
        await sample();
      }
    })();
    await Promise.all([...Array.from({ length: CONCURRENCY }, (_, c) => client(c)), sampler]);

    const lines = samples.map(
      (s) =>
        `t=${String(s.t).padStart(4)} s  rss ${mib(s.rss)}  worker ${mib(s.workerRss)}  heap ${mib(s.heapUsed)}  fds ${s.fds}  requests ${s.requests}`,
    );
    t.diagnostic(`samples:\n${lines.join('\n')}`);
    t.diagnostic(`${sent} requests, by status ${JSON.stringify(Object.fromEntries(byStatus))}`);

    assert.deepEqual(failures, [], 'every request answered, none with 5xx');
    assert.equal(server.child.exitCode, null, 'the server is still running');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const total = requestTotals(await (await fetch(`${url}/metrics`)).text()).total;
    assert.equal(total, sent, 'ofa_ve_request_total = requests sent');

    assert.ok(samples.length >= 6, `enough samples (${samples.length})`);
    const [middle, last] = thirds(samples);
    const growth = (pick: (s: Sample) => number | undefined, name: string): void => {
      const a = middle.map(pick).filter((x): x is number => x !== undefined);
      const b = last.map(pick).filter((x): x is number => x !== undefined);
      if (a.length === 0 || b.length === 0) return t.diagnostic(`${name}: not measured here`);
      const [m1, m2] = [median(a), median(b)];
      t.diagnostic(
        `${name}: median of the middle third ${mib(m1)}, of the last third ${mib(m2)} (${(((m2 - m1) / m1) * 100).toFixed(1)}%)`,
      );
      assert.ok(m2 <= m1 * (1 + MEMORY_GROWTH_LIMIT), `${name} grew from ${mib(m1)} to ${mib(m2)} (limit ${MEMORY_GROWTH_LIMIT * 100}%)`);
    };
    growth((s) => s.rss, 'server RSS');
    growth((s) => s.workerRss, 'worker RSS');
    growth((s) => s.heapUsed, 'server heap used');
    const [fdMiddle, fdLast] = [median(middle.map((s) => s.fds)), median(last.map((s) => s.fds))];
    t.diagnostic(`open fds: median of the middle third ${fdMiddle}, of the last third ${fdLast}`);
    assert.ok(fdLast <= fdMiddle + FD_GROWTH_LIMIT, `open descriptors grew from ${fdMiddle} to ${fdLast}`);
  });
});
