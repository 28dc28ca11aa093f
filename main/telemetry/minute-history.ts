/**
 * The per-minute history behind "yesterday vs today": each finished minute of the live stats (all
 * checks, each stage, each input slice) encoded into one compact blob (`sketch-codec.ts`), kept for
 * `retentionMinutes` (default 25 h), plus the marks set on the timeline. Blobs are kept deflated,
 * in memory as on disk (half the size, ~0.4 ms per minute to pack, 0.03 ms to unpack). With a `HistoryFiles`
 * store it survives restarts: one file per hour, so a periodic save rewrites only the hours that
 * changed, and a damaged file costs an hour, not the day.
 *
 * What a minute keeps: for all checks, sketches of the latency and of each stage; per slice, a
 * sketch of the latency and each stage's moments (count, sum, squared deviations: its mean and
 * variance) rather than five more sketches, which would triple the size (measured with
 * bench/retention-size.ts). So over the history a slice has latency quantiles and stage means,
 * and the live 15 minutes have stage quantiles per slice too.
 *
 * A minute is written once, when it ends (and the minute in progress once more at close). A minute
 * read back from disk that this process writes again (a restart within the minute it stopped in)
 * is merged with it, never doubled: the restored part is kept apart and added to each rewrite.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ATTRIBUTE_COUNT, sliceValues } from './input-slices.ts';
import { ByteReader, ByteWriter, CorruptDataError, readSketch, writeSketch } from './sketch-codec.ts';
import { PeriodTotals, type CellTotals } from './period-totals.ts';
import { sketchMoments, type Moments, type SketchData } from './quantile-sketch.ts';
import { STAGE_COUNT, type CellData, type SliceTable } from './slice-cells.ts';
import type { HistoryFiles } from './history-files.ts';
import { MAX_MARKS, type Mark } from './history-marks.ts';

/** A little over a day, so "this time yesterday" is always there. */
export type { Mark, MarkKind } from './history-marks.ts';
export { MARK_KINDS, MAX_MARKS, MAX_MARK_NAME_LENGTH } from './history-marks.ts';

export const DEFAULT_HISTORY_MINUTES = 25 * 60;

/** A slice's cell as the history keeps it: latency sketch, stage moments. */
export interface SliceCellRecord {
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  readonly latency: SketchData | null;
  readonly stageMoments: ReadonlyArray<Moments | null>;
}

/** A live slice cell in the history's terms. */
export function sliceRecordOf(cell: CellData): SliceCellRecord {
  return { ...cell, stageMoments: cell.stages.map((sketch) => (sketch ? sketchMoments(sketch) : null)) };
}

/** A summed slice cell (a restored minute merged with the live one) in the history's terms. */
export function sliceRecordOfTotals(cell: CellTotals): SliceCellRecord {
  return { ...cell.summaryCounts(), latency: cell.latency, stageMoments: cell.momentsOfStages() };
}

function writeCounts(w: ByteWriter, cell: { requests: number; clientErrors: number; serverErrors: number }): void {
  w.uint(cell.requests);
  w.uint(cell.clientErrors);
  w.uint(cell.serverErrors);
}

function readCounts(r: ByteReader, into: CellTotals | null): void {
  const requests = r.uint();
  const clientErrors = r.uint();
  const serverErrors = r.uint();
  if (clientErrors + serverErrors > requests) throw new CorruptDataError('more failures than requests');
  into?.addCounts(requests, clientErrors, serverErrors);
}

function writeCell(w: ByteWriter, cell: CellData): void {
  writeCounts(w, cell);
  writeSketch(w, cell.latency);
  for (let i = 0; i < STAGE_COUNT; i++) writeSketch(w, cell.stages[i] ?? null);
}

function readCell(r: ByteReader, into: CellTotals | null): void {
  readCounts(r, into);
  readSketch(r, into ? into.latencyTarget() : null);
  for (let i = 0; i < STAGE_COUNT; i++) readSketch(r, into ? into.stageTarget(i) : null);
}

/** Counts, latency sketch, then per stage: count (0: nothing follows), sum, squared deviations. */
function writeSliceCell(w: ByteWriter, cell: SliceCellRecord): void {
  writeCounts(w, cell);
  writeSketch(w, cell.latency);
  for (let i = 0; i < STAGE_COUNT; i++) {
    const m = cell.stageMoments[i];
    w.uint(m?.count ?? 0);
    if (!m || m.count === 0) continue;
    w.f64(m.sum);
    w.f64(m.m2);
  }
}

