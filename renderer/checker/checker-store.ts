/**
 * The checker's rows and batch, kept outside React: one store per client, so switching to the
 * dashboard tab (which unmounts the checker) neither loses the rows nor stops a running batch.
 * Results are buffered and applied in one pass every FLUSH_MS, so a fast batch re-renders the
 * table a few times a second instead of once per answer.
 */
import type { ApiError, CheckResult } from '../../preload/wire-types.ts';
import type { BatchProgress, CheckInput, CheckOutcome, ConsoleClient } from '../api/console-client.ts';
import { sortFiles, type PickedFile } from './file-intake.ts';
import { imageKey, matchPairs, parsePairList, type PairEntry, type PairListProblem } from '../../preload/pair-list.ts';

export type RowState = 'pending' | 'running' | 'done' | 'error';

export interface CheckRow {
  readonly id: number;
  readonly file: File;
  /** The file's base name, what reviewers and pair lists call it. */
  readonly name: string;
  /** Path inside a dropped folder, for the tooltip and duplicate detection. */
  readonly path: string;
  readonly caption: string;
  readonly premise: string;
  readonly state: RowState;
  readonly result?: CheckResult;
  readonly error?: ApiError;
  /** Bumped on every caption/premise change, so an answer for the old text is dropped. */
  readonly revision: number;
}

export interface ImportedList {
  fileName: string;
  format: 'csv' | 'jsonl';
  entries: readonly PairEntry[];
  byKey: ReadonlyMap<string, PairEntry>;
  duplicates: readonly string[];
  problems: readonly PairListProblem[];
}

export interface BatchStatus {
  running: boolean;
  progress: BatchProgress;
  startedAt: number;
  /** Set when the batch has ended. */
  outcome?: 'finished' | 'cancelled' | 'failed';
  elapsedS?: number;
  message?: string;
}

export interface Notice {
  kind: 'info' | 'error';
  text: string;
}

export interface CheckerSnapshot {
  rows: readonly CheckRow[];
  /** The caption last applied to all rows; new images get it. Undefined until first applied. */
  appliedCaption: string | undefined;
  appliedPremise: string;
  list: ImportedList | undefined;
  batch: BatchStatus | undefined;
  notice: Notice | undefined;
}

const FLUSH_MS = 80;

interface BufferedOutcome {
  revision: number;
  outcome: CheckOutcome;
}

function toApiError(err: unknown): ApiError {
  if (typeof err === 'object' && err !== null && 'code' in err && 'message' in err) {
    const { code, message } = err as { code: unknown; message: unknown };
    if (typeof code === 'string' && typeof message === 'string') return { code, message };
  }
  return { code: 'CLIENT_ERROR', message: err instanceof Error ? err.message : String(err) };
}

function fileSignature(path: string, file: File): string {
  return `${path}\u0000${file.size}\u0000${file.lastModified}`;
}

/** The row with new text; a change clears the old answer, which was for the old text. */
function withText(row: CheckRow, caption: string, premise: string): CheckRow {
  if (row.caption === caption && row.premise === premise) return row;
  return { ...row, caption, premise, revision: row.revision + 1, state: 'pending', result: undefined, error: undefined };
}

/** Listed captions may span lines (quoted CSV); a row's caption is one line, like its input. */
function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function toInput(row: CheckRow): CheckInput {
  return { name: row.name, image: row.file, text: row.caption, premise: row.premise || undefined };
}

