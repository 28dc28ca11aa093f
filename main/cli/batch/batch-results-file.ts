import {
  closeSync,
  fchmodSync,
  lstatSync,
  fdatasyncSync,
  fsyncSync,
  openSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiError, CheckResult } from '../../../preload/wire-types.ts';
import { CheckError, ERROR_STATUS, type ErrorCode } from '../../errors.ts';

/** What identifies a row across runs: an edited list re-checks the rows whose pair changed. */
export interface RowIdentity {
  readonly line: number;
  readonly image: string;
  readonly caption: string;
  readonly premise?: string;
}

/** One JSON line of the results file for a row that got an answer. */
export interface BatchAnswerRecord
  extends RowIdentity, Pick<CheckResult, 'label' | 'score' | 'scores' | 'warnings' | 'latency_ms' | 'model'> {}

/** One JSON line of the results file for a row refused as bad input (it would be refused again). */
export interface BatchErrorRecord extends RowIdentity {
  readonly error: ApiError;
}

export type BatchRecord = BatchAnswerRecord | BatchErrorRecord;

/** A row of one list: its line and pair. */
export function rowKey(row: RowIdentity): string {
  return JSON.stringify([row.line, row.image, row.caption, row.premise ?? '']);
}

/** The pair alone (image as the list spells it, caption, premise): what a result stays valid for when rows move. */
export function pairKey(row: RowIdentity): string {
  return JSON.stringify([row.image, row.caption, row.premise ?? '']);
}

/** Only codes caused by the input are final; OVERLOADED, TIMEOUT, INTERNAL... are retried. */
export function isFinalErrorCode(code: string): boolean {
  return Object.hasOwn(ERROR_STATUS, code) && new CheckError(code as ErrorCode, '').isInputError;
}

/** How a recorded row was settled: an answer, or a refusal of its input (both final). */
export type Settlement = 'answered' | 'refused';

/** A results line that settles its row: the row as recorded, and how. */
export interface SettledRecord extends RowIdentity {
  readonly how: Settlement;
}

/** A line check --batch writes: a row (line, image, caption, premise?) with an answer (label) or an error. */
function isResultRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.line !== 'number' || typeof r.image !== 'string' || typeof r.caption !== 'string') return false;
  if (r.premise !== undefined && typeof r.premise !== 'string') return false;
  const error = r.error as { code?: unknown } | null | undefined;
  return typeof r.label === 'string' || (typeof error === 'object' && error !== null && typeof error.code === 'string');
}

/** What a result record settles: undefined for a failure of ours (an error that is not the input's). */
function settledRow(r: Record<string, unknown>): SettledRecord | undefined {
  const answered = typeof r.label === 'string';
  if (!answered && !isFinalErrorCode(String((r.error as { code: string }).code))) return undefined;
  const premise = r.premise as string | undefined;
  return {
    line: r.line as number,
    image: r.image as string,
    caption: r.caption as string,
    ...(premise ? { premise } : {}),
    how: answered ? 'answered' : 'refused',
  };
}

/** One whole line of the results file, and the row it settles if it does. */
export interface ResultsLine {
  readonly text: string;
  readonly record?: SettledRecord;
}

export interface RecordedResults {
  /** The whole, non-blank result records in file order (a torn last line is not one). */
  readonly lines: ResultsLine[];
  /** How many of them there are (those that settle no row included). */
  readonly records: number;
  /** Bytes to keep: a torn last line (the process was killed while writing it) is cut off. */
  readonly keepBytes: number;
  /** A torn last line was found (and is dropped before appending). */
  readonly tornTail: boolean;
  /** The kept text does not end with a newline (a complete record without one): add it first. */
  readonly needsNewline: boolean;
  /**
   * Lines (1-based) that are not result records: text, another list, a CSV, a last line that
   * cannot be the start of one. Such a file is not ours to append to or cut (notResultsFile).
   */
  readonly foreignLines: number[];
}

