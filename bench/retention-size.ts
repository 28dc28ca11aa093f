/**
 * Memory and disk of the telemetry retention at a steady rate: 15 minutes of seconds (and their
 * 10 s / 60 s aggregates with input slices) plus 24 hours of per-minute history, fed by LiveStats
 * with a fake clock (a day takes a minute or two, not a day). Also the time a whole-day comparison
 * takes. Run: node --expose-gc --import tsx bench/retention-size.ts [--hours 24] [--rate 50]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeInput, type InputAttributes } from '../main/telemetry/input-slices.ts';
import { LiveStats, type RequestSample } from '../main/telemetry/live-stats.ts';
import { writeJsonFlag } from './support/json-flag.ts';
import { seededDraws, syntheticSample } from './synthetic-checks.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const HOURS = flag('hours', 24);
const RATE = flag('rate', 50);
const T0 = 1_700_002_800_000; // an hour boundary

const draws = seededDraws(3);
const { random } = draws;
const SCRIPTS = ['english', 'english', 'english', 'cjk', 'other'] as const;
const FORMATS = ['jpeg', 'jpeg', 'jpeg', 'png', 'webp', 'gif', 'tiff'];

/** A varied mix, so every attribute has several busy slices (the memory grows with occupied cells). */
const POOL: Array<{ sample: RequestSample; attributes: InputAttributes }> = Array.from({ length: 50_000 }, (_, i) => {
  const sample = syntheticSample(i, draws, { decodeSpread: 0.5 });
  const side = [320, 640, 1280, 2560][Math.floor(random() * 4)]!;
  return {
    sample,
    attributes: {
      ...describeInput({
        imageFormat: FORMATS[i % FORMATS.length],
        captionTokens: 3 + Math.floor(random() * 40),
        imageWidth: side,
        imageHeight: side,
      }),
      captionScript: SCRIPTS[i % SCRIPTS.length],
      premise: random() < 0.2,
    },
  };
});

const gc = (globalThis as { gc?: () => void }).gc;
const memory = () => {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const dir = mkdtempSync(join(tmpdir(), 'ofa-retention-'));
let nowMs = T0;
let stats: LiveStats | undefined = new LiveStats({ now: () => nowMs, historyDir: dir, historySaveIntervalMs: 3_600_000 });
const started = performance.now();
let k = 0;
for (let s = 0; s < HOURS * 3600; s++) {
  for (let i = 0; i < RATE; i++) {
    nowMs = T0 + s * 1000 + Math.floor(((i + 0.5) * 1000) / RATE);
    const check = POOL[k++ % POOL.length]!;
    check.sample.endedAtMs = nowMs;
    check.sample.attributes = check.attributes;
    stats.record(check.sample);
  }
}
const fillSeconds = (performance.now() - started) / 1000;
const withStats = memory();
const historyBytes = (stats as unknown as { history: { storedBytes: number } }).history.storedBytes;
await stats.flush();
const files = readdirSync(dir).filter((name) => name.endsWith('.bin'));
const diskBytes = files.reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

// The day split in two halves, per slice of the caption script: the heaviest comparison there is.
const half = (HOURS * 3_600_000) / 2;
const compareStart = performance.now();
const comparison = stats.compare({ fromMs: T0, toMs: T0 + half }, { fromMs: T0 + half, toMs: nowMs }, { attribute: 'caption_script' });
const compareMs = performance.now() - compareStart;
await stats.close();
stats = undefined;
const withoutStats = memory(); // the footprint is what letting go of the instance frees
const loadStart = performance.now();
const reloaded = new LiveStats({ now: () => nowMs, historyDir: dir });
const loadMs = performance.now() - loadStart;
await reloaded.close();
rmSync(dir, { recursive: true, force: true });

const MB = 1024 * 1024;
const result = {
  command: `node --expose-gc --import tsx bench/retention-size.ts ${process.argv.slice(2).join(' ')}`.trim(),
  hours: HOURS,
  rate_per_s: RATE,
  checks: k,
  memory_mb: +((withStats - withoutStats) / MB).toFixed(1),
  history_blobs_mb: +(historyBytes / MB).toFixed(2),
  memory_note: gc
    ? 'heap + array buffers freed by dropping the LiveStats (15 min live levels + history), after GC'
    : 'run with --expose-gc for a clean figure',
  disk_mb: +(diskBytes / MB).toFixed(2),
  hour_files: files.length,
  disk_bytes_per_minute: Math.round(diskBytes / (HOURS * 60)),
  fill_s: +fillSeconds.toFixed(1),
  record_us: +((fillSeconds * 1e6) / k).toFixed(2),
  compare_two_halves_ms: +compareMs.toFixed(1),
  load_history_ms: +loadMs.toFixed(1),
  compared_requests: [comparison.a.requests, comparison.b.requests],
};
console.log(JSON.stringify(result, null, 2));
writeJsonFlag(result);
