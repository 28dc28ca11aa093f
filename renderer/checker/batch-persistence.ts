/**
 * Keeps the checker's batch (rows with their image bytes, captions, answers, the caption fields
 * and the imported list) in IndexedDB, so a reload or a crashed window loses nothing. In Electron
 * IndexedDB lives in the app's user data folder, so the same code serves the desktop app.
 *
 * Writes are batched: the store hands over every new snapshot, and at most once per FLUSH_MS (and
 * within MAX_DELAY_MS of the first change) the rows that changed since the last write (rows are
 * immutable, so "changed" is "another object") go out in one transaction. Images are stored once,
 * as Blobs (not data URLs), in their own object store, so an answer or a caption edit rewrites a
 * few hundred bytes, not the photo.
 *
 * A reload does not wait for an IndexedDB write (one begun in pagehide, or still queued behind the
 * last, never commits), so what changed since the last committed write is also kept, synchronously,
 * in a localStorage journal: one key per changed row (its record, without the image) and one for
 * the meta, set as the change is handed over and removed once IndexedDB has committed it. load()
 * reads the journal over the database, so every answer shown before a reload is there after it.
 * A page that goes in the middle of a batch leaves a mark there too (markInterrupted), so that the
 * next load can say the batch was cut short.
 */
import type { CheckRow, ImportedList } from './checker-rows.ts';
import { isServiceGone, type DefaultText } from './row-status.ts';

const DB_NAME = 'ofa-ve-checker';
const DB_VERSION = 1;
const ROWS = 'rows';
const IMAGES = 'images';
const META = 'meta';
const META_KEY = 'batch';

const FLUSH_MS = 250;
const MAX_DELAY_MS = 1000;
/** New image bytes per transaction: a drop of thousands of photos is written over several. */
const MAX_IMAGE_BYTES_PER_WRITE = 64 * 1024 * 1024;
/** localStorage keys of the journal: `<db name>:unsaved-row:<id>` and `<db name>:unsaved-meta`. */
const JOURNAL_ROW = ':unsaved-row:';
const JOURNAL_META = ':unsaved-meta';
/** localStorage key `<db name>:interrupted-batch`: set when the page goes while a batch runs. */
const JOURNAL_INTERRUPTED = ':interrupted-batch';

/** Everything but the rows: small, written whole when any part of it changes. */
export interface BatchMeta {
  defaults: DefaultText;
  list: ImportedList | undefined;
  /** Bumped whenever answers arrive; equal to exportedVersion when they have all been exported. */
  answersVersion: number;
  exportedVersion: number;
}

export interface SavedBatch {
  rows: CheckRow[];
  meta: BatchMeta | undefined;
  /** Rows whose image was not stored (the write failed): they cannot be checked, so not restored. */
  lost: number;
  /** The page went while a batch was running (a reload, a closed window): its rows left unchecked wait again. */
  interrupted: boolean;
}

export interface BatchState {
  rows: readonly CheckRow[];
  meta: BatchMeta;
}

/** A row as stored: everything but the image, which has its own store under the same id. */
type RowRecord = Omit<CheckRow, 'file'>;

/** The meta as journaled: the imported list (with its Map) is left to IndexedDB. */
type JournalMeta = Omit<BatchMeta, 'list'>;

/** The page's localStorage, or undefined where there is none (Node) or it may not be used. */
function pageStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

/**
 * Rows in flight, and rows the service never answered (it was gone: or the page was, which cancels
 * the checks in flight as it unloads), are not answers: not journaled, they come back as they were.
 */
function worthJournaling(row: CheckRow): boolean {
  return row.state !== 'running' && !(row.state === 'error' && isServiceGone(row.error));
}

function toRecord(row: CheckRow): RowRecord {
  const { file: _file, ...record } = row;
  return record;
}

function sameMeta(a: BatchMeta | undefined, b: BatchMeta): boolean {
  return (
    a !== undefined &&
    a.defaults === b.defaults &&
    a.list === b.list &&
    a.answersVersion === b.answersVersion &&
    a.exportedVersion === b.exportedVersion
  );
}