function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Every result record is written as JSON.stringify of an object whose first key is `line`. */
const RECORD_START = '{"line":';

/**
 * Whether a last line without a newline may be a record cut off mid-write: the start of one, then
 * at most the zero bytes a file system leaves where a crash lost the data of a grown file.
 */
function couldBeCutRecord(tail: string): boolean {
  const text = tail.replace(/\0+$/, '');
  return text.startsWith(RECORD_START) || RECORD_START.startsWith(text);
}

/** Parses a results file's bytes. */
export function parseRecordedResults(bytes: Buffer): RecordedResults {
  const kept: ResultsLine[] = [];
  const foreignLines: number[] = [];
  /** Keeps a result record; false for anything else. */
  const keep = (text: string): boolean => {
    const parsed = parseLine(text);
    if (!isResultRecord(parsed)) return false;
    const record = settledRow(parsed);
    kept.push(record ? { text, record } : { text });
    return true;
  };
  const lastNewline = bytes.lastIndexOf(0x0a);
  const lines = bytes
    .subarray(0, lastNewline + 1)
    .toString('utf8')
    .split('\n');
  lines.pop();
  lines.forEach((text, i) => {
    if (text.trim() !== '' && !keep(text)) foreignLines.push(i + 1);
  });
  // The bytes after the last newline: a whole record someone saved without a final newline, the
  // line a killed run was writing (torn, to be cut off), or something else (foreign).
  const tail = bytes.subarray(lastNewline + 1).toString('utf8');
  let keepBytes = bytes.length;
  let tornTail = false;
  let needsNewline = false;
  if (tail.trim() !== '') {
    if (keep(tail)) needsNewline = true;
    else if (parseLine(tail) === undefined && couldBeCutRecord(tail)) {
      keepBytes = lastNewline + 1;
      tornTail = true;
    } else foreignLines.push(lines.length + 1);
  }
  return { lines: kept, records: kept.length, keepBytes, tornTail, needsNewline, foreignLines };
}

/** "line 3 is not a result record", "lines 1, 2, 3, 4, 5 and 7 more are not result records". */
function notRecords(lines: readonly number[]): string {
  if (lines.length === 1) return `line ${lines[0]} is not a result record`;
  const shown = lines.slice(0, 5);
  const last = lines.length > 5 ? `${lines.length - 5} more` : String(shown.pop());
  return `lines ${shown.join(', ')} and ${last} are not result records`;
}

/**
 * Why a file is not a results file that --resume may cut a torn line off and append to (undefined:
 * it is one, or holds nothing but blank lines): any line that is not a result record, or a cut-off
 * line with no record before it. Appending to notes or to another list would mix results into them.
 */
export function notResultsFile(recorded: RecordedResults): string | undefined {
  if (recorded.foreignLines.length > 0) return notRecords(recorded.foreignLines);
  if (recorded.tornTail && recorded.records === 0) return 'it holds no result record, only a line cut off mid-write';
  return undefined;
}

