/**
 * The checker's rows and batch, kept outside React: one store per client, so switching to the
 * dashboard tab (which unmounts the checker) neither loses the rows nor stops a running batch.
 * Results are buffered and applied in one pass every FLUSH_MS, so a fast batch re-renders the
 * table a few times a second instead of once per answer.
 *
 * Nothing a reviewer typed or got back is dropped silently: an answer for text that has changed
 * stays on its row (marked stale) until the row is checked again; removing rows, clearing the
 * table and importing a list over typed captions can all be undone, and the last two ask first.
 * A row removed during a batch leaves it: it is not sent, or its check is cancelled.
 */
import { toApiError, type BatchProgress, type ConsoleClient } from '../api/console-client.ts';
import { CONSOLE_BATCH, runBatch } from '../api/batch-runner.ts';
import type { CheckResult, NamedCheckPair, Outcome } from '../../preload/wire-types.ts';
import { BatchPersistence, type BatchMeta } from './batch-persistence.ts';
import type { CheckRow, ImportedList } from './checker-rows.ts';
import { contentHashes, sortFiles, type PickedFile } from './file-intake.ts';
import { imageKey, matchPairs, parsePairList } from '../../preload/pair-list.ts';
import { countRows } from './row-filter.ts';
import { isServiceGone, rowsToSend, textRefusal, textToSend, type DefaultText, type SentText } from './row-status.ts';

export type { RowState } from './row-status.ts';
export type { CheckRow, ImportedList } from './checker-rows.ts';

export interface BatchStatus {
  running: boolean;
  progress: BatchProgress;
  startedAt: number;
  /** Rows left out because they had no caption at all. */
  skipped: number;
  /** Rows removed from the table before their answer came: not sent, or their check cancelled. Not in `progress`. */
  removed: number;
  /** Set when the batch has ended. */
  outcome?: 'finished' | 'cancelled' | 'failed';
  elapsedS?: number;
  message?: string;
  /** It stopped because the service was unavailable (its rows say "service unavailable"). */
  serviceGone?: boolean;
}

export interface NoticeAction {
  label: string;
  testId: string;
  run: () => void;
}

export interface Notice {
  kind: 'info' | 'error';
  text: string;
  /** Undo, "Remove the copies", ...: offered beside the text. */
  actions?: readonly NoticeAction[];
}

/** A question asked in the page before doing something that would lose a reviewer's work. */
export interface Question {
  text: string;
  /** Choices besides Cancel, which the view always offers. */
  choices: readonly { label: string; testId: string; danger?: boolean; run: () => void }[];
}

export interface CheckerSnapshot {
  rows: readonly CheckRow[];
  /** The caption fields: every row without its own text is checked against them. */
  defaults: DefaultText;
  list: ImportedList | undefined;
  batch: BatchStatus | undefined;
  notice: Notice | undefined;
  question: Question | undefined;
  /** True while the saved batch is read back after a reload. */
  restoring: boolean;
  /** Bumped whenever answers arrive; equal to exportedVersion once they have all been exported. */
  answersVersion: number;
  exportedVersion: number;
}

const FLUSH_MS = 80;

interface BufferedOutcome {
  sent: SentText;
  outcome: Outcome<CheckResult>;
}

/** Without a content hash, the same file is the same path, size and modification time. */
function fileSignature(path: string, size: number, lastModified: number): string {
  return `${path}\u0000${size}\u0000${lastModified}`;
}

/** Listed captions may span lines (quoted CSV); a row's caption is one line, like its input. */
function singleLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function toInput(row: CheckRow, sent: SentText): NamedCheckPair<Blob> {
  return { name: row.name, image: row.file, text: sent.caption, premise: sent.premise || undefined };
}

/** What a batch reports for a row removed before it was sent: no check, and not counted as one. */
const REMOVED: Outcome<CheckResult> = { ok: false, error: { code: 'CANCELLED', message: 'the row was removed before it was checked' } };