export class BatchPersistence {
  /** The row objects and images as last written, to find what changed. */
  private readonly written = new Map<number, CheckRow>();
  private readonly imagesWritten = new Set<number>();
  private metaWritten: BatchMeta | undefined;
  private latest: BatchState | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private firstPendingAt: number | undefined;
  private writing: Promise<void> = Promise.resolve();
  private failing = false;
  /** Counts save() calls: a journal entry is cleared once a write of a state at least as new commits. */
  private saves = 0;
  private latestSeq = 0;
  /** The row objects and meta now in the journal, with the save that put them there. */
  private readonly journaled = new Map<number, { row: CheckRow; seq: number }>();
  private metaJournaled: { meta: BatchMeta; seq: number } | undefined;
  private journalFailing = false;
  private journalReported = false;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly onError: (message: string) => void,
    private readonly name: string,
    private readonly journal: Storage | undefined = pageStorage(),
  ) {}

  /** Opens the database, or resolves undefined where there is no IndexedDB (or it refuses). */
  static async open(onError: (message: string) => void, name = DB_NAME): Promise<BatchPersistence | undefined> {
    if (typeof indexedDB === 'undefined') return undefined;
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(ROWS)) db.createObjectStore(ROWS, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(IMAGES)) db.createObjectStore(IMAGES);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    try {
      return new BatchPersistence(await request(req), onError, name);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      onError(`the batch will not survive a reload: cannot open the browser's storage (${why})`);
      return undefined;
    }
  }

  /** The saved batch, rows in the order they were added; what it returns counts as written. */
  async load(): Promise<SavedBatch> {
    const tx = this.db.transaction([ROWS, IMAGES, META], 'readonly');
    const [records, imageKeys, images, meta] = await Promise.all([
      request(tx.objectStore(ROWS).getAll() as IDBRequest<RowRecord[]>),
      request(tx.objectStore(IMAGES).getAllKeys()),
      request(tx.objectStore(IMAGES).getAll() as IDBRequest<Blob[]>),
      request(tx.objectStore(META).get(META_KEY) as IDBRequest<BatchMeta | undefined>),
    ]);
    const byId = new Map<number, Blob>();
    imageKeys.forEach((key, i) => byId.set(Number(key), images[i] as Blob));
    const rows: CheckRow[] = [];
    let lost = 0;
    for (const record of records) {
      const file = byId.get(record.id);
      if (!file) {
        lost++;
        continue;
      }
      // A check in flight when the window went is not coming back: the row waits again.
      const row: CheckRow = record.state === 'running' ? { ...record, file, state: 'pending' } : { ...record, file };
      rows.push(row);
      this.imagesWritten.add(row.id);
      // Rows changed on load are written again (their state), the others are as stored.
      if (record.state !== 'running') this.written.set(row.id, row);
    }
    rows.sort((a, b) => a.id - b.id);
    this.metaWritten = meta;
    const journaled = this.readJournal(rows);
    return {
      rows: journaled.rows,
      meta: journaled.meta ? { ...journaled.meta, list: meta?.list } : meta,
      lost,
      interrupted: this.takeInterrupted(),
    };
  }

  /**
   * The rows and meta with what the journal holds over them (changes IndexedDB had not committed).
   * Journaled rows count as not written, so the next write stores them and clears their entries.
   */
  private readJournal(rows: CheckRow[]): { rows: CheckRow[]; meta: JournalMeta | undefined } {
    const storage = this.journal;
    if (!storage) return { rows, meta: undefined };
    const byId = new Map(rows.map((row, i) => [row.id, i]));
    const prefix = this.name + JOURNAL_ROW;
    const keys: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (key?.startsWith(prefix)) keys.push(key);
    }
    for (const key of keys) {
      const id = Number(key.slice(prefix.length));
      const at = byId.get(id);
      const record = at === undefined ? undefined : this.parse<RowRecord>(storage.getItem(key));
      const stored = at === undefined ? undefined : rows[at];
      if (!record || !stored || record.id !== id) {
        // A row that is gone (or an entry that cannot be read): nothing to bring back.
        storage.removeItem(key);
        continue;
      }
      const row: CheckRow = { ...record, file: stored.file, state: record.state === 'running' ? 'pending' : record.state };
      rows[at as number] = row;
      this.written.delete(id);
      this.journaled.set(id, { row, seq: 0 });
    }
    const meta = this.parse<JournalMeta>(storage.getItem(this.name + JOURNAL_META));
    return { rows, meta };
  }

  private parse<T>(text: string | null): T | undefined {
    if (text === null) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  /**
   * Puts every row that differs from what IndexedDB holds into the journal, now: a reload from
   * here on finds it. Rows whose image is not stored yet are left out (they cannot come back
   * without it). O(rows) per call, and only the changed rows are serialised: 1000 answers at once
   * cost about 15-35 ms (measured in Chromium), a flush's few answers well under 1 ms.
   */
  private journalChanges(state: BatchState, seq: number): void {
    const storage = this.journal;
    if (!storage || this.journalFailing) return;
    try {
      for (const row of state.rows) {
        const entry = this.journaled.get(row.id);
        if (!this.imagesWritten.has(row.id) || entry?.row === row || !worthJournaling(row)) continue;
        // As IndexedDB holds it: nothing to journal. Back to that by an Undo after a newer row was
        // journaled, it is journaled too: a write of the newer row may still commit.
        if (!entry && this.written.get(row.id) === row) continue;
        storage.setItem(this.name + JOURNAL_ROW + row.id, JSON.stringify(toRecord(row)));
        this.journaled.set(row.id, { row, seq });
      }
      const metaStored = this.metaJournaled === undefined && sameMeta(this.metaWritten, state.meta);
      if (!metaStored && !sameMeta(this.metaJournaled?.meta, state.meta)) {
        const { list: _list, ...meta } = state.meta;
        storage.setItem(this.name + JOURNAL_META, JSON.stringify(meta));
        this.metaJournaled = { meta: state.meta, seq };
      }
    } catch (err) {
      // Full or refused: IndexedDB still keeps the batch, only the last second may not survive a
      // reload. Tried again once a write has emptied the journal; said once.
      this.journalFailing = true;
      if (this.journalReported) return;
      this.journalReported = true;
      this.onError(`the answers of the last second may not survive a reload (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Drops the journal entries that IndexedDB now holds: those put there by save `seq` or before. */
  private clearJournaled(seq: number): void {
    const storage = this.journal;
    if (!storage) return;
    this.journalFailing = false;
    for (const [id, entry] of this.journaled) {
      if (entry.seq > seq) continue;
      this.journaled.delete(id);
      storage.removeItem(this.name + JOURNAL_ROW + id);
    }
    if (this.metaJournaled !== undefined && this.metaJournaled.seq <= seq) {
      this.metaJournaled = undefined;
      storage.removeItem(this.name + JOURNAL_META);
    }
  }

  /**
   * Notes, synchronously, that the page is going while a batch runs (called from pagehide, before
   * the unload cancels its checks, whose ends could otherwise look like a batch that finished), so
   * that the next load can say the batch was cut short.
   */
  markInterrupted(): void {
    try {
      this.journal?.setItem(this.name + JOURNAL_INTERRUPTED, '1');
    } catch {
      // A full or refused localStorage: the batch is still restored, only not said to be cut short.
    }
  }

  /** Clears the mark: the page stayed after all (back from the back/forward cache). */
  clearInterrupted(): void {
    this.takeInterrupted();
  }

  /** Whether the last page went in the middle of a batch (read once: the mark is removed). */
  private takeInterrupted(): boolean {
    const storage = this.journal;
    if (!storage) return false;
    try {
      const marked = storage.getItem(this.name + JOURNAL_INTERRUPTED) !== null;
      storage.removeItem(this.name + JOURNAL_INTERRUPTED);
      return marked;
    } catch {
      return false;
    }
  }

  /** Takes the newest state; it is written within MAX_DELAY_MS. */
  save(state: BatchState): void {
    this.latest = state;
    this.latestSeq = ++this.saves;
    this.journalChanges(state, this.latestSeq);
    const now = Date.now();
    this.firstPendingAt ??= now;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(FLUSH_MS, this.firstPendingAt + MAX_DELAY_MS - now));
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  /** Writes what changed since the last write now; resolves once it is committed (or failed). */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstPendingAt = undefined;
    // One write at a time, in order: each diffs against what the previous one committed.
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const state = this.latest;
    const seq = this.latestSeq;
    if (!state) return;
    this.latest = undefined;
    const tx = this.db.transaction([ROWS, IMAGES, META], 'readwrite');
    const rowStore = tx.objectStore(ROWS);
    const imageStore = tx.objectStore(IMAGES);
    const putRows: CheckRow[] = [];
    const newImages: number[] = [];
    const present = new Set<number>();
    let imageBytes = 0;
    let deferred = false;
    for (const row of state.rows) {
      present.add(row.id);
      if (!this.imagesWritten.has(row.id)) {
        if (imageBytes > 0 && imageBytes + row.file.size > MAX_IMAGE_BYTES_PER_WRITE) {
          // Next write: a row is never stored without its image.
          deferred = true;
          continue;
        }
        imageStore.put(row.file, row.id);
        imageBytes += row.file.size;
        newImages.push(row.id);
      }
      if (this.written.get(row.id) !== row) {
        rowStore.put(toRecord(row));
        putRows.push(row);
      }
    }
    const removed = [...this.written.keys(), ...this.imagesWritten].filter((id) => !present.has(id));
    for (const id of new Set(removed)) {
      rowStore.delete(id);
      imageStore.delete(id);
    }
    const metaChanged = !sameMeta(this.metaWritten, state.meta);
    if (metaChanged) tx.objectStore(META).put(state.meta, META_KEY);
    try {
      await committed(tx);
    } catch (err) {
      // Left as it was: the next change writes everything still different (a retry).
      if (!this.failing) {
        const why = err instanceof DOMException && err.name === 'QuotaExceededError' ? 'the browser storage is full' : String(err);
        this.onError(`the batch cannot be kept for a reload (${why}); export the results to keep them`);
      }
      this.failing = true;
      return;
    }
    this.failing = false;
    for (const id of removed) {
      this.written.delete(id);
      this.imagesWritten.delete(id);
    }
    for (const id of newImages) this.imagesWritten.add(id);
    for (const row of putRows) this.written.set(row.id, row);
    if (metaChanged) this.metaWritten = state.meta;
    this.clearJournaled(seq);
    if (deferred && !this.latest) this.save(state);
  }

  close(): void {
    this.db.close();
  }
}