/** Reads a results file to resume from; undefined when there is none yet. */
export async function readRecordedResults(file: string): Promise<RecordedResults | undefined> {
  try {
    return parseRecordedResults(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The row of `rows` each record settles (undefined: none), matched by pair, not line, so rows
 * inserted or removed above keep their results. First each record whose line still holds its
 * pair (an unchanged list matches every record to itself); then identical pairs as a multiset:
 * the remaining records of a pair, by recorded line, to its remaining rows, in list order.
 */
export function matchRecords<R extends RowIdentity>(records: readonly RowIdentity[], rows: readonly R[]): (R | undefined)[] {
  const match: (R | undefined)[] = records.map(() => undefined);
  const taken = new Set<R>();
  const atLine = new Map(rows.map((row) => [rowKey(row), row]));
  records.forEach((record, i) => {
    const row = atLine.get(rowKey(record));
    if (row && !taken.has(row)) {
      match[i] = row;
      taken.add(row);
    }
  });
  const free = new Map<string, R[]>();
  for (const row of rows) {
    if (taken.has(row)) continue;
    const queue = free.get(pairKey(row));
    if (queue) queue.push(row);
    else free.set(pairKey(row), [row]);
  }
  const rest = records.map((record, i) => ({ record, i })).filter(({ i }) => !match[i]);
  rest.sort((a, b) => a.record.line - b.record.line);
  for (const { record, i } of rest) match[i] = free.get(pairKey(record))?.shift();
  return match;
}

/** What --resume did to the results file for an edited list. */
export interface ResumeCounts {
  /** Results kept whose row now sits on another line (rows inserted or removed above it). */
  readonly renumbered: number;
  /** Results that match no row of the list any more (the row removed, or its pair edited). */
  readonly removed: number;
}

export interface ResumePlan extends ResumeCounts {
  /** The list's rows already settled, by rowKey() (their current line). */
  readonly settled: Map<string, Settlement>;
  /** The results file's new text; undefined when every result names its row's current line (left as it is). */
  readonly rewrite?: string;
  /** The records matching no row of the list, as they were written (kept aside by keepRemovedResults, not lost). */
  readonly removedText?: string;
}

/**
 * Matches a results file's records to the list's rows. The new text keeps the file's order and
 * every record that settles no row (an error of ours: not ours to drop); records renumbered
 * to their row's line, those matching no row left out of it and handed back as removedText.
 */
export function planResume(recorded: RecordedResults | undefined, rows: readonly RowIdentity[]): ResumePlan {
  const lines = recorded?.lines ?? [];
  const records = lines.flatMap((l) => (l.record ? [l.record] : []));
  const match = matchRecords(records, rows);
  const settled = new Map<string, Settlement>();
  let renumbered = 0;
  let removed = 0;
  records.forEach((record, i) => {
    const row = match[i];
    if (!row) removed += 1;
    else settled.set(rowKey(row), record.how);
    if (row && row.line !== record.line) renumbered += 1;
  });
  if (renumbered === 0 && removed === 0) return { settled, renumbered, removed };
  let r = 0;
  const removedLines: string[] = [];
  const text = lines.flatMap((l) => {
    if (!l.record) return [l.text];
    const row = match[r++];
    if (!row) {
      removedLines.push(l.text);
      return [];
    }
    return [row.line === l.record.line ? l.text : JSON.stringify({ ...(JSON.parse(l.text) as object), line: row.line })];
  });
  const joined = (ts: string[]) => ts.map((t) => `${t}\n`).join('');
  return { settled, renumbered, removed, rewrite: joined(text), ...(removedLines.length > 0 && { removedText: joined(removedLines) }) };
}

/** Where keepRemovedResults puts the results of rows no longer in the list. */
export const removedResultsFile = (file: string): string => `${file}.removed.jsonl`;

/**
 * Appends the results of rows no longer in the list to removedResultsFile(file), synced, before the
 * results file is rewritten without them: a row edited or deleted by mistake (or a --caption
 * forgotten on resume) costs a re-check, never an answer.
 */
export function keepRemovedResults(file: string, text: string): string {
  const aside = removedResultsFile(file);
  const fd = openSync(aside, 'a');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return aside;
}

/** The line --resume prints after rewriting the results file. */
export function describeRewrite(counts: ResumeCounts, file: string): string {
  const parts: string[] = [];
  if (counts.renumbered > 0) {
    parts.push(`${counts.renumbered} result${counts.renumbered === 1 ? '' : 's'} renumbered (rows inserted or removed above them)`);
  }
  if (counts.removed > 0) {
    parts.push(
      `${counts.removed} ${counts.removed === 1 ? 'result for a row' : 'results for rows'} no longer in the list moved to ${removedResultsFile(file)}`,
    );
  }
  return `${file} updated for the edited list: ${parts.join('; ')}`;
}

/**
 * Replaces the results file with `text` atomically: a temporary file beside it, synced, renamed
 * over it (a crash leaves the old file or the new one, whole). Returns the new file as read.
 */
export function rewriteResultsFile(file: string, text: string): RecordedResults {
  const target = realpathSync(file);
  const temp = rewriteTempFile(target, process.pid);
  let created = false;
  try {
    const fd = openSync(temp, 'w');
    created = true;
    try {
      fchmodSync(fd, statSync(target).mode & 0o7777);
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (err) {
    if (created) rmSync(temp, { force: true });
    throw err;
  }
  syncFolder(path.dirname(target));
  return parseRecordedResults(Buffer.from(text));
}

/** The temporary file rewriteResultsFile(target) writes in process `pid`: `.NAME.PID.tmp` beside it. */
function rewriteTempFile(target: string, pid: number): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${pid}.tmp`);
}

/** Whether process `pid` exists; only "no such process" (ESRCH) says it does not (EPERM: another user's). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temporary files rewriteResultsFile left beside `file` when its process died between
 * creating one and renaming it over the file (the file itself is then the old one, whole): those
 * named `.NAME.PID.tmp` for this file alone, plain files, whose PID is no live process and that
 * were last written over a minute ago (a run on another host sharing the folder, or in another PID
 * namespace, has a PID this process cannot see: a rewrite takes well under a minute). Anything else
 * is left alone: another file's, a live run's, one that cannot be removed. Returns the paths removed.
 */
export function removeStaleRewriteTemps(file: string, options: { minAgeMs?: number; now?: number } = {}): string[] {
  const { minAgeMs = 60_000, now = Date.now() } = options;
  let target: string;
  try {
    target = realpathSync(file);
  } catch {
    // No results file (or a dangling link): its folder, as rewriteResultsFile would have written to it.
    try {
      target = path.join(realpathSync(path.dirname(path.resolve(file))), path.basename(file));
    } catch {
      return [];
    }
  }
  const folder = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const digits = name.slice(prefix.length, -'.tmp'.length);
    if (!/^[1-9]\d{0,9}$/.test(digits)) continue;
    const pid = Number(digits);
    const temp = rewriteTempFile(target, pid);
    if (path.basename(temp) !== name || processExists(pid)) continue;
    try {
      const stat = lstatSync(temp);
      if (!stat.isFile() || now - stat.mtimeMs < minAgeMs) continue;
      unlinkSync(temp);
      removed.push(temp);
    } catch {
      // Gone meanwhile, or not ours to remove: left as it is.
    }
  }
  return removed;
}

/** The rename is durable once the folder is synced; where a folder cannot be opened (Windows), the OS sees to it. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How often written rows are forced to disk: a crash of the machine loses at most this much. */
const SYNC_INTERVAL_MS = 1000;

/**
 * Appends one JSON line per finished row. Each line goes out in a single write(2), so a killed
 * process leaves whole lines (the kernel keeps them); fdatasync at most once a second guards
 * against a crash of the machine without paying for a sync per row.
 */
export class ResultsFileWriter {
  private lastSync = Date.now();
  private dirty = false;

  private constructor(private readonly fd: number) {}

  /** Opens `file` for appending; with `resume`, first cuts a torn last line and ends the last line. */
  static open(file: string, resume?: RecordedResults): ResultsFileWriter {
    if (resume?.tornTail) truncateSync(file, resume.keepBytes);
    const writer = new ResultsFileWriter(openSync(file, 'a'));
    if (resume?.needsNewline) writeSync(writer.fd, '\n');
    return writer;
  }

  write(record: BatchRecord): void {
    const bytes = Buffer.from(`${JSON.stringify(record)}\n`);
    // A short write (a disk filling up) goes on until the line is whole or a write throws.
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done);
    this.dirty = true;
    if (Date.now() - this.lastSync >= SYNC_INTERVAL_MS) this.sync();
  }

  private sync(): void {
    if (this.dirty) fdatasyncSync(this.fd);
    this.dirty = false;
    this.lastSync = Date.now();
  }

  close(): void {
    try {
      this.sync();
    } finally {
      closeSync(this.fd);
    }
  }
}
