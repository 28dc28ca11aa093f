import { closeSync, fdatasyncSync, openSync, truncateSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

export function rowKey(row: RowIdentity): string {
  return JSON.stringify([row.line, row.image, row.caption, row.premise ?? '']);
}

/** Only codes caused by the input are final; OVERLOADED, TIMEOUT, INTERNAL... are retried. */
export function isFinalErrorCode(code: string): boolean {
  return Object.hasOwn(ERROR_STATUS, code) && new CheckError(code as ErrorCode, '').isInputError;
}

/** How a recorded row was settled: an answer, or a refusal of its input (both final). */
export type Settlement = 'answered' | 'refused';

/** The key and settlement of a results line that settles its row, or undefined for anything else. */
function settledRow(value: unknown): { key: string; how: Settlement } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.line !== 'number' || typeof r.image !== 'string' || typeof r.caption !== 'string') return undefined;
  if (r.premise !== undefined && typeof r.premise !== 'string') return undefined;
  const answered = typeof r.label === 'string';
  const refused = typeof r.error === 'object' && r.error !== null && isFinalErrorCode(String((r.error as { code?: unknown }).code));
  if (!answered && !refused) return undefined;
  const key = rowKey({ line: r.line, image: r.image, caption: r.caption, premise: r.premise as string | undefined });
  return { key, how: answered ? 'answered' : 'refused' };
}

export interface RecordedResults {
  /** The rows already settled (answered, or refused as bad input), by rowKey(). */
  readonly settled: Map<string, Settlement>;
  /** Bytes to keep: a torn last line (the process was killed while writing it) is cut off. */
  readonly keepBytes: number;
  /** A torn last line was found (and is dropped before appending). */
  readonly tornTail: boolean;
  /** The kept text does not end with a newline (a complete record without one): add it first. */
  readonly needsNewline: boolean;
  /** Lines (1-based) that are not results records: left in place, their rows checked again. */
  readonly unreadableLines: number[];
}

function parseLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Reads a results file to resume from; undefined when there is none yet. */
export async function readRecordedResults(file: string): Promise<RecordedResults | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const settled = new Map<string, Settlement>();
  const unreadableLines: number[] = [];
  const lastNewline = bytes.lastIndexOf(0x0a);
  const lines = bytes
    .subarray(0, lastNewline + 1)
    .toString('utf8')
    .split('\n');
  lines.pop();
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const parsed = parseLine(text);
    const row = settledRow(parsed);
    if (row) settled.set(row.key, row.how);
    else if (parsed === undefined) unreadableLines.push(i + 1);
  });
  // The bytes after the last newline: a whole record someone saved without a final newline, or
  // the line a killed run was writing (torn, to be cut off).
  const tail = bytes.subarray(lastNewline + 1).toString('utf8');
  let keepBytes = bytes.length;
  let tornTail = false;
  let needsNewline = false;
  if (tail.trim() !== '') {
    const parsed = parseLine(tail);
    if (parsed === undefined) {
      keepBytes = lastNewline + 1;
      tornTail = true;
    } else {
      needsNewline = true;
      const row = settledRow(parsed);
      if (row) settled.set(row.key, row.how);
    }
  }
  return { settled, keepBytes, tornTail, needsNewline, unreadableLines };
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
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    this.dirty = true;
    if (Date.now() - this.lastSync >= SYNC_INTERVAL_MS) this.sync();
  }

  private sync(): void {
    if (this.dirty) fdatasyncSync(this.fd);
    this.dirty = false;
    this.lastSync = Date.now();
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }
}
