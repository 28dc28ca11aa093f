/**
 * The minute history on disk, in a folder of its own: `minutes-<epoch hour>.bin`, one per hour, and
 * `marks.json`. Every write goes to a temporary file that is synced and then renamed over the old
 * one, so a crash leaves the old file or the new one, never half of either.
 *
 * Hour file: 8-byte magic, format version (u32 LE), layout fingerprint (u32: stages, slices and the
 * sketches' accuracy; a file from a build that sliced differently cannot be read as this one's),
 * CRC-32 of the body (u32), body: minute count, then per minute its number and packed blob (varints).
 *
 * Nothing here is fatal: a file that is damaged (bad magic, checksum or content) or from another
 * format is renamed aside (`….corrupt-<ms>` / `….old-format-<ms>`) with a warning and the app goes
 * on without it; at most `MAX_ASIDE_FILES` such files are kept. A failed write is logged and retried
 * at the next save.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../logging/json-logger.ts';
import { STAGE_NAMES } from '../../preload/wire-types.ts';
import { SLICE_VALUES } from './input-slices.ts';
import { MARK_KINDS, MAX_MARK_NAME_LENGTH, type Mark } from './history-marks.ts';
import { RELATIVE_ACCURACY } from './quantile-sketch.ts';
import { ByteReader, ByteWriter, CorruptDataError } from './sketch-codec.ts';

const MAGIC = Buffer.from('OFAVEMIN', 'latin1');
export const HISTORY_FORMAT_VERSION = 1;
/** Changes whenever what a minute blob means changes (stages, slices, sketch mapping). */
export const LAYOUT_FINGERPRINT = crc32(
  JSON.stringify({ stages: STAGE_NAMES, slices: SLICE_VALUES, alpha: RELATIVE_ACCURACY, minute: 'deflated; slice stages as moments' }),
);
const HEADER_BYTES = MAGIC.length + 12;
const HOUR_FILE = /^minutes-(\d+)\.bin$/;
const MARKS_FILE = 'marks.json';
const ASIDE = /\.(corrupt|old-format)-(\d+)$/;
export const MAX_ASIDE_FILES = 5;

export interface HourToSave {
  hour: number;
  /** The hour's minutes, oldest first; none: the file is deleted. */
  minutes: Array<[number, Uint8Array]>;
}

export interface FailedSave {
  hours: number[];
  dropped: number[];
  marks: boolean;
}

/** An hour file's bytes. */
export function encodeHourFile(minutes: ReadonlyArray<[number, Uint8Array]>): Buffer {
  const body = new ByteWriter();
  body.uint(minutes.length);
  for (const [minute, blob] of minutes) {
    body.uint(minute);
    body.uint(blob.length);
    body.bytes(blob);
  }
  const bytes = body.finish();
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(HISTORY_FORMAT_VERSION, MAGIC.length);
  header.writeUInt32LE(LAYOUT_FINGERPRINT, MAGIC.length + 4);
  header.writeUInt32LE(crc32(bytes), MAGIC.length + 8);
  return Buffer.concat([header, bytes]);
}

class OldFormatError extends Error {}

/** The minutes of an hour file; throws CorruptDataError or OldFormatError. `check` validates each blob. */
export function decodeHourFile(file: Uint8Array, hour: number, check: (blob: Uint8Array) => void): Array<[number, Uint8Array]> {
  if (file.length < HEADER_BYTES || !MAGIC.equals(file.subarray(0, MAGIC.length))) throw new CorruptDataError('not a history file');
  const header = Buffer.from(file.buffer, file.byteOffset, HEADER_BYTES);
  const version = header.readUInt32LE(MAGIC.length);
  const layout = header.readUInt32LE(MAGIC.length + 4);
  if (version !== HISTORY_FORMAT_VERSION || layout !== LAYOUT_FINGERPRINT) {
    const reads = `${HISTORY_FORMAT_VERSION}/${LAYOUT_FINGERPRINT.toString(16)}`;
    throw new OldFormatError(`format ${version}/${layout.toString(16)}, this build reads ${reads}`);
  }
  const body = file.subarray(HEADER_BYTES);
  if (crc32(body) !== header.readUInt32LE(MAGIC.length + 8)) throw new CorruptDataError('checksum mismatch');
  const r = new ByteReader(body);
  const count = r.uint();
  if (count > 60) throw new CorruptDataError('more than 60 minutes in an hour');
  const minutes: Array<[number, Uint8Array]> = [];
  for (let i = 0; i < count; i++) {
    const minute = r.uint();
    if (Math.floor(minute / 60) !== hour) throw new CorruptDataError(`minute ${minute} is not in hour ${hour}`);
    const blob = new Uint8Array(r.bytes(r.uint())); // a copy: not a view that keeps the whole file
    check(blob);
    minutes.push([minute, blob]);
  }
  if (!r.done) throw new CorruptDataError('trailing bytes');
  return minutes;
}

function parseMarks(text: string): Mark[] {
  const doc = JSON.parse(text) as { format?: unknown; marks?: unknown };
  if (doc.format !== HISTORY_FORMAT_VERSION) throw new OldFormatError(`marks format ${String(doc.format)}`);
  if (!Array.isArray(doc.marks)) throw new CorruptDataError('marks is not a list');
  return doc.marks.map((m: Partial<Mark>) => {
    if (
      typeof m?.name !== 'string' ||
      m.name.length > MAX_MARK_NAME_LENGTH ||
      !Number.isFinite(m.at_ms) ||
      !MARK_KINDS.includes(m.kind as Mark['kind'])
    ) {
      throw new CorruptDataError('bad mark');
    }
    return { name: m.name, at_ms: m.at_ms as number, kind: m.kind as Mark['kind'] };
  });
}

