/**
 * The checker's data: a row of the table (an image, its texts and its answer) and an imported pair
 * list. Apart from the store so that what keeps them (batch-persistence.ts) does not import the store.
 */
import type { PairEntry, PairListProblem } from '../../preload/pair-list.ts';
import type { RowText } from './row-status.ts';

/** A row: its image, plus the texts, state and answer that row-status.ts reads (RowText). */
export interface CheckRow extends RowText {
  readonly id: number;
  /** The image bytes: the dropped File, or the Blob IndexedDB kept of it. */
  readonly file: Blob;
  /** The file's base name, what reviewers and pair lists call it. */
  readonly name: string;
  /** Path inside a dropped or picked folder ("trip/a.jpg"); the name for a file dropped alone. */
  readonly path: string;
  readonly size: number;
  readonly lastModified: number;
  /** SHA-256 of the bytes, when Web Crypto is there. */
  readonly hash?: string;
  /** Path of a row added earlier with the same bytes (one photo in two folders). */
  readonly copyOf?: string;
}

export interface ImportedList {
  fileName: string;
  format: 'csv' | 'jsonl';
  entries: readonly PairEntry[];
  byKey: ReadonlyMap<string, PairEntry>;
  duplicates: readonly string[];
  problems: readonly PairListProblem[];
}
