/**
 * The image/caption list format (CSV or JSONL) that the checker imports and `ofa-ve check --batch`
 * reads: parsing, and matching against the images actually dropped. It is part of the contract, so
 * it lives with the wire types and both sides import it. Pure: no DOM, no Node APIs.
 */

/** One listed pair. `line` is the 1-based line the record starts on, for messages. */
export interface PairEntry {
  image: string;
  caption: string;
  premise?: string;
  line: number;
}

export interface PairListProblem {
  line: number;
  message: string;
}

export interface PairList {
  format: 'csv' | 'jsonl';
  entries: PairEntry[];
  /** Records that could not be used (no image name, bad JSON, unterminated quote, ...). */
  problems: PairListProblem[];
}

export interface PairMatch {
  /** Listed entries keyed by imageKey(); when a name is listed twice the later line wins. */
  byKey: Map<string, PairEntry>;
  /** Listed entries with no dropped image of that name, in list order. */
  missing: PairEntry[];
  /** Base names listed more than once (only the last one is used). */
  duplicates: string[];
}

const IMAGE_COLUMNS = ['image', 'file', 'filename', 'file_name', 'image_name', 'path', 'image_path', 'img'];
const CAPTION_COLUMNS = ['caption', 'text', 'hypothesis', 'sentence'];
const PREMISE_COLUMNS = ['premise'];

/** The last path segment, for either separator: lists often carry paths from another machine. */
export function baseName(path: string): string {
  const trimmed = path.trim().replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return cut >= 0 ? trimmed.slice(cut + 1) : trimmed;
}

/**
 * The key listed names and dropped files are matched on: base name, Unicode NFC (macOS hands out
 * NFD names) and case-folded (the usual desktop file systems ignore case, lists often do not).
 */
export function imageKey(path: string): string {
  return baseName(path).normalize('NFC').toLowerCase();
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Which parser to use: the file extension when it says, else the first non-blank character. */
export function detectFormat(text: string, fileName = ''): 'csv' | 'jsonl' {
  const ext = fileName.toLowerCase().split('.').pop() ?? '';
  if (ext === 'jsonl' || ext === 'ndjson' || ext === 'json') return 'jsonl';
  if (ext === 'csv') return 'csv';
  return /^\s*\{/.test(stripBom(text)) ? 'jsonl' : 'csv';
}

/**
 * A CSV that cannot be parsed; `line` (1-based) is where the faulty field starts. The records
 * before the faulty one are whole: `readable` is the part of the input that holds them.
 */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    /** The input up to the start of the faulty record. */
    readonly readable: string,
    /** The input's last line. */
    readonly lastLine: number,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

export interface CsvRecord {
  fields: string[];
  /** 1-based line the record starts on. */
  line: number;
}

/**
 * RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks; CRLF, LF and
 * lone CR all end a record; a leading BOM is dropped. Throws CsvSyntaxError on an unterminated
 * quote, since everything after it would silently become one field; the error holds the part of
 * the input before the broken record, which parses.
 */
export function parseCsv(input: string): CsvRecord[] {
  const text = stripBom(input);
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  // Where the current record starts in `text`.
  let recordStart = 0;
  let i = 0;
  let quoted = false;
  // Set once the current field opened with a quote: a later quote in it is plain text (`"a"b"`).
  let wasQuoted = false;
  // Where the open quote is: a record may span lines, and an unterminated quote is reported there.
  let quoteLine = 1;

  const endField = () => {
    fields.push(field);
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    records.push({ fields, line: recordLine });
    fields = [];
  };

  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      if (ch === '\n' || (ch === '\r' && text[i + 1] !== '\n')) line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"' && !wasQuoted && field.trim() === '') {
      // Spaces before an opening quote are layout, not data.
      field = '';
      quoted = true;
      wasQuoted = true;
      quoteLine = line;
      i++;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      recordStart = i;
      continue;
    }
    field += ch;
    i++;
  }
  if (quoted) {
    const bom = input.length - text.length;
    const lastLine = /[\r\n]$/.test(text) ? line - 1 : line;
    throw new CsvSyntaxError(
      `Unterminated quoted field starting on line ${quoteLine}`,
      quoteLine,
      input.slice(0, bom + recordStart),
      lastLine,
    );
  }
  // A final record without a trailing newline; a trailing newline adds no empty record.
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();
  return records;
}

function isBlankRecord(fields: readonly string[]): boolean {
  return fields.every((f) => f.trim() === '');
}

interface ColumnMap {
  image: number;
  /** Undefined for a header without a caption column: every row then needs a caption given elsewhere. */
  caption: number | undefined;
  premise: number | undefined;
}

const KNOWN_COLUMNS = new Set([...IMAGE_COLUMNS, ...CAPTION_COLUMNS, ...PREMISE_COLUMNS]);

/**
 * A header row names the image column and either a caption column or nothing but known column names
 * (`image`, `file,premise`: captions come from elsewhere). A row such as `file,a caption` stays data.
 */
function headerColumns(fields: readonly string[]): ColumnMap | undefined {
  const names = fields.map((f) => f.trim().toLowerCase());
  const find = (candidates: readonly string[]) => {
    const at = names.findIndex((n) => candidates.includes(n));
    return at >= 0 ? at : undefined;
  };
  const image = find(IMAGE_COLUMNS);
  const caption = find(CAPTION_COLUMNS);
  if (image === undefined) return undefined;
  if (caption === undefined && !names.every((n) => n === '' || KNOWN_COLUMNS.has(n))) return undefined;
  return { image, caption, premise: find(PREMISE_COLUMNS) };
}