/**
 * `mkdir -p` that cannot spin: Node 20's recursive mkdir loops for ever, at full CPU, on a path
 * whose parent exists but refuses new entries with ENOENT (`--data-dir /proc/x`).
 */
function makeFolder(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // a file of that name fails the readdir that follows (ENOTDIR)
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || existsSync(parent)) throw err;
    makeFolder(parent);
    try {
      mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again; // another process made it meanwhile
    }
  }
}

export class HistoryFiles {
  constructor(
    readonly dir: string,
    private readonly logger?: Logger,
    /** Epoch ms clock, for the set-aside names. */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Everything on disk: each minute checked with `check` (a file with one bad minute is set aside
   * whole). Leftover temporary files from an interrupted write are deleted.
   */
  load(check: (blob: Uint8Array) => void): { minutes: Array<[number, Uint8Array]>; marks: Mark[] } {
    const minutes: Array<[number, Uint8Array]> = [];
    let marks: Mark[] = [];
    let names: string[];
    try {
      makeFolder(this.dir);
      names = readdirSync(this.dir);
    } catch (err) {
      // Not fatal: the history is then kept in memory, and each save says it failed.
      this.logger?.log('error', 'telemetry history folder unusable', { dir: this.dir, error: (err as Error).message });
      return { minutes, marks };
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        this.tryUnlink(path);
        continue;
      }
      const hour = HOUR_FILE.exec(name);
      if (hour) {
        const got = this.readOrSetAside(path, (bytes) => decodeHourFile(bytes, Number(hour[1]), check));
        if (got) minutes.push(...got);
      } else if (name === MARKS_FILE) {
        marks = this.readOrSetAside(path, (bytes) => parseMarks(Buffer.from(bytes).toString('utf8'))) ?? [];
      }
    }
    this.pruneAside();
    minutes.sort((a, b) => a[0] - b[0]);
    return { minutes, marks };
  }

  private readOrSetAside<T>(path: string, parse: (bytes: Uint8Array) => T): T | undefined {
    try {
      return parse(readFileSync(path));
    } catch (err) {
      const reason = err instanceof OldFormatError ? 'old-format' : 'corrupt';
      const aside = `${path}.${reason}-${this.now()}`;
      try {
        renameSync(path, aside);
      } catch {
        this.tryUnlink(path);
      }
      this.logger?.log('warn', 'telemetry history file set aside', { file: path, moved_to: aside, reason, error: (err as Error).message });
      return undefined;
    }
  }

  /** Keeps the newest MAX_ASIDE_FILES set-aside files, so repeated damage cannot fill the disk. */
  private pruneAside(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    const aside = names
      .map((name) => ({ name, at: Number(ASIDE.exec(name)?.[2] ?? NaN) }))
      .filter((f) => Number.isFinite(f.at))
      .sort((a, b) => b.at - a.at);
    for (const f of aside.slice(MAX_ASIDE_FILES)) this.tryUnlink(join(this.dir, f.name));
  }

  private tryUnlink(path: string): void {
    try {
      if (statSync(path).isFile()) unlinkSync(path);
    } catch {
      // already gone
    }
  }

  /** Writes the hours and marks given, deletes the dropped hours; returns what failed (logged). */
  async save(hours: readonly HourToSave[], dropped: readonly number[], marks: readonly Mark[] | undefined): Promise<FailedSave> {
    const failed: FailedSave = { hours: [], dropped: [], marks: false };
    for (const { hour, minutes } of hours) {
      try {
        if (minutes.length === 0) await unlink(this.hourPath(hour)).catch(ignoreMissing);
        else await this.writeAtomically(this.hourPath(hour), encodeHourFile(minutes));
      } catch (err) {
        failed.hours.push(hour);
        this.logger?.log('error', 'telemetry history not saved', { file: this.hourPath(hour), error: (err as Error).message });
      }
    }
    for (const hour of dropped) {
      try {
        await unlink(this.hourPath(hour)).catch(ignoreMissing);
      } catch (err) {
        failed.dropped.push(hour);
        this.logger?.log('error', 'expired telemetry history not deleted', { file: this.hourPath(hour), error: (err as Error).message });
      }
    }
    if (marks) {
      try {
        const text = `${JSON.stringify({ format: HISTORY_FORMAT_VERSION, marks })}\n`;
        await this.writeAtomically(join(this.dir, MARKS_FILE), Buffer.from(text, 'utf8'));
      } catch (err) {
        failed.marks = true;
        this.logger?.log('error', 'telemetry marks not saved', { error: (err as Error).message });
      }
    }
    return failed;
  }

  /** Something other than a file write failed in a save (a bug): logged, never thrown at a timer. */
  reportFailure(err: unknown): void {
    this.logger?.log('error', 'telemetry history save failed', { error: String((err as Error)?.message ?? err) });
  }

  hourPath(hour: number): string {
    return join(this.dir, `minutes-${hour}.bin`);
  }

  private async writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
    const temporary = `${path}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
