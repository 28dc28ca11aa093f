/**
 * Leak check (by hand, not in CI): RSS of the service process and of its inference worker after
 * `--first` requests and again after `--total`, through the real CheckService in this process.
 * The target: RSS after 100k within 10% of RSS after 10k.
 *   node --import tsx bench/leak-check.ts [--first 10000] [--total 100000] [--concurrency 16] [--json FILE]
 * Small images keep it to the service's own work (queue, batcher, IPC, metrics, live stats); at
 * ~30 checks/s on 2 cores the default takes about an hour.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { defaultModelDir } from '../main/config.ts';
import { silentLogger } from '../main/logging/json-logger.ts';
import { ServiceRuntime } from '../main/service/service-runtime.ts';
import { rssBytes } from './support/proc-stats.ts';

const { values } = parseArgs({
  options: {
    first: { type: 'string', default: '10000' },
    total: { type: 'string', default: '100000' },
    concurrency: { type: 'string', default: '16' },
    json: { type: 'string' },
  },
});
const first = Number(values.first);
const total = Number(values.total);
const concurrency = Number(values.concurrency);

const rssMiB = (pid: number): number => (rssBytes(pid) ?? Number.NaN) / 2 ** 20;

const runtime = new ServiceRuntime({
  modelDir: defaultModelDir(),
  provider: 'cpu',
  batching: { maxBatchSize: 16, maxQueueSize: 4096 },
  logger: silentLogger,
});
await runtime.start();
const images = await Promise.all(
  Array.from({ length: 8 }, (_, i) =>
    sharp({ create: { width: 64 + i * 8, height: 48, channels: 3, background: { r: i * 30, g: 100, b: 200 } } })
      .png()
      .toBuffer(),
  ),
);
let sent = 0;
let failed = 0;
const checkpoints: { requests: number; service_rss_mib: number; worker_rss_mib: number; heap_mib: number }[] = [];
const sample = () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  checkpoints.push({
    requests: sent,
    service_rss_mib: rssMiB(process.pid),
    worker_rss_mib: rssMiB(runtime.workerHost.pid!),
    heap_mib: process.memoryUsage().heapUsed / 2 ** 20,
  });
  console.log(JSON.stringify(checkpoints.at(-1)));
};
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async (_, lane) => {
    while (sent < total) {
      const n = ++sent;
      await runtime.service.check({ image: images[(n + lane) % images.length]!, text: `caption number ${n % 97}` }).catch(() => failed++);
      if (n === first || n % 10_000 === 0) sample();
    }
  }),
);
sample();
const atFirst = checkpoints.find((c) => c.requests >= first)!;
const last = checkpoints.at(-1)!;
const result = {
  date: new Date().toISOString(),
  command: `node --expose-gc --import tsx bench/leak-check.ts --first ${first} --total ${total} --concurrency ${concurrency}`,
  seconds: (performance.now() - started) / 1000,
  failed,
  checkpoints,
  service_rss_growth: last.service_rss_mib / atFirst.service_rss_mib - 1,
  worker_rss_growth: last.worker_rss_mib / atFirst.worker_rss_mib - 1,
};
console.log(
  `service RSS ${atFirst.service_rss_mib.toFixed(1)} -> ${last.service_rss_mib.toFixed(1)} MiB (${(100 * result.service_rss_growth).toFixed(1)}%), worker RSS ${atFirst.worker_rss_mib.toFixed(1)} -> ${last.worker_rss_mib.toFixed(1)} MiB (${(100 * result.worker_rss_growth).toFixed(1)}%)`,
);
if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
await runtime.close(5000);
