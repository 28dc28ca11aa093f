/**
 * CSV and JSONL exports of checker results. Pure (no DOM), so the escaping rules are unit-tested
 * under plain Node.
 */
import type { ApiError, CheckResult, StageName } from '../../preload/wire-types.ts';

/** What one exported line is made from: a row as the reviewer sees it. */
export interface ExportRow {
  /** The file's name. */
  file: string;
  /** Its path inside the dropped or picked folder ("trip/day1/a.jpg"); the name when dropped alone. */
  path: string;
  /** The text the answer is for (or, without an answer, the text the row would be sent with). */
  caption: string;
  premise: string;
  result?: CheckResult;
  error?: ApiError;
}

export const EXPORT_COLUMNS = [
  'file',
  'path',
  'caption',
  'premise',
  'label',
  'score',
  'score_yes',
  'score_no',
  'score_maybe',
  'latency_ms',
  'queue_ms',
  'decode_image_ms',
  'tokenize_ms',
  'inference_ms',
  'postprocess_ms',
  'error_code',
  'error_message',
  'warnings',
  'request_id',
  'model',
] as const;

export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportRecord = Record<ExportColumn, string | number | null>;

/**
 * Free-text columns: the ones a user or a file name controls, so the ones a spreadsheet could be
 * tricked into evaluating. Numeric columns are never guarded (a ' would break "-1" as a number).
 */
const TEXT_COLUMNS: ReadonlySet<ExportColumn> = new Set<ExportColumn>([
  'file',
  'path',
  'caption',
  'premise',
  'label',
  'error_code',
  'error_message',
  'warnings',
  'request_id',
  'model',
]);

const STAGE_COLUMNS: Record<StageName, ExportColumn> = {
  queue: 'queue_ms',
  decode_image: 'decode_image_ms',
  tokenize: 'tokenize_ms',
  inference: 'inference_ms',
  postprocess: 'postprocess_ms',
};

/** Rounds for reading, not for precision: scores to 1e-6, durations to the microsecond. */
function round(value: number | undefined, digits: number): number | null {
  if (value === undefined) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** One row's flat record: numbers stay numbers (rounded), absent values are null. */
export function toExportRecord(row: ExportRow): ExportRecord {
  const { result, error } = row;
  const record: ExportRecord = {
    file: row.file,
    path: row.path,
    caption: row.caption,
    premise: row.premise,
    label: result?.label ?? (error ? 'ERROR' : null),
    score: round(result?.score, 6),
    score_yes: round(result?.scores.YES, 6),
    score_no: round(result?.scores.NO, 6),
    score_maybe: round(result?.scores.MAYBE, 6),
    latency_ms: round(result?.latency_ms, 3),
    queue_ms: null,
    decode_image_ms: null,
    tokenize_ms: null,
    inference_ms: null,
    postprocess_ms: null,
    error_code: error?.code ?? null,
    error_message: error?.message ?? null,
    // Codes only (CAPTION_TRUNCATED NOT_ENGLISH): the messages repeat what the caption shows.
    warnings: result ? (result.warnings ?? []).map((w) => w.code).join(' ') : null,
    request_id: result?.id ?? null,
    model: result ? `${result.model.name}@${result.model.version}` : null,
  };
  if (result) {
    for (const [stage, column] of Object.entries(STAGE_COLUMNS) as [StageName, ExportColumn][]) {
      record[column] = round(result.stages[stage], 3);
    }
  }
  return record;
}

/**
 * Spreadsheets run a cell starting with = + - @ as a formula (and tab / CR can smuggle one past
 * some), so such text gets a leading ' (OWASP's CSV-injection advice).
 */
export function guardFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** RFC 4180: quote a field holding a comma, a quote or a line break, doubling inner quotes. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvCell(column: ExportColumn, value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return csvField(TEXT_COLUMNS.has(column) ? guardFormula(text) : text);
}

/** A header line and one line per row, CRLF-terminated as RFC 4180 says. */
export function formatCsv(rows: readonly ExportRow[]): string {
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const row of rows) {
    const record = toExportRecord(row);
    lines.push(EXPORT_COLUMNS.map((column) => csvCell(column, record[column])).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** One JSON object per line (JSON.stringify escapes line breaks inside values), LF-terminated. */
export function formatJsonl(rows: readonly ExportRow[]): string {
  return rows.map((row) => JSON.stringify(toExportRecord(row)) + '\n').join('');
}

/** A file name that sorts by time and is safe on every OS: ofa-ve-results-20250101-120000.csv. */
export function exportFileName(extension: 'csv' | 'jsonl', now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `ofa-ve-results-${date}-${time}.${extension}`;
}
