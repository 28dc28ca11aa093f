import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Logger } from '../../../main/logging/json-logger.ts';
import { decodeHourFile, encodeHourFile, HistoryFiles, MAX_ASIDE_FILES } from '../../../main/telemetry/history-files.ts';
import { LiveStats, type LiveStatsOptions } from '../../../main/telemetry/live-stats.ts';
import {
  checkPackedMinute,
  decodeMinuteInto,
  encodeMinute,
  packMinute,
  sliceRecordOfTotals,
} from '../../../main/telemetry/minute-history.ts';
import { PeriodTotals } from '../../../main/telemetry/period-totals.ts';
import { DurationSketch, mergedQuantiles, SketchSum } from '../../../main/telemetry/quantile-sketch.ts';
import { ByteReader, ByteWriter, CorruptDataError, readSketch, writeSketch } from '../../../main/telemetry/sketch-codec.ts';
import { uniform01 } from '../../../models/tools/seeded-random.ts';
import { checkMix, Clock, drive } from './check-mix.ts';

const T0 = 1_700_001_900_000; // a quarter of an hour before an hour boundary
const HOUR_MS = 3_600_000;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ofa-history-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  return { lines, log: (level, msg, fields) => lines.push({ level, msg, fields }) };
}

function statsAt(clock: Clock, dir: string, extra: Partial<LiveStatsOptions> = {}): LiveStats {
  return new LiveStats({ now: clock.now, historyDir: dir, ...extra });
}

describe('sketch codec', () => {
  it('a sketch written and read back gives the same quantiles, count, zeros and sum', () => {
    const sketch = new DurationSketch();
    const random = uniform01(77);
    for (let i = 0; i < 5000; i++) sketch.add(i % 97 === 0 ? 0 : Math.exp(6 * random() - 2));
    sketch.add(3_600_000);
    const w = new ByteWriter();
    writeSketch(w, sketch.data);
    writeSketch(w, null);
    const r = new ByteReader(w.finish());
    const sum = new SketchSum();
    readSketch(r, sum);
    readSketch(r, null);
    assert.ok(r.done);
    const qs = [0, 0.1, 0.5, 0.9, 0.99, 1];
    assert.deepEqual(mergedQuantiles([sum.data], qs), mergedQuantiles([sketch.data], qs));
    assert.equal(sum.count, sketch.data.count);
    assert.equal(sum.zeroCount, sketch.data.zeroCount);
    assert.equal(sum.sum, sketch.data.sum);
  });

  it('damage is reported, not half-read', () => {
    const sketch = new DurationSketch();
    for (let i = 1; i < 300; i++) sketch.add(i);
    const w = new ByteWriter();
    writeSketch(w, sketch.data);
    const bytes = w.finish();
    assert.throws(() => readSketch(new ByteReader(bytes.subarray(0, bytes.length - 3)), null), CorruptDataError);
    const flipped = bytes.slice();
    flipped[bytes.length - 1] = 0x05; // a count no longer adds up to the total
    assert.throws(() => readSketch(new ByteReader(flipped), null), CorruptDataError);
  });

  it('a minute blob holds every slice: decoding sums exactly what was encoded', () => {
    const clock = new Clock(T0 - 1);
    const stats = new LiveStats({ now: clock.now });
    const checks = drive((s) => stats.record(s), clock, checkMix(5), 60, 20);
    clock.ms = T0 + 61_000; // the minute ended: it is in the history
    const c = stats.compare({ fromMs: T0, toMs: T0 + 60_000 }, { fromMs: T0, toMs: T0 + 60_000 }, { attribute: 'image_size' });
    assert.equal(c.a.requests, checks.length);
    const bySize = new Map<string, number>();
    for (const check of checks) {
      const slice = check.attributes.imagePixels! > 1_000_000 ? '1-4MP' : '0.25-1MP';
      bySize.set(slice, (bySize.get(slice) ?? 0) + 1);
    }
    assert.deepEqual(new Map(c.slices!.slices.map((s) => [s.slice, s.a.requests])), bySize);
    // A blob re-encoded from its own decoding is byte for byte the same.
    const totals = new PeriodTotals([0, 1, 2, 3, 4]);
    const blob = encodeMinute(
      {
        requests: 3,
        clientErrors: 1,
        serverErrors: 1,
        latency: sketchOf([5, 7]),
        stages: [sketchOf([1]), null, null, sketchOf([4]), null],
      },
      (a, v) =>
        a === 0 && v === 1
          ? {
              requests: 1,
              clientErrors: 0,
              serverErrors: 0,
              latency: sketchOf([7]),
              stageMoments: [null, { count: 2, sum: 3, m2: 0.5 }, null, null, null],
            }
          : null,
    );
    decodeMinuteInto(blob, totals);
    assert.deepEqual(totals.slices[0]![1]!.momentsOfStages()[1], { count: 2, sum: 3, m2: 0.5 });
    assert.deepEqual(
      encodeMinute(totals.overall, (a, v) => {
        const cell = totals.slices[a]![v];
        return cell ? sliceRecordOfTotals(cell) : null;
      }),
      blob,
    );
  });
});