export class CheckerStore {
  private snapshot: CheckerSnapshot = {
    rows: [],
    appliedCaption: undefined,
    appliedPremise: '',
    list: undefined,
    batch: undefined,
    notice: undefined,
  };
  private readonly listeners = new Set<() => void>();
  private nextId = 1;
  private batchAbort: AbortController | undefined;
  private readonly rowAborts = new Map<number, AbortController>();
  private readonly buffered = new Map<number, BufferedOutcome>();
  private bufferedProgress: BatchProgress | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): CheckerSnapshot => this.snapshot;

  private update(patch: Partial<CheckerSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener();
  }

  readonly dismissNotice = (): void => this.update({ notice: undefined });

  /** Adds dropped or picked files: images become rows, .csv/.jsonl files are imported as lists. */
  readonly addFiles = async (picked: readonly PickedFile[]): Promise<void> => {
    const { images, lists, skipped } = sortFiles(picked);
    const { rows, list, appliedCaption, appliedPremise } = this.snapshot;
    const seen = new Set(rows.map((row) => fileSignature(row.path, row.file)));
    const added: CheckRow[] = [];
    let duplicates = 0;
    for (const { file, path } of images) {
      const signature = fileSignature(path, file);
      if (seen.has(signature)) {
        duplicates++;
        continue;
      }
      seen.add(signature);
      // A listed caption is specific to this image, so it wins over the caption applied to all.
      const listed = list?.byKey.get(imageKey(file.name));
      added.push({
        id: this.nextId++,
        file,
        name: file.name,
        path,
        caption: listed ? singleLine(listed.caption) : (appliedCaption ?? ''),
        premise: listed ? singleLine(listed.premise ?? '') : appliedPremise,
        state: 'pending',
        revision: 0,
      });
    }
    const parts: string[] = [];
    if (added.length > 0) parts.push(`Added ${plural(added.length, 'file')}`);
    if (duplicates > 0) parts.push(`${duplicates} already in the table`);
    if (skipped > 0) parts.push(`skipped ${plural(skipped, 'system file')}`);
    this.update({
      rows: added.length > 0 ? [...rows, ...added] : rows,
      // Only worth a line when something was left out; added rows speak for themselves.
      notice: duplicates > 0 || skipped > 0 ? { kind: 'info', text: parts.join('; ') + '.' } : undefined,
    });
    for (const { file } of lists) await this.importListFile(file);
  };

  readonly importListFile = async (file: File): Promise<void> => {
    let text: string;
    try {
      text = await file.text();
    } catch (err) {
      this.update({ notice: { kind: 'error', text: `Cannot read ${file.name}: ${toApiError(err).message}` } });
      return;
    }
    this.importListText(file.name, text);
  };

  /** Loads a pair list and gives the rows it names their listed caption and premise. */
  readonly importListText = (fileName: string, text: string): void => {
    const parsed = parsePairList(text, fileName);
    if (parsed.entries.length === 0) {
      const why = parsed.problems[0] ? ` (line ${parsed.problems[0].line}: ${parsed.problems[0].message})` : '';
      this.update({ notice: { kind: 'error', text: `No image/caption pairs found in ${fileName}${why}.` } });
      return;
    }
    const { byKey, duplicates } = matchPairs(parsed.entries, []);
    let matched = 0;
    const rows = this.snapshot.rows.map((row) => {
      const entry = byKey.get(imageKey(row.name));
      if (!entry) return row;
      matched++;
      this.abortRow(row.id);
      return withText(row, singleLine(entry.caption), singleLine(entry.premise ?? ''));
    });
    const list: ImportedList = { fileName, format: parsed.format, entries: parsed.entries, byKey, duplicates, problems: parsed.problems };
    this.update({
      rows,
      list,
      notice: { kind: 'info', text: `Imported ${plural(byKey.size, 'pair')} from ${fileName}; ${plural(matched, 'row')} in the table matched.` },
    });
  };

  readonly removeList = (): void => this.update({ list: undefined });

  readonly applyToAll = (caption: string, premise: string): void => {
    const rows = this.snapshot.rows.map((row) => {
      const next = withText(row, caption, premise);
      if (next !== row) this.abortRow(row.id);
      return next;
    });
    this.update({ rows, appliedCaption: caption, appliedPremise: premise });
  };

  readonly setRowCaption = (id: number, caption: string): void => {
    this.abortRow(id);
    this.update({ rows: this.snapshot.rows.map((row) => (row.id === id ? withText(row, caption, row.premise) : row)) });
  };

  readonly removeRow = (id: number): void => {
    this.abortRow(id);
    this.update({ rows: this.snapshot.rows.filter((row) => row.id !== id) });
  };

  readonly clearAll = (): void => {
    this.batchAbort?.abort();
    for (const id of [...this.rowAborts.keys()]) this.abortRow(id);
    this.buffered.clear();
    this.update({ rows: [], batch: undefined, notice: undefined });
  };

  /** Stops the single check of a row (its answer would be for text that changed, or a gone row). */
  private abortRow(id: number): void {
    this.rowAborts.get(id)?.abort();
    this.rowAborts.delete(id);
  }

  private markRunning(ids: ReadonlySet<number>): void {
    this.update({
      rows: this.snapshot.rows.map((row) => (ids.has(row.id) ? { ...row, state: 'running', result: undefined, error: undefined } : row)),
    });
  }

  private buffer(id: number, revision: number, outcome: CheckOutcome): void {
    this.buffered.set(id, { revision, outcome });
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Applies every buffered answer in one pass over the rows (O(rows + answers)). */
  private flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const patch: Partial<CheckerSnapshot> = {};
    if (this.buffered.size > 0) {
      const buffered = this.buffered;
      patch.rows = this.snapshot.rows.map((row) => {
        const answer = buffered.get(row.id);
        // An answer for an older caption, or for a row no longer waiting, is stale.
        if (!answer || answer.revision !== row.revision || row.state !== 'running') return row;
        return answer.outcome.ok
          ? { ...row, state: 'done', result: answer.outcome.result, error: undefined }
          : { ...row, state: 'error', error: answer.outcome.error, result: undefined };
      });
      buffered.clear();
    }
    const batch = this.snapshot.batch;
    if (this.bufferedProgress && batch) patch.batch = { ...batch, progress: this.bufferedProgress };
    this.bufferedProgress = undefined;
    if (patch.rows || patch.batch) this.update(patch);
  }

  readonly checkRow = async (client: ConsoleClient, id: number): Promise<void> => {
    const row = this.snapshot.rows.find((r) => r.id === id);
    if (!row || row.state === 'running') return;
    this.abortRow(id);
    const controller = new AbortController();
    this.rowAborts.set(id, controller);
    this.markRunning(new Set([id]));
    let outcome: CheckOutcome;
    try {
      outcome = await client.check(toInput(row), controller.signal);
    } catch (err) {
      outcome = { ok: false, error: toApiError(err) };
    }
    if (controller.signal.aborted) return;
    this.rowAborts.delete(id);
    this.buffer(id, row.revision, outcome);
    this.flush();
  };

  /**
   * Checks every row that has no answer yet (errors included, so transient failures are retried);
   * when every row already has an answer, checks them all again.
   */
  readonly checkAll = async (client: ConsoleClient): Promise<void> => {
    if (this.snapshot.batch?.running) return;
    const idle = this.snapshot.rows.filter((row) => row.state !== 'running');
    const unanswered = idle.filter((row) => row.state !== 'done');
    const targets = unanswered.length > 0 ? unanswered : idle;
    if (targets.length === 0) return;
    const sent = targets.map((row) => ({ id: row.id, revision: row.revision }));
    const ids = new Set(sent.map((s) => s.id));
    const controller = new AbortController();
    this.batchAbort = controller;
    this.markRunning(ids);
    const startedAt = performance.now();
    this.update({
      batch: { running: true, startedAt, progress: { done: 0, total: targets.length, failed: 0, rate: 0, eta_s: null } },
      notice: undefined,
    });
    let failure: string | undefined;
    // Checks cut short by Cancel: the client counts them done and failed, the reviewer should not.
    let cutShort = 0;
    try {
      await client.checkBatch(
        targets.map(toInput),
        {
          onResult: (index, outcome) => {
            const item = sent[index];
            if (controller.signal.aborted && !outcome.ok && outcome.error.code === 'CANCELLED') {
              // Not an answer: its row goes back to waiting below.
              cutShort++;
              return;
            }
            if (item) this.buffer(item.id, item.revision, outcome);
          },
          onProgress: (progress) => {
            this.bufferedProgress = { ...progress, done: progress.done - cutShort, failed: progress.failed - cutShort };
            this.scheduleFlush();
          },
        },
        controller.signal,
      );
    } catch (err) {
      if (!controller.signal.aborted) failure = toApiError(err).message;
    }
    this.flush();
    if (this.batchAbort === controller) this.batchAbort = undefined;
    // Items the batch dropped (cancelled, or the batch failed) go back to waiting.
    const rows = this.snapshot.rows.map((row) =>
      ids.has(row.id) && row.state === 'running' && !this.rowAborts.has(row.id) ? { ...row, state: 'pending' as const } : row,
    );
    const batch = this.snapshot.batch;
    // Clear all during the batch removed its status: nothing to report then.
    if (!batch || batch.startedAt !== startedAt) {
      this.update({ rows });
      return;
    }
    this.update({
      rows,
      batch: {
        ...batch,
        running: false,
        outcome: failure ? 'failed' : controller.signal.aborted ? 'cancelled' : 'finished',
        elapsedS: (performance.now() - startedAt) / 1000,
        message: failure,
      },
    });
  };

  readonly cancelBatch = (): void => this.batchAbort?.abort();
}

const stores = new WeakMap<ConsoleClient, CheckerStore>();

/** The store of this client's checker, created on first use and kept for the page's life. */
export function checkerStoreFor(client: ConsoleClient): CheckerStore {
  let store = stores.get(client);
  if (!store) {
    store = new CheckerStore();
    stores.set(client, store);
  }
  return store;
}
