/**
 * main/cli/batch/batch-results-file.ts for `check --batch --resume` on an edited list: results matched
 * to rows by pair (identical pairs as a multiset), when the file is rewritten and what it then holds,
 * and the atomic rewrite itself.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  describeRewrite,
  matchRecords,
  notResultsFile,
  pairKey,
  parseRecordedResults,
  planResume,
  ResultsFileWriter,
  rewriteResultsFile,
  rowKey,
  type RowIdentity,
} from '../../../main/cli/batch/batch-results-file.ts';

const row = (line: number, image: string, caption = 'a dog', premise?: string): RowIdentity => ({
  line,
  image,
  caption,
  ...(premise ? { premise } : {}),
});
const answer = (r: RowIdentity, label = 'YES') => JSON.stringify({ ...r, label, score: 0.9 });
const fileOf = (...lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''));
/** For each record, the line of the row it was matched to (undefined: none). */
const matchedLines = (records: RowIdentity[], rows: RowIdentity[]) => matchRecords(records, rows).map((r) => r?.line);

describe('matchRecords: results to rows by image, caption and premise', () => {
  const rows = [row(2, 'a.png'), row(3, 'b.png'), row(4, 'c.png')];

  it('an unchanged list: each record to its own row', () => {
    assert.deepEqual(matchedLines(rows, rows), [2, 3, 4]);
  });

  it('a row inserted above, or removed: the others follow their pairs to the new lines', () => {
    const inserted = [row(2, 'new.png'), ...rows.map((r) => ({ ...r, line: r.line + 1 }))];
    assert.deepEqual(matchedLines(rows, inserted), [3, 4, 5]);
    const removed = [row(2, 'a.png'), row(3, 'c.png')];
    assert.deepEqual(matchedLines(rows, removed), [2, undefined, 3]);
  });

  it('an edited caption, premise or image is another pair: its record matches nothing', () => {
    assert.deepEqual(matchedLines(rows, [row(2, 'a.png', 'a cat'), row(3, 'b.png', 'a dog', 'p'), row(4, 'd.png')]), [
      undefined,
      undefined,
      undefined,
    ]);
    assert.equal(pairKey(row(2, 'a.png')), pairKey(row(9, 'a.png')), 'the line is no part of the pair');
    assert.notEqual(rowKey(row(2, 'a.png')), rowKey(row(9, 'a.png')));
  });

  it('identical rows are a multiset: one record each, extra records match nothing, a missing one leaves its row pending', () => {
    const same = [row(2, 'a.png'), row(3, 'b.png'), row(4, 'a.png'), row(5, 'a.png')];
    // Written out of order (concurrent checks), each still goes to its own line.
    assert.deepEqual(matchedLines([same[3]!, same[0]!, same[2]!, same[1]!], same), [5, 2, 4, 3]);
    // Two rows of the pair left: the records in line order take them in list order; the third matches nothing.
    const fewer = [row(2, 'b.png'), row(3, 'a.png'), row(4, 'a.png')];
    assert.deepEqual(matchedLines(same, fewer), [3, 2, 4, undefined]);
    // The result of line 4 lost: lines 2 and 5 keep theirs (no renumbering), line 4 is checked again.
    assert.deepEqual(matchedLines([same[3]!, same[0]!, same[1]!], same), [5, 2, 3]);
  });
});