/** The batch running now, as far as removing rows is concerned. */
interface BatchRun {
  /** Rows with no answer yet: removing one takes it out, so that it is not sent. */
  readonly waiting: Set<number>;
  /** The cancel of each row being checked now. */
  readonly inFlight: Map<number, AbortController>;
  readonly startedAt: number;
  /** Rows removed while waiting. */
  removed: number;
  /** Results the batch runner reported that are no answers (rows removed, checks cut short by Cancel), and how many of them it counted failed. */
  dropped: number;
  droppedFailed: number;
  /** The runner's own figures, removed rows included. */
  raw: BatchProgress;
}

/** The progress a reviewer is shown: of the rows checked, not those removed or cut short. */
function shownProgress(run: BatchRun, elapsedS = (performance.now() - run.startedAt) / 1000): BatchProgress {
  const done = run.raw.done - run.dropped;
  const total = run.raw.total - run.removed;
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  return {
    done,
    total,
    failed: run.raw.failed - run.droppedFailed,
    rate,
    eta_s: done > 0 && rate > 0 ? Math.max(0, total - done) / rate : null,
  };
}

/** A row taken out of the table comes back waiting if it was in flight: that answer is not kept. */
function settled(row: CheckRow): CheckRow {
  return row.state === 'running' ? { ...row, state: 'pending' } : row;
}

/** The rows with these rows put back where they were (rows keep the order they were added in). */
function withRowsBack(rows: readonly CheckRow[], back: readonly CheckRow[]): CheckRow[] {
  const present = new Set(rows.map((row) => row.id));
  return [...rows, ...back.filter((row) => !present.has(row.id)).map(settled)].sort((a, b) => a.id - b.id);
}

