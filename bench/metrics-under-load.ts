/**
 * /metrics latency while the model is saturated, measured as Prometheus sees it: the server
 * (`ofa-ve serve`), the load (16 concurrent checks, its own process) and the scraper (this process)
 * are three processes. Run: node --import tsx bench/metrics-under-load.ts [serve flags...]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantile } from '../main/cli/bench/bench-stats.ts';
import { startServe } from './support/serve-process.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCRAPES = Number(process.env.SCRAPES ?? 200);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);

/** The load generator, run as its own Node process so it does not share this event loop. */
const LOAD_SCRIPT = `
const sharp = require('sharp');
const [url, concurrency] = process.argv.slice(1);
(async () => {
  const img = await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toBuffer();
  let sent = 0, ok = 0;
  const one = async () => { for (;;) { const fd = new FormData(); fd.append('image', new Blob([img], { type: 'image/png' }), 'a.png'); fd.append('text', 'a blue square'); const r = await fetch(url + '/api/v1/check', { method: 'POST', body: fd }); await r.arrayBuffer(); sent++; if (r.status === 200) ok++; } };
  setInterval(() => process.stdout.write(JSON.stringify({ sent, ok }) + '\\n'), 1000).unref();
  await Promise.all(Array.from({ length: Number(concurrency) }, one));
})();`;

/** Nearest-rank quantile of sorted values, as ofa-ve bench reports them. */
const q = (sorted: number[], p: number): number => quantile(sorted, p) ?? NaN;

const jsonArg = process.argv.indexOf('--json');
const jsonFile = jsonArg > 0 ? process.argv[jsonArg + 1] : undefined;
const serveFlags = process.argv.slice(2).filter((_, i, all) => all[i] !== '--json' && all[i - 1] !== '--json');
const serve = await startServe(['--provider', 'cpu', ...serveFlags]);
const url = serve.url;
const idle: number[] = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  await (await fetch(`${url}/metrics`)).text();
  idle.push(performance.now() - t0);
}
const load = spawn(process.execPath, ['-e', LOAD_SCRIPT, url, String(CONCURRENCY)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let progress = { sent: 0, ok: 0 };
load.stdout!.on('data', (d) => {
  const last = String(d).trim().split('\n').pop();
  if (last) progress = JSON.parse(last) as typeof progress;
});
await new Promise((r) => setTimeout(r, 3000)); // reach saturation
const before = progress.sent;
const t0 = performance.now();
const times: number[] = [];
for (let i = 0; i < SCRAPES; i++) {
  const s = performance.now();
  const res = await fetch(`${url}/metrics`);
  await res.text();
  times.push(performance.now() - s);
  await new Promise((r) => setTimeout(r, 25));
}
const qps = ((progress.sent - before) * 1000) / (performance.now() - t0);
load.kill();
await serve.stop();
times.sort((a, b) => a - b);
idle.sort((a, b) => a - b);
const result = {
  date: new Date().toISOString(),
  command: `node --import tsx bench/metrics-under-load.ts ${serveFlags.join(' ')}`.trim(),
  concurrency: CONCURRENCY,
  scrapes: SCRAPES,
  serve_flags: serveFlags.join(' '),
  idle_median_ms: +q(idle, 0.5).toFixed(2),
  loaded_median_ms: +q(times, 0.5).toFixed(2),
  loaded_p90_ms: +q(times, 0.9).toFixed(2),
  loaded_p99_ms: +q(times, 0.99).toFixed(2),
  loaded_max_ms: +q(times, 1).toFixed(2),
  checks_per_s_during: +qps.toFixed(1),
  ok: progress.ok,
};
console.log(JSON.stringify(result));
if (jsonFile) (await import('node:fs')).writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