describe('planResume: the rows settled, and whether the results file is rewritten', () => {
  const a = row(2, 'a.png');
  const b = row(3, 'b.png', 'a cat', 'a premise');
  const refused = { ...row(4, 'missing.png'), error: { code: 'INVALID_IMAGE', message: 'no such file' } };

  it('no results file: nothing settled, nothing to rewrite', () => {
    assert.deepEqual(planResume(undefined, [a]), { settled: new Map(), renumbered: 0, removed: 0 });
  });

  it('an unchanged list: the file is left as it is (no rewrite), answers and bad input settled', () => {
    const recorded = parseRecordedResults(fileOf(answer(b), JSON.stringify(refused), answer(a)));
    const plan = planResume(recorded, [a, b, row(4, 'missing.png'), row(5, 'c.png')]);
    assert.equal(plan.rewrite, undefined);
    assert.deepEqual([plan.renumbered, plan.removed], [0, 0]);
    assert.deepEqual(
      new Map(plan.settled),
      new Map([
        [rowKey(b), 'answered'],
        [rowKey(row(4, 'missing.png')), 'refused'],
        [rowKey(a), 'answered'],
      ]),
    );
  });

  it('a row inserted at the top: every result renumbered in place, a failure of ours kept byte for byte, the torn tail gone', () => {
    const transient = JSON.stringify({ ...row(5, 'c.png'), error: { code: 'TIMEOUT', message: 'slow' } });
    const spaced = ` ${answer(a)} `;
    const bytes = Buffer.concat([fileOf(spaced, transient, answer(b)), Buffer.from('{"line":6,"ima')]);
    const recorded = parseRecordedResults(bytes);
    const rows = [row(2, 'new.png'), row(3, 'a.png'), row(4, 'b.png', 'a cat', 'a premise'), row(5, 'c.png')];
    const plan = planResume(recorded, rows);
    assert.deepEqual([plan.renumbered, plan.removed], [2, 0]);
    const lines = plan.rewrite?.split('\n');
    assert.deepEqual(
      lines?.map((l) => (l.startsWith('{"line"') ? (JSON.parse(l) as { line: number }).line : l)),
      [3, 5, 4, ''],
    );
    assert.equal(lines?.[0], answer({ ...a, line: 3 }), 'the record keeps its fields and their order; only the line changes');
    assert.equal(lines?.[1], transient, 'a failure of ours is not a result: left as it was');
    assert.deepEqual([...plan.settled.keys()], [rowKey(rows[1]!), rowKey(rows[2]!)]);
  });

  it('results for rows no longer in the list are dropped (handed out to be kept aside); an unterminated last record is kept and ended', () => {
    const recorded = parseRecordedResults(Buffer.from(`${answer(a)}\n${answer(b)}`));
    assert.equal(recorded.needsNewline, true);
    const plan = planResume(recorded, [row(2, 'b.png', 'a cat', 'a premise')]);
    assert.deepEqual([plan.renumbered, plan.removed], [1, 1]);
    assert.equal(plan.rewrite, `${answer({ ...b, line: 2 })}\n`);
    assert.equal(plan.removedText, `${answer(a)}\n`, 'as it was written');
    const none = planResume(recorded, [row(2, 'other.png')]);
    assert.deepEqual([none.removed, none.rewrite, none.settled.size], [2, '', 0]);
  });

  it('says what it did in one line', () => {
    assert.equal(
      describeRewrite({ renumbered: 12, removed: 2 }, 'out.jsonl'),
      'out.jsonl updated for the edited list: 12 results renumbered (rows inserted or removed above them); 2 results for rows no longer in the list moved to out.jsonl.removed.jsonl',
    );
    assert.equal(
      describeRewrite({ renumbered: 0, removed: 1 }, 'out.jsonl'),
      'out.jsonl updated for the edited list: 1 result for a row no longer in the list moved to out.jsonl.removed.jsonl',
    );
    assert.equal(
      describeRewrite({ renumbered: 1, removed: 0 }, 'o'),
      'o updated for the edited list: 1 result renumbered (rows inserted or removed above them)',
    );
  });
});