/** A column the parser reads named twice in the header (which one to read is a guess), in words; undefined if none. */
function duplicateColumn(fields: readonly string[]): string | undefined {
  const names = fields.map((f) => f.trim().toLowerCase());
  for (let i = 0; i < names.length; i++) {
    const again = names.indexOf(names[i]!, i + 1);
    if (again >= 0 && KNOWN_COLUMNS.has(names[i]!))
      return `the header names column "${fields[i]!.trim()}" twice (columns ${i + 1} and ${again + 1})`;
  }
  return undefined;
}

/** Why a record has more fields than there are columns (the extras would be lost), in words; undefined when it has not. */
function extraFields(fields: readonly string[], columns: number, header: boolean): string | undefined {
  if (fields.length <= columns || isBlankRecord(fields.slice(columns))) return undefined;
  const than = header ? `the ${columns} the header names` : `the ${columns} columns image, caption, premise`;
  return `${fields.length} fields, more than ${than} (a comma in a field that is not quoted?)`;
}

function csvEntries(text: string): PairList {
  const problems: PairListProblem[] = [];
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (!(err instanceof CsvSyntaxError)) throw err;
    // Everything after an unmatched quote would be one field: the records before it are read, the rest reported.
    records = parseCsv(err.readable);
    const through = err.lastLine > err.line ? `lines ${err.line}–${err.lastLine} are` : `line ${err.line} is`;
    problems.push({ line: err.line, message: `${err.message} (an unmatched "): ${through} not read` });
  }
  records = records.filter((r) => !isBlankRecord(r.fields));
  let columns: ColumnMap = { image: 0, caption: 1, premise: 2 };
  let width = 3;
  const first = records[0];
  const header = first && headerColumns(first.fields);
  if (header) {
    const duplicate = duplicateColumn(first.fields);
    // Every row would be read from one of the two columns, silently: none is.
    if (duplicate)
      return { format: 'csv', entries: [], problems: [{ line: first.line, message: `${duplicate}: no row is read` }, ...problems] };
    columns = header;
    width = first.fields.length;
    records = records.slice(1);
  }
  const entries: PairEntry[] = [];
  const rowProblems: PairListProblem[] = [];
  for (const { fields, line } of records) {
    const extra = extraFields(fields, width, header !== undefined);
    if (extra) {
      rowProblems.push({ line, message: extra });
      continue;
    }
    const image = (fields[columns.image] ?? '').trim();
    if (!image) {
      rowProblems.push({ line, message: 'no image name' });
      continue;
    }
    const caption = columns.caption === undefined ? '' : (fields[columns.caption] ?? '').trim();
    const premise = columns.premise === undefined ? '' : (fields[columns.premise] ?? '').trim();
    entries.push(premise ? { image, caption, premise, line } : { image, caption, line });
  }
  // In line order: the rows' problems come before the unmatched quote that ends what is read.
  return { format: 'csv', entries, problems: [...rowProblems, ...problems] };
}

/** A JSON value's type, for a message: "a number", "an array", ... */
function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** What a record gives for one of the names of a field: its string (trimmed; none for null), or the problem. */
interface Picked {
  value?: string;
  problem?: string;
}

/**
 * The non-blank string a record gives for one of `candidates` (null: none given), or the problem when
 * one of them holds another type: `{"image": 5}` would otherwise name a file "5", `{"caption": 7}` a caption "7".
 */
function pickString(record: Record<string, unknown>, candidates: readonly string[]): Picked {
  const keys = Object.keys(record).filter((key) => candidates.includes(key.toLowerCase()));
  const wrong = keys.find((key) => record[key] !== null && typeof record[key] !== 'string');
  if (wrong !== undefined) return { problem: `${wrong} must be a string, not ${jsonType(record[wrong])}` };
  const key = keys.find((k) => typeof record[k] === 'string');
  const value = key === undefined ? '' : (record[key] as string).trim();
  return value ? { value } : {};
}

function jsonlEntries(text: string): PairList {
  const entries: PairEntry[] = [];
  const problems: PairListProblem[] = [];
  const lines = stripBom(text).split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      problems.push({ line, message: 'not valid JSON' });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, message: 'not a JSON object' });
      return;
    }
    const record = value as Record<string, unknown>;
    const [image, caption, premise] = [IMAGE_COLUMNS, CAPTION_COLUMNS, PREMISE_COLUMNS].map((names) => pickString(record, names)) as [
      Picked,
      Picked,
      Picked,
    ];
    const problem = image.problem ?? caption.problem ?? premise.problem;
    if (problem) {
      problems.push({ line, message: problem });
      return;
    }
    if (!image.value) {
      problems.push({ line, message: 'no "image" field' });
      return;
    }
    const entry = { image: image.value, caption: caption.value ?? '', line };
    entries.push(premise.value ? { ...entry, premise: premise.value } : entry);
  });
  return { format: 'jsonl', entries, problems };
}

/** Parses an imported list; `fileName` only helps pick the format. Never throws. */
export function parsePairList(text: string, fileName = ''): PairList {
  return detectFormat(text, fileName) === 'jsonl' ? jsonlEntries(text) : csvEntries(text);
}

/** Matches listed entries against the base names of the images the user dropped or picked. */
export function matchPairs(entries: readonly PairEntry[], imageNames: Iterable<string>): PairMatch {
  const byKey = new Map<string, PairEntry>();
  const duplicates: string[] = [];
  for (const entry of entries) {
    const key = imageKey(entry.image);
    if (byKey.has(key)) duplicates.push(baseName(entry.image));
    byKey.set(key, entry);
  }
  const present = new Set<string>();
  for (const name of imageNames) present.add(imageKey(name));
  const missing = [...byKey.entries()].filter(([key]) => !present.has(key)).map(([, entry]) => entry);
  missing.sort((a, b) => a.line - b.line);
  return { byKey, missing, duplicates };
}
