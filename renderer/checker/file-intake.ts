/**
 * Turns drops and picker selections into files: walks dropped folders, skips OS junk, and sets
 * pair lists (.csv / .jsonl) apart from the images to check.
 */

/** A file with the path it had inside a dropped or picked folder ("photos/a.jpg"; else its name). */
export interface PickedFile {
  file: File;
  path: string;
}

export interface SortedFiles {
  images: PickedFile[];
  lists: PickedFile[];
  skipped: number;
}

const JUNK_NAMES = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini', 'icon\r']);
const JUNK_FOLDERS = new Set(['__macosx']);
const LIST_EXTENSIONS = /\.(csv|jsonl|ndjson)$/i;

/**
 * Finder, Explorer and version control leave files that no reviewer meant to check: .DS_Store and
 * other dotfiles (AppleDouble "._x.jpg" included), Thumbs.db, desktop.ini. Anything else is kept,
 * even a non-image: the service then answers with a clear error on its row.
 */
export function isJunkFile(name: string): boolean {
  return name.startsWith('.') || JUNK_NAMES.has(name.toLowerCase());
}

function isJunkFolder(name: string): boolean {
  return name.startsWith('.') || JUNK_FOLDERS.has(name.toLowerCase());
}

export function isPairListFile(name: string): boolean {
  return LIST_EXTENSIONS.test(name);
}

export function sortFiles(files: readonly PickedFile[]): SortedFiles {
  const sorted: SortedFiles = { images: [], lists: [], skipped: 0 };
  for (const picked of files) {
    const segments = picked.path.split('/').filter(Boolean);
    const inJunkFolder = segments.slice(0, -1).some(isJunkFolder);
    if (inJunkFolder || isJunkFile(picked.file.name)) sorted.skipped++;
    else if (isPairListFile(picked.file.name)) sorted.lists.push(picked);
    else sorted.images.push(picked);
  }
  return sorted;
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walkEntry(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, '') || entry.name;
  if (entry.isFile) {
    try {
      out.push({ file: await entryFile(entry as FileSystemFileEntry), path });
    } catch {
      // Unreadable (permissions, vanished since the drop): nothing to show for it.
    }
    return;
  }
  if (!entry.isDirectory || isJunkFolder(entry.name)) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries hands out at most ~100 entries a call; an empty batch means the end.
  for (;;) {
    let batch: FileSystemEntry[];
    try {
      batch = await readEntries(reader);
    } catch {
      return;
    }
    if (batch.length === 0) return;
    for (const child of batch) await walkEntry(child, out);
  }
}

/**
 * Everything a drop carried, folders walked recursively. The items are read synchronously first:
 * the DataTransfer is emptied once the drop handler returns, before any await resumes.
 */
export async function filesFromDrop(dataTransfer: DataTransfer): Promise<PickedFile[]> {
  const direct: PickedFile[] = [];
  const folders: FileSystemEntry[] = [];
  const items = dataTransfer.items ? Array.from(dataTransfer.items) : [];
  for (const item of items) {
    if (item.kind !== 'file') continue;
    const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry?.isDirectory) {
      folders.push(entry);
      continue;
    }
    const file = item.getAsFile();
    if (file) direct.push({ file, path: file.name });
  }
  // Old engines (or no items list): the flat file list, without folders.
  if (direct.length === 0 && folders.length === 0) {
    return Array.from(dataTransfer.files ?? [], (file) => ({ file, path: file.name }));
  }
  const walked: PickedFile[] = [];
  for (const folder of folders) await walkEntry(folder, walked);
  return [...direct, ...walked];
}

/** A file input's selection; folder pickers fill webkitRelativePath. */
export function filesFromInput(list: FileList | null): PickedFile[] {
  return Array.from(list ?? [], (file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/**
 * Files read and hashed at once by contentHashes: reads overlap, and only that many files' bytes
 * are in memory at a time (5,000 photos of 66 KB picked in Chromium: the first row showed after
 * 4.2 s hashed one after another, 3.1-3.4 s eight at a time).
 */
const HASHES_AT_ONCE = 8;

/** contentHash of each file, in order; undefined for one that cannot be read now (the service will say so when it is checked). */
export async function contentHashes(blobs: readonly Blob[]): Promise<(string | undefined)[]> {
  const hashes = new Array<string | undefined>(blobs.length);
  let next = 0;
  const reader = async () => {
    while (next < blobs.length) {
      const i = next++;
      hashes[i] = await contentHash(blobs[i] as Blob).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASHES_AT_ONCE, blobs.length) }, reader));
  return hashes;
}

/**
 * The SHA-256 of the file's bytes (hex), to notice one photo added twice under two paths; undefined
 * where Web Crypto is missing (a page served over plain HTTP from another host is no secure
 * context), and duplicates are then told by path, size and modification time alone.
 */
export async function contentHash(blob: Blob): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = new Uint8Array(await subtle.digest('SHA-256', await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