function readSliceCell(r: ByteReader, into: CellTotals | null): void {
  readCounts(r, into);
  readSketch(r, into ? into.latencyTarget() : null);
  for (let i = 0; i < STAGE_COUNT; i++) {
    const count = r.uint();
    if (count === 0) continue;
    const sum = r.f64();
    const m2 = r.f64();
    if (!(sum >= 0 && sum < Infinity && m2 >= 0 && m2 < Infinity)) throw new CorruptDataError('bad stage moments');
    into?.addStageMoments(i, { count, sum, m2 });
  }
}

/**
 * One minute: the cell of all checks, then per attribute (SLICE_ATTRIBUTES order) its section's
 * byte length (so a reader skips the attributes it does not want) and its occupied slices.
 */
export function encodeMinute(overall: CellData, slice: (attribute: number, value: number) => SliceCellRecord | null): Uint8Array {
  const w = new ByteWriter();
  writeCell(w, overall);
  for (let a = 0; a < ATTRIBUTE_COUNT; a++) {
    const section = new ByteWriter();
    const cells: Array<[number, SliceCellRecord]> = [];
    for (let v = 0; v < sliceValues(a).length; v++) {
      const cell = slice(a, v);
      if (cell && cell.requests > 0) cells.push([v, cell]);
    }
    section.uint(cells.length);
    for (const [v, cell] of cells) {
      section.uint(v);
      writeSliceCell(section, cell);
    }
    const bytes = section.finish();
    w.uint(bytes.length);
    w.bytes(bytes);
  }
  return w.finish();
}

/** Adds a minute to `totals` (its attributes' slices too), or only checks it when `totals` is null. */
export function decodeMinuteInto(blob: Uint8Array, totals: PeriodTotals | null): void {
  const r = new ByteReader(blob);
  readCell(r, totals?.overall ?? null);
  for (let a = 0; a < ATTRIBUTE_COUNT; a++) {
    const length = r.uint();
    const end = r.offset + length;
    if (end > blob.length) throw new CorruptDataError('truncated slice section');
    if (totals && !totals.wants(a)) {
      r.offset = end;
      continue;
    }
    const section = new ByteReader(blob, r.offset, end);
    const count = section.uint();
    const values = sliceValues(a).length;
    for (let i = 0; i < count; i++) {
      const v = section.uint();
      if (v >= values) throw new CorruptDataError('unknown slice');
      readSliceCell(section, totals ? totals.sliceTarget(a, v) : null);
    }
    if (!section.done) throw new CorruptDataError('trailing bytes in slice section');
    r.offset = end;
  }
  if (!r.done) throw new CorruptDataError('trailing bytes in minute');
}

const ALL_ATTRIBUTES = Array.from({ length: ATTRIBUTE_COUNT }, (_, a) => a);

/** A minute as the history holds it: `encodeMinute`'s bytes, deflated. */
export function packMinute(blob: Uint8Array): Uint8Array {
  return new Uint8Array(deflateRawSync(blob));
}

/** A packed minute back to `encodeMinute`'s bytes; throws on damage. */
export function unpackMinute(packed: Uint8Array): Uint8Array {
  return new Uint8Array(inflateRawSync(packed));
}

/** Checks a packed minute read from disk (throws CorruptDataError or a zlib error on damage). */
export function checkPackedMinute(packed: Uint8Array): void {
  decodeMinuteInto(unpackMinute(packed), null);
}