export class CheckerStore {
  private snapshot: CheckerSnapshot = {
    rows: [],
    defaults: { caption: '', premise: '' },
    list: undefined,
    batch: undefined,
    notice: undefined,
    question: undefined,
    restoring: false,
    answersVersion: 0,
    exportedVersion: 0,
  };
  private readonly listeners = new Set<() => void>();
  private nextId = 1;
  private batchAbort: AbortController | undefined;
  private batchRun: BatchRun | undefined;
  /** The removals the notice shown now speaks of: one Undo brings back all of them. */
  private removal: { notice: Notice; rows: readonly CheckRow[] } | undefined;
  private readonly rowAborts = new Map<number, AbortController>();
  private readonly buffered = new Map<number, BufferedOutcome>();
  private bufferedProgress: BatchProgress | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private persistence: BatchPersistence | undefined;
  /** Settles once the saved batch is back (at once without persistence). */
  private restored: Promise<void> = Promise.resolve();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): CheckerSnapshot => this.snapshot;

  private update(patch: Partial<CheckerSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    const { rows, defaults, list, answersVersion, exportedVersion, restoring } = this.snapshot;
    // Not while restoring: an empty table then is not the batch, and must not overwrite it.
    if (!restoring) this.persistence?.save({ rows, meta: { defaults, list, answersVersion, exportedVersion } });
    for (const listener of this.listeners) listener();
  }

  /**
   * Reads the saved batch back and keeps every later change. Drops, imports and checks wait until
   * it is back. Call once, right after creating the store; `opened` resolves undefined where
   * there is no storage.
   */
  readonly attach = (opened: Promise<BatchPersistence | undefined>): Promise<void> => {
    this.update({ restoring: true });
    this.restored = opened.then(
      (persistence) => {
        if (!persistence) return this.update({ restoring: false });
        this.persistence = persistence;
        return this.restoreFrom(persistence);
      },
      () => this.update({ restoring: false }),
    );
    return this.restored;
  };

  private async restoreFrom(persistence: BatchPersistence): Promise<void> {
    let notice: Notice | undefined;
    const patch: Partial<CheckerSnapshot> = {};
    try {
      const saved = await persistence.load();
      const meta: BatchMeta | undefined = saved.meta;
      patch.rows = [...saved.rows, ...this.snapshot.rows];
      this.nextId = Math.max(this.nextId, ...patch.rows.map((row) => row.id + 1));
      if (meta) {
        const typed = this.snapshot.defaults;
        if (typed.caption === '' && typed.premise === '') patch.defaults = meta.defaults;
        patch.list = this.snapshot.list ?? meta.list;
        patch.answersVersion = meta.answersVersion;
        patch.exportedVersion = meta.exportedVersion;
      }
      if (saved.lost > 0) {
        notice = { kind: 'error', text: `${plural(saved.lost, 'row')} of the last batch could not be restored (the image was not saved).` };
      } else if (saved.interrupted) {
        // The reviewer left (or the window went) mid-batch: say where it stopped and how to go on.
        // The rows Check would send now (those it cut off included): what is left of the batch.
        const waiting = rowsToSend(patch.rows, patch.defaults ?? this.snapshot.defaults).length;
        notice = {
          kind: 'info',
          text: `The last batch stopped when the page was left: ${plural(waiting, 'row')} ${waiting === 1 ? 'has' : 'have'} no answer for ${waiting === 1 ? 'its' : 'their'} caption yet; press Check to go on.`,
        };
      }
    } catch (err) {
      notice = { kind: 'error', text: `The last batch could not be read back: ${toApiError(err).message}` };
    }
    this.update({ ...patch, restoring: false, ...(notice ? { notice } : {}) });
  }

  /**
   * The page is going (pagehide): with rows of a batch left, the next load is told it was cut short.
   * Back from the back/forward cache (`persisted`), the page is the same one: the mark goes.
   */
  readonly notePageHidden = (): void => {
    // Rows of the batch still without an answer (the last one may show before the batch has ended).
    if ((this.batchRun?.waiting.size ?? 0) > 0) this.persistence?.markInterrupted();
  };
  readonly notePageShownAgain = (): void => this.persistence?.clearInterrupted();

  /** Waits for pending writes (tests; and before the page goes, best effort). */
  readonly flushSaved = async (): Promise<void> => {
    await this.restored;
    await this.persistence?.flush();
  };

  readonly reportStorageError = (message: string): void => this.update({ notice: { kind: 'error', text: `Note: ${message}.` } });

  readonly dismissNotice = (): void => this.update({ notice: undefined });
  readonly dismissQuestion = (): void => this.update({ question: undefined });

  readonly setDefaultCaption = (caption: string): void => this.update({ defaults: { ...this.snapshot.defaults, caption } });
  readonly setDefaultPremise = (premise: string): void => this.update({ defaults: { ...this.snapshot.defaults, premise } });

  /**
   * True while leaving would lose sight of work: rows not checked yet, a batch running, or answers
   * not exported since they came.
   */
  readonly hasUnfinishedWork = (): boolean => {
    const { rows, defaults, batch, answersVersion, exportedVersion } = this.snapshot;
    if (rows.length === 0) return false;
    const counts = countRows(rows, defaults);
    return batch?.running === true || counts.unchecked + counts.nocaption > 0 || answersVersion !== exportedVersion;
  };

  /** An export of every row counts as "exported"; one of a filtered view does not. */
  readonly markExported = (allRows: boolean): void => {
    if (allRows) this.update({ exportedVersion: this.snapshot.answersVersion });
  };

  /**
   * Adds dropped or picked files: images become rows, .csv/.jsonl files are imported as lists.
   * The same file dropped again (same path and bytes) is left out; the same bytes under another
   * path (a copy in another folder) are added, marked, and the reviewer can remove the copies.
   */
  readonly addFiles = async (picked: readonly PickedFile[]): Promise<void> => {
    await this.restored;
    const { images, lists, skipped } = sortFiles(picked);
    const hashes = await contentHashes(images.map((image) => image.file));
    const hashed = images.map((image, i) => ({ picked: image, hash: hashes[i] }));
    const { rows, list } = this.snapshot;
    const byHash = new Map<string, string>();
    const signatures = new Set<string>();
    const pathAndHash = new Set<string>();
    for (const row of rows) {
      if (row.hash) {
        if (!byHash.has(row.hash)) byHash.set(row.hash, row.path);
        pathAndHash.add(`${row.path}\u0000${row.hash}`);
      }
      signatures.add(fileSignature(row.path, row.size, row.lastModified));
    }
    const added: CheckRow[] = [];
    let again = 0;
    for (const {
      picked: { file, path },
      hash,
    } of hashed) {
      const signature = fileSignature(path, file.size, file.lastModified);
      if (hash ? pathAndHash.has(`${path}\u0000${hash}`) : signatures.has(signature)) {
        again++;
        continue;
      }
      const copyOf = hash ? byHash.get(hash) : undefined;
      if (hash) {
        if (!byHash.has(hash)) byHash.set(hash, path);
        pathAndHash.add(`${path}\u0000${hash}`);
      }
      signatures.add(signature);
      // A listed caption is specific to this image, so it is the row's own.
      const listed = list?.byKey.get(imageKey(file.name));
      added.push({
        id: this.nextId++,
        file,
        name: file.name,
        path,
        size: file.size,
        lastModified: file.lastModified,
        ...(hash ? { hash } : {}),
        ...(copyOf ? { copyOf } : {}),
        caption: listed ? singleLine(listed.caption) : '',
        premise: listed ? singleLine(listed.premise ?? '') : '',
        state: 'pending',
      });
    }
    const copies = added.filter((row) => row.copyOf !== undefined);
    const parts: string[] = [];
    if (added.length > 0) parts.push(`Added ${plural(added.length, 'file')}`);
    if (again > 0) parts.push(`${again} already in the table (not added again)`);
    const first = copies[0];
    if (first) {
      const which = `${first.path} is the same image as ${first.copyOf}${copies.length > 1 ? ', …' : ''}`;
      parts.push(`${copies.length === 1 ? '1 is a copy' : `${copies.length} are copies`} of an image already here (${which})`);
    }
    if (skipped > 0) parts.push(`skipped ${plural(skipped, 'system file')}`);
    const ids = new Set(copies.map((row) => row.id));
    this.update({
      rows: added.length > 0 ? [...this.snapshot.rows, ...added] : this.snapshot.rows,
      // Only worth a line when something was left out or doubled; added rows speak for themselves.
      notice:
        again > 0 || skipped > 0 || copies.length > 0
          ? {
              kind: 'info',
              text: parts.join('; ') + '.',
              actions:
                copies.length > 0
                  ? [
                      {
                        label: copies.length === 1 ? 'Remove the copy' : `Remove the ${copies.length} copies`,
                        testId: 'remove-copies',
                        run: () => this.removeRows(ids, copies.length === 1 ? `Removed ${first?.path}` : `Removed ${copies.length} copies`),
                      },
                      { label: 'Keep', testId: 'keep-copies', run: this.dismissNotice },
                    ]
                  : undefined,
            }
          : this.snapshot.notice,
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
    await this.restored;
    this.importListText(file.name, text);
  };

  /**
   * Loads a pair list and gives the rows it names their listed caption and premise. Rows with a
   * caption of their own that the list would change are not touched without asking.
   */
  readonly importListText = (fileName: string, text: string): void => {
    const parsed = parsePairList(text, fileName);
    if (parsed.entries.length === 0) {
      const why = parsed.problems[0] ? ` (line ${parsed.problems[0].line}: ${parsed.problems[0].message})` : '';
      this.update({ notice: { kind: 'error', text: `No image/caption pairs found in ${fileName}${why}.` } });
      return;
    }
    const { byKey, duplicates } = matchPairs(parsed.entries, []);
    const list: ImportedList = { fileName, format: parsed.format, entries: parsed.entries, byKey, duplicates, problems: parsed.problems };
    const changes: { id: number; caption: string; premise: string; conflict: boolean }[] = [];
    for (const row of this.snapshot.rows) {
      const entry = byKey.get(imageKey(row.name));
      if (!entry) continue;
      const caption = singleLine(entry.caption);
      const premise = singleLine(entry.premise ?? '');
      if (caption === row.caption && premise === row.premise) continue;
      const conflict = (row.caption !== '' && row.caption !== caption) || (row.premise !== '' && row.premise !== premise);
      changes.push({ id: row.id, caption, premise, conflict });
    }
    const apply = (chosen: typeof changes, kept: number) => {
      const previousList = this.snapshot.list;
      const byId = new Map(chosen.map((change) => [change.id, change]));
      const before: CheckRow[] = [];
      const rows = this.snapshot.rows.map((row) => {
        const change = byId.get(row.id);
        if (!change) return row;
        before.push(row);
        return { ...row, caption: change.caption, premise: change.premise };
      });
      const keptText = kept > 0 ? ` (${plural(kept, 'row')} kept their own)` : '';
      this.update({
        rows,
        list,
        question: undefined,
        notice: {
          kind: 'info',
          text:
            `Imported ${plural(byKey.size, 'pair')} from ${fileName}; ` +
            `${plural(chosen.length, 'row')} in the table got the listed caption${keptText}.`,
          actions: [{ label: 'Undo', testId: 'undo', run: () => this.undoImport(before, previousList) }],
        },
      });
    };
    const conflicts = changes.filter((change) => change.conflict);
    if (conflicts.length === 0) {
      apply(changes, 0);
      return;
    }
    this.update({
      question: {
        text: `${fileName} gives ${plural(conflicts.length, 'row')} a different caption than the one they already have. Replace them?`,
        choices: [
          { label: `Replace ${plural(conflicts.length, 'caption')}`, testId: 'import-replace', danger: true, run: () => apply(changes, 0) },
          {
            label: 'Keep their captions',
            testId: 'import-keep',
            run: () =>
              apply(
                changes.filter((change) => !change.conflict),
                conflicts.length,
              ),
          },
        ],
      },
    });
  };

  private undoImport(before: readonly CheckRow[], previousList: ImportedList | undefined): void {
    const byId = new Map(before.map((row) => [row.id, row]));
    const rows = this.snapshot.rows.map((row) => {
      const old = byId.get(row.id);
      return old ? { ...row, caption: old.caption, premise: old.premise } : row;
    });
    this.update({ rows, list: previousList, notice: { kind: 'info', text: 'Import undone: the rows have their captions back.' } });
  }

  readonly removeList = (): void => this.update({ list: undefined });

  /** The row's own caption; '' hands it back to the caption field. Its answer stays, marked stale. */
  readonly setRowCaption = (id: number, caption: string): void => {
    this.update({ rows: this.snapshot.rows.map((row) => (row.id === id ? { ...row, caption: singleLine(caption) } : row)) });
  };

  readonly removeRow = (id: number): void => {
    const row = this.snapshot.rows.find((r) => r.id === id);
    if (row) this.removeRows(new Set([id]), `Removed ${row.path}`);
  };

  /**
   * Removes rows, stopping their checks (a batch's rows not sent yet are never sent). Removals one
   * after another, while the notice of the last is shown, make one notice whose Undo brings back all.
   */
  private removeRows(ids: ReadonlySet<number>, text: string): void {
    // Answers already here go with their rows (and come back with Undo).
    this.flush();
    const removed = this.snapshot.rows.filter((row) => ids.has(row.id));
    // Removed by hand already (the copies offered for removal): nothing left to undo.
    if (removed.length === 0) return this.dismissNotice();
    for (const row of removed) {
      this.abortRow(row.id);
      this.leaveBatch(row.id);
    }
    const earlier = this.removal && this.removal.notice === this.snapshot.notice ? this.removal.rows : [];
    const rows = [...earlier, ...removed];
    const notice: Notice = {
      kind: 'info',
      text: earlier.length === 0 ? `${text}.` : `Removed ${plural(rows.length, 'row')}.`,
      actions: [{ label: 'Undo', testId: 'undo', run: () => this.putBack(rows) }],
    };
    this.removal = { notice, rows };
    const run = this.batchRun;
    const batch = this.snapshot.batch;
    this.update({
      rows: this.snapshot.rows.filter((row) => !ids.has(row.id)),
      notice,
      ...(run && batch?.running ? { batch: { ...batch, removed: run.removed, progress: shownProgress(run) } } : {}),
    });
  }

  /** Takes a removed row out of the running batch: not sent if it is waiting, its check cancelled if in flight. */
  private leaveBatch(id: number): void {
    const run = this.batchRun;
    if (!run?.waiting.delete(id)) return;
    run.removed++;
    run.inFlight.get(id)?.abort();
  }

  private putBack(removed: readonly CheckRow[]): void {
    // A row removed while it was being checked (or waiting for it in a batch) comes back not checked.
    const stopped = removed.filter((row) => row.state === 'running').length;
    const rows = plural(removed.length, 'row');
    let text = `Restored ${rows} with their captions and answers.`;
    if (stopped === removed.length) text = `Restored ${rows} with their captions; not checked (removed before their answer came).`;
    else if (stopped > 0)
      text = `Restored ${rows} with their captions and answers; ${stopped} not checked (removed before their answer came).`;
    this.update({ rows: withRowsBack(this.snapshot.rows, removed), notice: { kind: 'info', text } });
  }

  /** Asks in the page first; the table can then still be brought back with Undo. */
  readonly requestClearAll = (): void => {
    const { rows } = this.snapshot;
    if (rows.length === 0) return;
    const answers = rows.filter((row) => row.state === 'done' || row.state === 'error').length;
    const own = rows.filter((row) => row.caption !== '').length;
    const details = [answers > 0 ? plural(answers, 'answer') : '', own > 0 ? plural(own, 'caption') + ' typed or imported' : '']
      .filter(Boolean)
      .join(' and ');
    this.update({
      question: {
        text:
          `Clear all ${plural(rows.length, 'row')}${details ? `, with ${details}` : ''}?` +
          (this.snapshot.batch?.running ? ' The running batch stops.' : ''),
        choices: [{ label: 'Clear all', testId: 'confirm-clear', danger: true, run: this.clearAll }],
      },
    });
  };

  readonly clearAll = (): void => {
    const removed = this.snapshot.rows;
    this.batchAbort?.abort();
    for (const id of [...this.rowAborts.keys()]) this.abortRow(id);
    this.buffered.clear();
    this.update({
      rows: [],
      batch: undefined,
      question: undefined,
      notice:
        removed.length > 0
          ? {
              kind: 'info',
              text: `Cleared ${plural(removed.length, 'row')}.`,
              actions: [{ label: 'Undo', testId: 'undo', run: () => this.putBack(removed) }],
            }
          : undefined,
    });
  };

  /** Stops the single check of a row (it was removed). */
  private abortRow(id: number): void {
    this.rowAborts.get(id)?.abort();
    this.rowAborts.delete(id);
  }

  private markRunning(ids: ReadonlySet<number>): void {
    this.update({ rows: this.snapshot.rows.map((row) => (ids.has(row.id) ? { ...row, state: 'running' } : row)) });
  }

  private buffer(id: number, sent: SentText, outcome: Outcome<CheckResult>): void {
    this.buffered.set(id, { sent, outcome });
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
      let answered = 0;
      patch.rows = this.snapshot.rows.map((row) => {
        const answer = buffered.get(row.id);
        // A row no longer waiting (removed and put back, or cleared) does not take the answer.
        if (!answer || row.state !== 'running') return row;
        answered++;
        const { outcome, sent } = answer;
        return outcome.ok
          ? { ...row, state: 'done', result: outcome.value, error: undefined, checked: sent }
          : { ...row, state: 'error', error: outcome.error, result: undefined, checked: sent };
      });
      buffered.clear();
      if (answered > 0) patch.answersVersion = this.snapshot.answersVersion + 1;
    }
    const batch = this.snapshot.batch;
    if (this.bufferedProgress && batch) patch.batch = { ...batch, progress: this.bufferedProgress };
    this.bufferedProgress = undefined;
    if (patch.rows || patch.batch) this.update(patch);
  }

  /**
   * Checks one row; not one the service would refuse for its text: over its length limit
   * (`maxTextBytes`, the service's), or without a word the model reads (`maxWords`, the model's limit).
   */
  readonly checkRow = async (client: ConsoleClient, id: number, maxTextBytes?: number, maxWords?: number): Promise<void> => {
    const row = this.snapshot.rows.find((r) => r.id === id);
    if (!row || row.state === 'running') return;
    const sent = textToSend(row, this.snapshot.defaults);
    if (sent.caption === '' || textRefusal(sent, maxTextBytes, maxWords) !== undefined) return;
    this.abortRow(id);
    const controller = new AbortController();
    this.rowAborts.set(id, controller);
    this.markRunning(new Set([id]));
    let outcome: Outcome<CheckResult>;
    try {
      outcome = await client.check(toInput(row, sent), controller.signal);
    } catch (err) {
      outcome = { ok: false, error: toApiError(err) };
    }
    if (controller.signal.aborted) return;
    this.rowAborts.delete(id);
    this.buffer(id, sent, outcome);
    this.flush();
  };

  /**
   * Checks every ready row without a current answer (see rowsToSend), each with its own caption or
   * else the caption field's as it is now. Rows with no caption at all are not sent, nor rows the
   * service would refuse (text over `maxTextBytes` or without a word the model reads, `maxWords`
   * being its limit, or refused before for the same text). A row removed from the table meanwhile
   * is not sent, or its check is cancelled; the progress then counts the rows left.
   */
  readonly checkAll = async (client: ConsoleClient, maxTextBytes?: number, maxWords?: number): Promise<void> => {
    if (this.snapshot.batch?.running) return;
    await this.restored;
    const { rows, defaults } = this.snapshot;
    const targets = rowsToSend(rows, defaults, maxTextBytes, maxWords);
    if (targets.length === 0) return;
    const skipped = rows.filter((row) => row.state !== 'running' && textToSend(row, defaults).caption === '').length;
    const sent = targets.map((row) => {
      const text = textToSend(row, defaults);
      return { id: row.id, input: toInput(row, text), text };
    });
    const ids = new Set(sent.map((s) => s.id));
    const controller = new AbortController();
    this.batchAbort = controller;
    this.markRunning(ids);
    const startedAt = performance.now();
    const progress: BatchProgress = { done: 0, total: targets.length, failed: 0, rate: 0, eta_s: null };
    const run: BatchRun = {
      waiting: new Set(ids),
      inFlight: new Map(),
      startedAt,
      removed: 0,
      dropped: 0,
      droppedFailed: 0,
      raw: progress,
    };
    this.batchRun = run;
    this.update({ batch: { running: true, startedAt, skipped, removed: 0, progress }, notice: undefined });
    let failure: string | undefined;
    let unavailable = false;
    // Each row goes as a batch of its own through the client (its retries of OVERLOADED, its reading
    // of images), under a signal of its own, so that removing the row cancels that check alone; the
    // runner here keeps 4 in flight, and once the service is gone reports the rest without sending.
    const checkOne = async (item: (typeof sent)[number], batchSignal: AbortSignal): Promise<Outcome<CheckResult>> => {
      if (!run.waiting.has(item.id)) return REMOVED;
      const row = new AbortController();
      const cancel = () => row.abort();
      batchSignal.addEventListener('abort', cancel, { once: true });
      run.inFlight.set(item.id, row);
      let outcome: Outcome<CheckResult> = REMOVED;
      try {
        await client.checkBatch([item.input], { onResult: (_, answer) => (outcome = answer), onProgress: () => undefined }, row.signal);
      } catch (err) {
        if (!row.signal.aborted) outcome = { ok: false, error: toApiError(err) };
      } finally {
        run.inFlight.delete(item.id);
        batchSignal.removeEventListener('abort', cancel);
      }
      return outcome;
    };
    try {
      await runBatch(
        sent,
        checkOne,
        {
          onResult: (index, outcome) => {
            const item = sent[index];
            if (!item) return;
            // Removed from the table (not sent, or cancelled), or cut short by Cancel: not an answer.
            // A row cut short goes back to waiting below.
            const cutShort = controller.signal.aborted && !outcome.ok && outcome.error.code === 'CANCELLED';
            if (!run.waiting.has(item.id) || cutShort) {
              run.dropped++;
              if (!outcome.ok) run.droppedFailed++;
              return;
            }
            run.waiting.delete(item.id);
            // The runner stops sending once the service is gone and says so on each row left.
            if (!outcome.ok && isServiceGone(outcome.error)) unavailable = true;
            this.buffer(item.id, item.text, outcome);
          },
          onProgress: (raw) => {
            run.raw = raw;
            this.bufferedProgress = shownProgress(run);
            this.scheduleFlush();
          },
        },
        controller.signal,
        // The client retries OVERLOADED answers itself.
        { ...CONSOLE_BATCH, overloadRetries: 0 },
      );
    } catch (err) {
      if (!controller.signal.aborted) failure = toApiError(err).message;
    }
    this.bufferedProgress = shownProgress(run);
    this.flush();
    // Its rows are errors (the counts say so, and the summary counts them): Check sends them again.
    const serviceGone = unavailable && failure === undefined;
    if (serviceGone) failure = 'the service is unavailable; press Check again once it is back';
    if (this.batchAbort === controller) this.batchAbort = undefined;
    if (this.batchRun === run) this.batchRun = undefined;
    // Items the batch dropped (cancelled, or the batch failed) go back to waiting.
    const after = this.snapshot.rows.map((row) =>
      ids.has(row.id) && row.state === 'running' && !this.rowAborts.has(row.id) ? { ...row, state: 'pending' as const } : row,
    );
    const batch = this.snapshot.batch;
    // Clear all during the batch removed its status: nothing to report then.
    if (!batch || batch.startedAt !== startedAt) {
      this.update({ rows: after });
      return;
    }
    const elapsedS = (performance.now() - startedAt) / 1000;
    this.update({
      rows: after,
      batch: {
        ...batch,
        // The summary's rate over the time it states, so that the two agree.
        progress: { ...shownProgress(run, elapsedS), eta_s: null },
        running: false,
        removed: run.removed,
        outcome: failure ? 'failed' : controller.signal.aborted ? 'cancelled' : 'finished',
        elapsedS,
        message: failure,
        serviceGone,
      },
    });
  };

  readonly cancelBatch = (): void => this.batchAbort?.abort();
}

const stores = new WeakMap<ConsoleClient, CheckerStore>();

/**
 * The store of this client's checker, created on first use and kept for the page's life: in a
 * page with IndexedDB its batch is saved there and read back after a reload, and (in a browser)
 * leaving with rows not checked or answers not exported asks first.
 */
export function checkerStoreFor(client: ConsoleClient): CheckerStore {
  let store = stores.get(client);
  if (!store) {
    const created = new CheckerStore();
    store = created;
    stores.set(client, created);
    void created.attach(BatchPersistence.open(created.reportStorageError));
    if (typeof window !== 'undefined') {
      window.addEventListener('pagehide', () => {
        created.notePageHidden();
        void created.flushSaved();
      });
      window.addEventListener('pageshow', (event) => {
        if (event.persisted) created.notePageShownAgain();
      });
      // In Electron the main process turns this into a dialog (will-prevent-unload in secure-window.ts).
      window.addEventListener('beforeunload', (event) => {
        if (!created.hasUnfinishedWork()) return;
        event.preventDefault();
        // Older Chromium asks only when returnValue is set.
        event.returnValue = '';
      });
    }
  }
  return store;
}