function sketchOf(values: number[]) {
  const sketch = new DurationSketch();
  for (const v of values) sketch.add(v);
  return sketch.data;
}

describe('minute history on disk', () => {
  it('survives a restart: the same comparison before and after, marks included, one file per hour', async () => {
    const dir = tempDir();
    const clock = new Clock(T0 - 1);
    const stats = statsAt(clock, dir);
    drive((s) => stats.record(s), clock, checkMix(9), 30 * 60, 4);
    stats.addMark('before deploy', T0 + 15 * 60_000);
    stats.addMark('model: ofa-ve-large 1.0', T0 + 20 * 60_000, 'model-change');
    clock.ms = T0 + HOUR_MS; // everything is an hour old: read from the minutes
    const a = { fromMs: T0, toMs: T0 + 15 * 60_000 };
    const b = { fromMs: T0 + 15 * 60_000, toMs: T0 + 30 * 60_000 };
    const before = stats.compare(a, b, { attribute: 'caption_script' });
    await stats.close();
    assert.ok(
      readdirSync(dir).every((name) => /^minutes-\d+\.bin$|^marks\.json$/.test(name)),
      readdirSync(dir).join(' '),
    );
    assert.equal(readdirSync(dir).filter((name) => name.endsWith('.bin')).length, 2, 'half an hour across an hour boundary');

    const restarted = statsAt(clock, dir);
    assert.deepEqual(restarted.compare(a, b, { attribute: 'caption_script' }), before);
    assert.deepEqual(
      restarted.marks().map((m) => [m.name, m.kind]),
      [
        ['before deploy', 'user'],
        ['model: ofa-ve-large 1.0', 'model-change'],
      ],
    );
    await restarted.close();
  });

  it('a restart within a minute adds to what was saved of it, never counting it twice', async () => {
    const dir = tempDir();
    const clock = new Clock(T0 - 1);
    const first = statsAt(clock, dir);
    drive((s) => first.record(s), clock, checkMix(1), 20, 10); // seconds 0..19 of the minute
    await first.close(); // saves the minute in progress
    const second = statsAt(clock, dir);
    drive((s) => second.record(s), clock, checkMix(2), 20, 10); // seconds 20..39
    clock.ms = T0 + 60_000 + 500;
    second.record({ id: 'x', endedAtMs: clock.ms, latencyMs: 5, statusCode: 200, resultType: 'YES' }); // the minute ends
    clock.ms = T0 + HOUR_MS;
    const range = { fromMs: T0, toMs: T0 + 60_000 };
    assert.equal(second.compare(range, range).a.requests, 400);
    await second.close();
    assert.equal(statsAt(clock, dir).compare(range, range).a.requests, 400);
  });

  it('a damaged or old-format file is set aside with a warning and the rest is read', async () => {
    const dir = tempDir();
    const clock = new Clock(T0 - 1);
    const stats = statsAt(clock, dir);
    drive((s) => stats.record(s), clock, checkMix(3), 2 * 3600, 1); // two hours: three hour files
    await stats.close();
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.bin'))
      .sort();
    assert.equal(files.length, 3);
    // One truncated, one from another format version.
    const damaged = join(dir, files[0]!);
    writeFileSync(damaged, readFileSync(damaged).subarray(0, 100));
    const old = join(dir, files[1]!);
    const bytes = readFileSync(old);
    bytes.writeUInt32LE(0, 8);
    writeFileSync(old, bytes);
    writeFileSync(join(dir, 'marks.json'), '{"format":1,"marks":[{"name":');

    const logger = recordingLogger();
    const restarted = statsAt(clock, dir, { logger });
    const warnings = logger.lines.filter((l) => l.msg === 'telemetry history file set aside');
    assert.deepEqual(warnings.map((w) => w.fields!.reason).sort(), ['corrupt', 'corrupt', 'old-format']);
    const names = readdirSync(dir);
    assert.ok(names.some((n) => n.startsWith(`${files[0]}.corrupt-`)));
    assert.ok(names.some((n) => n.startsWith(`${files[1]}.old-format-`)));
    assert.ok(names.includes(files[2]!), 'the good file stays');
    assert.deepEqual(restarted.marks(), []);
    // Minutes saved just before the restart are read from the history, though they are recent.
    const recent = { fromMs: clock.ms - 10 * 60_000, toMs: clock.ms };
    const recentComparison = restarted.compare(recent, recent);
    assert.equal(recentComparison.a.resolution_s, 60);
    assert.ok(recentComparison.a.requests >= 9 * 60);
    // The third hour file's minutes are still there.
    const lastHour = Number(/\d+/.exec(files[2]!)![0]);
    const range = { fromMs: lastHour * HOUR_MS, toMs: T0 + 2 * HOUR_MS };
    assert.ok(restarted.compare(range, range).a.requests > 0);
    await restarted.close();
  });

  it('keeps at most a few set-aside files', async () => {
    const dir = tempDir();
    for (let i = 0; i < MAX_ASIDE_FILES + 3; i++) writeFileSync(join(dir, `minutes-${i}.bin.corrupt-${1000 + i}`), 'x');
    writeFileSync(join(dir, 'marks.json.tmp'), 'half a write');
    const stats = statsAt(new Clock(T0), dir);
    const names = readdirSync(dir);
    assert.equal(names.filter((n) => n.includes('.corrupt-')).length, MAX_ASIDE_FILES);
    assert.ok(!names.includes('marks.json.tmp'), 'a leftover temporary file is removed');
    await stats.close();
  });

  it('makes a missing folder and its parents; a folder that cannot be made is reported, without hanging', () => {
    const nested = join(tempDir(), 'a', 'b');
    assert.deepEqual(
      new HistoryFiles(nested).load(() => {}),
      { minutes: [], marks: [] },
    );
    assert.ok(existsSync(nested));
    // /proc refuses new entries with ENOENT, on which Node 20's recursive mkdir spins for ever.
    const logged: string[] = [];
    const logger: Logger = { log: (_level, msg) => logged.push(msg) };
    assert.deepEqual(
      new HistoryFiles('/proc/ofa-ve-no-such/history', logger).load(() => {}),
      { minutes: [], marks: [] },
    );
    assert.deepEqual(logged, ['telemetry history folder unusable']);
  });

  it('drops minutes, hour files and marks past the retention', async () => {
    const dir = tempDir();
    const clock = new Clock(T0 - 1);
    const stats = statsAt(clock, dir, { historyMinutes: 120 });
    drive((s) => stats.record(s), clock, checkMix(4), 600, 1);
    stats.addMark('old', T0);
    await stats.flush();
    assert.equal(readdirSync(dir).filter((n) => n.endsWith('.bin')).length, 1);
    clock.ms = T0 + 3 * HOUR_MS;
    stats.record({ id: 'now', endedAtMs: clock.ms, latencyMs: 3, statusCode: 200, resultType: 'NO' });
    clock.ms += 60_000;
    stats.record({ id: 'later', endedAtMs: clock.ms, latencyMs: 3, statusCode: 200, resultType: 'NO' });
    assert.deepEqual(stats.marks(), []);
    assert.throws(() => stats.compare({ fromMs: T0, toMs: T0 + 600_000 }, { fromMs: T0, toMs: T0 + 600_000 }), /history/);
    await stats.close();
    const bins = readdirSync(dir).filter((n) => n.endsWith('.bin'));
    assert.deepEqual(bins, [`minutes-${Math.floor((T0 + 3 * HOUR_MS) / HOUR_MS)}.bin`]);
  });

  it('an hour file checks its minutes: one outside the hour is damage', () => {
    const refused = { requests: 1, clientErrors: 1, serverErrors: 0, latency: null, stages: [null, null, null, null, null] };
    const blob = encodeMinute(refused, () => null);
    const packed = packMinute(blob);
    const file = encodeHourFile([[120, packed]]);
    assert.deepEqual(decodeHourFile(file, 2, checkPackedMinute), [[120, packed]]);
    assert.throws(() => checkPackedMinute(packed.subarray(0, 5)));
    assert.throws(() => decodeHourFile(file, 3, () => {}), CorruptDataError);
  });
});

describe('marks', () => {
  it('validates name, time and kind', () => {
    const stats = new LiveStats({ now: () => T0 });
    assert.deepEqual(stats.addMark('  before deploy ', T0 - 5), { name: 'before deploy', at_ms: T0 - 5, kind: 'user' });
    assert.throws(() => stats.addMark('   '), RangeError);
    assert.throws(() => stats.addMark('x'.repeat(201)), RangeError);
    assert.throws(() => stats.addMark('x', Number.NaN), RangeError);
    assert.throws(() => stats.addMark('x', T0, 'deploy' as never), RangeError);
    assert.equal(stats.marks().length, 1);
  });
});