export class MinuteHistory {
  private readonly minutes = new Map<number, Uint8Array>();
  /** Minutes read from disk, as read: what a rewrite of the same minute adds to. */
  private readonly restored = new Map<number, Uint8Array>();
  private readonly loaded = new Set<number>();
  private marksList: Mark[] = [];
  private readonly dirtyHours = new Set<number>();
  private readonly droppedHours = new Set<number>();
  private marksDirty = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly retentionMinutes: number = DEFAULT_HISTORY_MINUTES,
    private readonly files?: HistoryFiles,
    nowMinute?: number,
  ) {
    if (!Number.isInteger(retentionMinutes) || retentionMinutes < 1) {
      throw new RangeError(`history retention must be a whole number of minutes ≥ 1, got ${retentionMinutes}`);
    }
    if (files) {
      const { minutes, marks } = files.load(checkPackedMinute);
      for (const [minute, blob] of minutes) {
        this.minutes.set(minute, blob);
        this.loaded.add(minute);
      }
      this.marksList = marks.slice(-MAX_MARKS);
    }
    if (nowMinute !== undefined) this.prune(nowMinute);
  }

  /** Stores a finished minute (or the one in progress, at close) from a live 60 s bucket. */
  put(minute: number, overall: CellData, slices: SliceTable | null): void {
    const live = (a: number, v: number): SliceCellRecord | null => {
      const cell = slices?.cells[a]?.[v];
      return cell ? sliceRecordOf(cell.cellData()) : null;
    };
    let base = this.restored.get(minute);
    if (!base && this.loaded.has(minute)) {
      base = this.minutes.get(minute);
      if (base) this.restored.set(minute, base);
    }
    let blob: Uint8Array;
    if (base) {
      const sum = new PeriodTotals(ALL_ATTRIBUTES);
      decodeMinuteInto(unpackMinute(base), sum);
      sum.overall.add(overall);
      for (let a = 0; a < ATTRIBUTE_COUNT; a++) {
        for (let v = 0; v < sliceValues(a).length; v++) {
          const cell = slices?.cells[a]?.[v];
          if (cell) sum.sliceTarget(a, v)!.add(cell.cellData());
        }
      }
      blob = encodeMinute(sum.overall, (a, v) => {
        const cell = sum.slices[a]![v];
        return cell ? sliceRecordOfTotals(cell) : null;
      });
    } else {
      blob = encodeMinute(overall, live);
    }
    this.minutes.set(minute, packMinute(blob));
    this.dirtyHours.add(Math.floor(minute / 60));
  }

  has(minute: number): boolean {
    return this.minutes.has(minute);
  }

  /** Adds the minute to `totals`; false when the history has nothing for it. */
  accumulate(minute: number, totals: PeriodTotals): boolean {
    const packed = this.minutes.get(minute);
    if (!packed) return false;
    decodeMinuteInto(unpackMinute(packed), totals);
    return true;
  }

  /** The oldest minute held, or undefined when empty. */
  get oldestMinute(): number | undefined {
    let oldest: number | undefined;
    for (const minute of this.minutes.keys()) if (oldest === undefined || minute < oldest) oldest = minute;
    return oldest;
  }

  get size(): number {
    return this.minutes.size;
  }

  /** Bytes held by the minutes' packed blobs (what the files hold, less a few bytes per minute and file). */
  get storedBytes(): number {
    let bytes = 0;
    for (const blob of this.minutes.values()) bytes += blob.length;
    return bytes;
  }

  addMark(mark: Mark): void {
    this.marksList.push(mark);
    this.marksList.sort((a, b) => a.at_ms - b.at_ms);
    if (this.marksList.length > MAX_MARKS) this.marksList.splice(0, this.marksList.length - MAX_MARKS);
    this.marksDirty = true;
  }

  marks(): Mark[] {
    return this.marksList.map((mark) => ({ ...mark }));
  }

  /** The oldest minute the retention keeps, as of minute `nowMinute`. */
  oldestKept(nowMinute: number): number {
    return nowMinute - this.retentionMinutes + 1;
  }

  /** Drops minutes and marks older than the retention, as of minute `nowMinute`. */
  prune(nowMinute: number): void {
    const oldest = this.oldestKept(nowMinute);
    for (const minute of [...this.minutes.keys()]) {
      if (minute >= oldest) continue;
      this.minutes.delete(minute);
      this.restored.delete(minute);
      this.loaded.delete(minute);
      const hour = Math.floor(minute / 60);
      // An hour whose last minute has left goes; one still partly kept is rewritten without the old minutes.
      if ((hour + 1) * 60 - 1 < oldest) {
        this.droppedHours.add(hour);
        this.dirtyHours.delete(hour);
      } else {
        this.dirtyHours.add(hour);
      }
    }
    const before = this.marksList.length;
    this.marksList = this.marksList.filter((mark) => mark.at_ms >= oldest * 60_000);
    if (this.marksList.length !== before) this.marksDirty = true;
  }

  /**
   * Writes what changed since the last save (hours, marks) and deletes the hours that left the
   * retention. Saves run one after another; the store logs a failed write, and what it could not
   * write is tried again at the next save.
   */
  save(): Promise<void> {
    const files = this.files;
    if (!files) return Promise.resolve();
    const hours = [...this.dirtyHours].map((hour) => {
      const minutes: Array<[number, Uint8Array]> = [];
      for (let m = hour * 60; m < hour * 60 + 60; m++) {
        const blob = this.minutes.get(m);
        if (blob) minutes.push([m, blob]);
      }
      return { hour, minutes };
    });
    const dropped = [...this.droppedHours];
    const marks = this.marksDirty ? this.marks() : undefined;
    this.dirtyHours.clear();
    this.droppedHours.clear();
    this.marksDirty = false;
    this.saving = this.saving
      .then(async () => {
        const failed = await files.save(hours, dropped, marks);
        for (const hour of failed.hours) this.dirtyHours.add(hour);
        for (const hour of failed.dropped) this.droppedHours.add(hour);
        if (failed.marks) this.marksDirty = true;
      })
      .catch((err: unknown) => files.reportFailure(err)); // a save never rejects: callers fire and forget
    return this.saving;
  }
}
