import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckResult } from '../../preload/wire-types.ts';
import { parseCsv } from '../../preload/pair-list.ts';
import {
  EXPORT_COLUMNS,
  csvField,
  exportFileName,
  formatCsv,
  formatJsonl,
  guardFormula,
  toExportRecord,
  type ExportRow,
} from '../../renderer/checker/result-export.ts';

const RESULT: CheckResult = {
  id: 'req-1',
  label: 'NO',
  score: 0.75,
  scores: { YES: 0.05, NO: 0.75, MAYBE: 0.2 },
  latency_ms: 41.5,
  stages: { queue: 1.25, decode_image: 10, tokenize: 0.5, inference: 28, postprocess: 0.25 },
  model: { name: 'ofa-ve-demo', version: '1.0', demo: true, provider: 'cpu' },
  warnings: [],
};

const ROWS: ExportRow[] = [
  { file: 'a.jpg', path: 'trip/day 1/a.jpg', caption: 'A dog, "running"\nfast', premise: '', result: RESULT },
  {
    file: '=HYPERLINK("x").png',
    path: '=HYPERLINK("x").png',
    caption: '-1 cats',
    premise: '@home',
    error: { code: 'INVALID_IMAGE', message: 'not an image, sorry' },
  },
  { file: 'b.jpg', path: 'b.jpg', caption: '', premise: '' },
];

describe('CSV export', () => {
  it('quotes fields with commas, quotes and line breaks, doubling inner quotes (RFC 4180)', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\ronly'), '"cr\ronly"');
  });

  it('guards text that a spreadsheet would run as a formula', () => {
    for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) assert.equal(guardFormula(text), `'${text}`);
    assert.equal(guardFormula('a = b'), 'a = b');
  });

  it('writes a header and CRLF-terminated rows that parse back to the same cells', () => {
    const csv = formatCsv(ROWS);
    assert.ok(csv.startsWith(EXPORT_COLUMNS.join(',') + '\r\n'));
    assert.ok(csv.endsWith('\r\n'));
    const records = parseCsv(csv).map((r) => r.fields);
    assert.equal(records.length, 4);
    const [header, ok, failed, unchecked] = records;
    const cell = (row: string[] | undefined, column: string) => row?.[header!.indexOf(column)];
    assert.equal(cell(ok, 'path'), 'trip/day 1/a.jpg');
    assert.equal(cell(ok, 'caption'), 'A dog, "running"\nfast');
    assert.equal(cell(ok, 'warnings'), '');
    assert.equal(cell(ok, 'label'), 'NO');
    assert.equal(cell(ok, 'score'), '0.75');
    assert.equal(cell(ok, 'score_maybe'), '0.2');
    assert.equal(cell(ok, 'decode_image_ms'), '10');
    assert.equal(cell(ok, 'request_id'), 'req-1');
    assert.equal(cell(ok, 'model'), 'ofa-ve-demo@1.0');
    assert.equal(cell(ok, 'error_code'), '');
    // Text columns are guarded, whatever their content.
    assert.equal(cell(failed, 'file'), `'=HYPERLINK("x").png`);
    assert.equal(cell(failed, 'path'), `'=HYPERLINK("x").png`);
    assert.equal(cell(failed, 'caption'), "'-1 cats");
    assert.equal(cell(failed, 'premise'), "'@home");
    assert.equal(cell(failed, 'label'), 'ERROR');
    assert.equal(cell(failed, 'error_code'), 'INVALID_IMAGE');
    assert.equal(cell(failed, 'error_message'), 'not an image, sorry');
    assert.equal(cell(failed, 'score'), '');
    // An unchecked row has its file and path, and nothing else (no caption given here).
    assert.deepEqual(unchecked?.slice(0, 2), ['b.jpg', 'b.jpg']);
    assert.deepEqual(unchecked?.slice(2), Array(EXPORT_COLUMNS.length - 2).fill(''));
    // The embedded newline is inside quotes on the wire.
    assert.ok(csv.includes('"A dog, ""running""\nfast"'));
  });

  it('rounds scores to 6 decimals and durations to the microsecond', () => {
    const long = { ...RESULT, score: 0.3985617551549911, latency_ms: 277.9870669999982, stages: { inference: 135.83090900000025 } };
    const record = toExportRecord({ file: 'x.jpg', path: 'x.jpg', caption: 'c', premise: '', result: long });
    assert.equal(record.score, 0.398562);
    assert.equal(record.latency_ms, 277.987);
    assert.equal(record.inference_ms, 135.831);
  });

  it('never guards numeric columns', () => {
    const negative = { ...RESULT, latency_ms: -3, stages: { queue: -1 } };
    const csv = formatCsv([{ file: 'x.jpg', path: 'x.jpg', caption: 'c', premise: '', result: negative }]);
    const [header, row] = parseCsv(csv).map((r) => r.fields);
    assert.equal(row?.[header!.indexOf('latency_ms')], '-3');
    assert.equal(row?.[header!.indexOf('queue_ms')], '-1');
    assert.equal(row?.[header!.indexOf('inference_ms')], '');
  });
});

describe('JSONL export', () => {
  it('writes one JSON object per line with every column, numbers as numbers, nulls when absent', () => {
    const text = formatJsonl(ROWS);
    assert.ok(text.endsWith('\n'));
    const lines = text.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 3);
    const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const object of objects) assert.deepEqual(Object.keys(object), [...EXPORT_COLUMNS]);
    assert.equal(objects[0]?.path, 'trip/day 1/a.jpg');
    assert.equal(objects[0]?.caption, 'A dog, "running"\nfast');
    assert.equal(objects[0]?.score, 0.75);
    assert.equal(objects[0]?.inference_ms, 28);
    // JSON is not for spreadsheets: no formula guard there.
    assert.equal(objects[1]?.file, '=HYPERLINK("x").png');
    assert.equal(objects[1]?.error_code, 'INVALID_IMAGE');
    assert.equal(objects[1]?.score, null);
    assert.equal(objects[2]?.label, null);
  });

  it('is empty for no rows', () => {
    assert.equal(formatJsonl([]), '');
  });
});

describe('export helpers', () => {
  it('lists the codes of the warnings the service sent with an answer', () => {
    const warned: CheckResult = {
      ...RESULT,
      warnings: [
        { code: 'CAPTION_TRUNCATED', message: 'the caption has 90 words; the model reads only the first 80' },
        { code: 'NOT_ENGLISH', message: 'the caption does not look like English' },
      ],
    };
    const record = toExportRecord({ file: 'a.jpg', path: 'a.jpg', caption: 'c', premise: '', result: warned });
    assert.equal(record.warnings, 'CAPTION_TRUNCATED NOT_ENGLISH');
    assert.equal(toExportRecord(ROWS[1]!).warnings, null);
  });

  it('labels an error row ERROR and leaves an unchecked row unlabelled', () => {
    assert.equal(toExportRecord(ROWS[1]!).label, 'ERROR');
    assert.equal(toExportRecord(ROWS[2]!).label, null);
  });

  it('names files by local time', () => {
    assert.equal(exportFileName('csv', new Date(2025, 0, 2, 3, 4, 5)), 'ofa-ve-results-20250102-030405.csv');
  });
});