describe('notResultsFile: a file --resume may not cut or append to', () => {
  const a = row(2, 'a.png');
  const problemOf = (bytes: Buffer | string) => notResultsFile(parseRecordedResults(Buffer.from(bytes)));

  it('results, with a torn last line, a record saved without a newline, blank lines or an error of ours: a results file', () => {
    const transient = JSON.stringify({ ...row(3, 'b.png'), error: { code: 'TIMEOUT', message: 'slow' } });
    assert.equal(problemOf(`${answer(a)}\n{"line":3,"ima`), undefined);
    assert.equal(problemOf(`${answer(a)}\n{"li`), undefined, 'cut inside the first key');
    assert.equal(problemOf(`${answer(a)}\n{"line":3,"image":"b.p\0\0\0\0`), undefined, 'zero bytes a crash left');
    assert.equal(problemOf(`${answer(a)}\n\n${transient}\n${answer(row(4, 'c.png'))}`), undefined);
    assert.equal(problemOf(''), undefined, 'an empty file (a run killed before its first result)');
    const torn = parseRecordedResults(Buffer.from(`${answer(a)}\n{"line":3,"ima`));
    assert.deepEqual([torn.tornTail, torn.records, torn.foreignLines], [true, 1, []]);
  });

  it('notes, with or without a final newline: every line named, none taken for a torn record', () => {
    const notes = parseRecordedResults(Buffer.from('important notes\nlast line without newline'));
    assert.deepEqual([notes.tornTail, notes.records, notes.foreignLines], [false, 0, [1, 2]]);
    assert.equal(notResultsFile(notes), 'lines 1 and 2 are not result records');
    assert.equal(problemOf('one line\n'), 'line 1 is not a result record');
  });

  it('another pair list, a CSV, valid JSON that is no result record: refused, even with results around it', () => {
    const list = '{"image":"a.png","caption":"a dog"}\n{"image":"b.png","caption":"a cat"}\n';
    assert.equal(problemOf(list), 'lines 1 and 2 are not result records');
    assert.equal(problemOf('image,caption\na.png,a dog\n'), 'lines 1 and 2 are not result records');
    assert.equal(problemOf(`${answer(a)}\n{"note":"checked by hand"}\n${answer(row(3, 'b.png'))}\n`), 'line 2 is not a result record');
    assert.equal(problemOf(`${answer(a)}\n[1,2]\n`), 'line 2 is not a result record');
    assert.equal(problemOf(`${answer(a)}\n{"line":3}`), 'line 2 is not a result record', 'a whole JSON object, not a torn one');
    assert.equal(problemOf(`${answer(a)}\nmy note`), 'line 2 is not a result record', 'a last line that cannot be the start of a record');
    const many = Array.from({ length: 8 }, (_, i) => `note ${i}`).join('\n');
    assert.equal(problemOf(many), 'lines 1, 2, 3, 4, 5 and 3 more are not result records');
  });

  it('a torn line and no result before it: nothing shows the file is ours', () => {
    assert.equal(problemOf('{"line":2,"ima'), 'it holds no result record, only a line cut off mid-write');
  });
});

describe('rewriteResultsFile: atomic, beside the file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-results-file-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('replaces the text, keeps the mode, leaves no temporary file, and the writer appends after it', async () => {
    const file = path.join(dir, 'results.jsonl');
    await writeFile(file, `${answer(row(2, 'a.png'))}\n{"line":3,"ima`);
    await chmod(file, 0o640);
    const recorded = rewriteResultsFile(file, `${answer(row(3, 'a.png'))}\n`);
    assert.deepEqual([recorded.tornTail, recorded.needsNewline, recorded.lines.length], [false, false, 1]);
    assert.equal((await stat(file)).mode & 0o777, 0o640);
    assert.deepEqual(await readdir(dir), ['results.jsonl']);
    const writer = ResultsFileWriter.open(file, recorded);
    writer.write({ ...row(2, 'new.png'), error: { code: 'EMPTY_TEXT', message: 'empty' } });
    writer.close();
    assert.deepEqual(
      (await readFile(file, 'utf8')).split('\n').map((l) => (l ? (JSON.parse(l) as RowIdentity).line : l)),
      [3, 2, ''],
    );
  });

  it('through a symbolic link: the file it points to is rewritten, the link stays', async () => {
    await mkdir(path.join(dir, 'real'));
    const real = path.join(dir, 'real', 'results.jsonl');
    const link = path.join(dir, 'link.jsonl');
    await writeFile(real, 'old\n');
    await symlink(real, link);
    rewriteResultsFile(link, 'new\n');
    assert.equal(await readFile(real, 'utf8'), 'new\n');
    assert.ok((await readdir(dir)).includes('link.jsonl'));
    assert.deepEqual(await readdir(path.join(dir, 'real')), ['results.jsonl']);
  });

  it('a failure leaves the old file whole and throws', async () => {
    const file = path.join(dir, 'kept.jsonl');
    await writeFile(file, 'old\n');
    // Something already in the temporary file's place: it cannot be written, and is not ours to remove.
    const blocker = path.join(dir, `.kept.jsonl.${process.pid}.tmp`);
    await mkdir(blocker);
    assert.throws(() => rewriteResultsFile(file, 'new\n'), { code: 'EISDIR' });
    assert.equal(await readFile(file, 'utf8'), 'old\n');
    assert.ok((await stat(blocker)).isDirectory());
    assert.throws(() => rewriteResultsFile(path.join(dir, 'none.jsonl'), 'x\n'), { code: 'ENOENT' });
  });
});
