import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parsePairList, type PairListProblem } from '../../../preload/pair-list.ts';

/** One row of a batch: the pair as listed (what results are keyed on) and the file it names. */
export interface BatchRow {
  /** 1-based line of the list the record starts on. */
  readonly line: number;
  /** The image as the list spells it (relative to the list's folder, or absolute). */
  readonly image: string;
  /** Where the image is read from. */
  readonly file: string;
  readonly caption: string;
  readonly premise?: string;
}

export interface BatchList {
  readonly format: 'csv' | 'jsonl';
  readonly rows: BatchRow[];
  /** Records that name no usable pair (bad JSON, no image column, ...), with their lines. */
  readonly problems: PairListProblem[];
}

/** Captions and premises for rows that have none of their own (the UI's caption and premise fields). */
export interface RowDefaults {
  readonly caption?: string;
  readonly premise?: string;
}

/** Thrown when the list file itself cannot be read; the command reports it as bad input. */
export class ListReadError extends Error {}

/**
 * Reads a CSV or JSONL list in the format the checker imports (preload/pair-list.ts). Image paths
 * are resolved against the list's folder, so a list travels with its images.
 */
export async function readBatchList(listPath: string, defaults: RowDefaults = {}): Promise<BatchList> {
  let text: string;
  try {
    text = await readFile(listPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    throw new ListReadError(`${listPath}: ${why}`);
  }
  const list = parsePairList(text, path.basename(listPath));
  const folder = path.dirname(path.resolve(listPath));
  const rows = list.entries.map((entry): BatchRow => {
    const caption = entry.caption || defaults.caption?.trim() || '';
    const premise = entry.premise || defaults.premise?.trim() || undefined;
    return {
      line: entry.line,
      image: entry.image,
      file: path.resolve(folder, entry.image),
      caption,
      ...(premise ? { premise } : {}),
    };
  });
  return { format: list.format, rows, problems: list.problems };
}

/** A row to check, and the later rows of the list that repeat it (they get its result). */
export interface RowGroup {
  readonly row: BatchRow;
  readonly repeats: readonly BatchRow[];
}

/**
 * Groups rows that repeat an earlier row: the same image file (by resolved path, as read in this
 * run), caption and premise. In the order of each group's first row; one check answers the group.
 */
export function groupRepeats(rows: readonly BatchRow[]): RowGroup[] {
  const groups = new Map<string, { row: BatchRow; repeats: BatchRow[] }>();
  for (const row of rows) {
    const key = JSON.stringify([row.file, row.caption, row.premise ?? '']);
    const group = groups.get(key);
    if (group) group.repeats.push(row);
    else groups.set(key, { row, repeats: [] });
  }
  return [...groups.values()];
}
