import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseName, CsvSyntaxError, detectFormat, imageKey, matchPairs, parseCsv, parsePairList } from '../../../preload/pair-list.ts';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv (RFC 4180)', () => {
  it('splits plain records on CRLF, LF and lone CR, without an empty record for the final newline', () => {
    assert.deepEqual(fields('a,b\r\nc,d\ne,f\rg,h\n'), [
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
    assert.deepEqual(fields('a,b'), [['a', 'b']]);
  });

  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    const text = 'x.jpg,"a dog, a cat"\r\ny.jpg,"she said ""hi"""\nz.jpg,"two\nlines\r\nhere",p\n';
    assert.deepEqual(fields(text), [
      ['x.jpg', 'a dog, a cat'],
      ['y.jpg', 'she said "hi"'],
      ['z.jpg', 'two\nlines\r\nhere', 'p'],
    ]);
  });

  it('numbers records by the line they start on, counting line breaks inside quotes', () => {
    const records = parseCsv('a,"1\n2\n3"\nb,c\n');
    assert.deepEqual(
      records.map((r) => r.line),
      [1, 4],
    );
  });

  it('drops a leading BOM so the first column name still matches', () => {
    assert.deepEqual(fields('\uFEFFimage,caption\n'), [['image', 'caption']]);
  });

  it('keeps empty fields and a trailing empty quoted field', () => {
    assert.deepEqual(fields('a,,c\n,\n""'), [['a', '', 'c'], ['', ''], ['']]);
  });

  it('rejects an unterminated quote instead of swallowing the rest of the file', () => {
    assert.throws(() => parseCsv('a,"oops\nb,c\n'), /Unterminated quoted field starting on line 1/);
  });
});

describe('parsePairList', () => {
  it('reads a CSV with a header row, in any column order, with a premise', () => {
    const list = parsePairList('\uFEFFcaption,premise,image\r\n"A dog, running",outdoors,dogs/a.jpg\r\n', 'pairs.csv');
    assert.equal(list.format, 'csv');
    assert.deepEqual(list.entries, [{ image: 'dogs/a.jpg', caption: 'A dog, running', premise: 'outdoors', line: 2 }]);
    assert.deepEqual(list.problems, []);
  });

  it('reads a header-less CSV positionally (image, caption, premise)', () => {
    const list = parsePairList('a.jpg,first caption\nb.png,"second\ncaption",the premise\n\n', 'x.csv');
    assert.deepEqual(list.entries, [
      { image: 'a.jpg', caption: 'first caption', line: 1 },
      { image: 'b.png', caption: 'second\ncaption', premise: 'the premise', line: 2 },
    ]);
  });

  it('does not take a data row for a header', () => {
    const list = parsePairList('image.jpg,caption text\n', 'x.csv');
    assert.equal(list.entries.length, 1);
    assert.equal(list.entries[0]?.image, 'image.jpg');
  });

  it('reports rows without an image name and an unterminated quote as problems', () => {
    const list = parsePairList('image,caption\n,no image here\nok.jpg,fine\n', 'x.csv');
    assert.deepEqual(
      list.entries.map((e) => e.image),
      ['ok.jpg'],
    );
    assert.deepEqual(list.problems, [{ line: 2, message: 'no image name' }]);
    const broken = parsePairList('a.jpg,"never closed\n', 'x.csv');
    assert.equal(broken.entries.length, 0);
    assert.match(broken.problems[0]?.message ?? '', /Unterminated/);
  });

  it('reads JSONL with field aliases, skipping blank lines and reporting bad ones', () => {
    const text = [
      '\uFEFF{"image":"a.jpg","caption":"cap \\"one\\""}\r\n',
      '\n',
      '{"file":"b.jpg","text":"two","premise":"p"}\n',
      'not json\n[1]\n{"caption":"no image"}\n',
    ].join('');
    const list = parsePairList(text, 'pairs.jsonl');
    assert.equal(list.format, 'jsonl');
    assert.deepEqual(list.entries, [
      { image: 'a.jpg', caption: 'cap "one"', line: 1 },
      { image: 'b.jpg', caption: 'two', premise: 'p', line: 3 },
    ]);
    assert.deepEqual(
      list.problems.map((p) => p.line),
      [4, 5, 6],
    );
  });

  it('detects the format from the extension, else from the content', () => {
    assert.equal(detectFormat('a,b', 'list.jsonl'), 'jsonl');
    assert.equal(detectFormat('{"image":1}', 'list.csv'), 'csv');
    assert.equal(detectFormat('\uFEFF  {"image":"a"}', 'list.txt'), 'jsonl');
    assert.equal(detectFormat('image,caption', ''), 'csv');
  });
});

describe('matching listed names to dropped images', () => {
  it('matches by base name, either path separator, case and Unicode form', () => {
    assert.equal(baseName('C:\\photos\\Dog.JPG'), 'Dog.JPG');
    assert.equal(baseName('/data/set/a.png'), 'a.png');
    // "é" precomposed (NFC) versus e + combining acute (NFD, as macOS names files).
    assert.equal(imageKey('caf\u00e9.jpg'), imageKey('CAFE\u0301.JPG'.replace('E\u0301', 'e\u0301')));
  });

  it('lists the missing images in list order and the duplicates, the last listing winning', () => {
    const { entries } = parsePairList('image,caption\nsub/a.jpg,first\nB.jpg,bee\nc.jpg,sea\na.jpg,second\nd.jpg,dee\n', 'list.csv');
    const match = matchPairs(entries, ['a.jpg', 'b.jpg', 'extra.jpg']);
    assert.deepEqual(
      match.missing.map((e) => e.image),
      ['c.jpg', 'd.jpg'],
    );
    assert.deepEqual(match.duplicates, ['a.jpg']);
    assert.equal(match.byKey.get(imageKey('A.JPG'))?.caption, 'second');
    assert.equal(match.byKey.size, 4);
  });

  it('reports every listed image missing when nothing was dropped', () => {
    const { entries } = parsePairList('x.jpg,one\ny.jpg,two\n', 'list.csv');
    assert.equal(matchPairs(entries, []).missing.length, 2);
  });
});

describe('parsePairList: a header without a caption column', () => {
  for (const name of ['image', 'file', 'path', 'Image ']) {
    it(`"${name}" alone is a header, not a pair: every row gets an empty caption`, () => {
      const list = parsePairList(`${name}\ndogs/a.jpg\ndogs/b.jpg\n`, 'pairs.csv');
      assert.deepEqual(list.entries, [
        { image: 'dogs/a.jpg', caption: '', line: 2 },
        { image: 'dogs/b.jpg', caption: '', line: 3 },
      ]);
      assert.deepEqual(list.problems, []);
    });
  }

  it('an image and a premise column, in any order', () => {
    const list = parsePairList('premise,file\noutdoors,a.jpg\n', 'pairs.csv');
    assert.deepEqual(list.entries, [{ image: 'a.jpg', caption: '', premise: 'outdoors', line: 2 }]);
  });

  it('a first row with an image column name and a caption-like cell stays a data row', () => {
    const list = parsePairList('file,a caption about a file\nb.jpg,another\n', 'x.csv');
    assert.deepEqual(
      list.entries.map((e) => [e.image, e.caption, e.line]),
      [
        ['file', 'a caption about a file', 1],
        ['b.jpg', 'another', 2],
      ],
    );
  });
});

describe('an unterminated quote', () => {
  it('is reported on the line its quote opens, not line 1, with the lines it leaves unread; the rows before it are read', () => {
    const list = parsePairList('image,caption\na.jpg,fine\nb.jpg,"never closed\nc.jpg,more\n', 'x.csv');
    assert.deepEqual(list.problems, [
      { line: 3, message: 'Unterminated quoted field starting on line 3 (an unmatched "): lines 3–4 are not read' },
    ]);
    assert.deepEqual(
      list.entries.map((e) => [e.line, e.image, e.caption]),
      [[2, 'a.jpg', 'fine']],
    );
  });

  it('on the last line, after a BOM and a record spanning lines: that record is read whole, the broken one alone is reported', () => {
    const list = parsePairList('\ufeffa.jpg,"two\nlines",a premise\r\nb.jpg,"open', 'x.csv');
    assert.deepEqual(
      list.entries.map((e) => [e.line, e.image, e.caption, e.premise]),
      [[1, 'a.jpg', 'two\nlines', 'a premise']],
    );
    assert.deepEqual(list.problems, [
      { line: 3, message: 'Unterminated quoted field starting on line 3 (an unmatched "): line 3 is not read' },
    ]);
  });

  it('inside a record that spans lines: the line of the opening quote, not of the record', () => {
    const text = 'a.jpg,ok\nb.jpg,"two\nlines","open\n';
    assert.throws(
      () => parseCsv(text),
      (err) => err instanceof CsvSyntaxError && err.line === 3 && /starting on line 3/.test(err.message),
    );
    assert.deepEqual(
      parsePairList(text, 'x.csv').problems.map((p) => p.line),
      [3],
    );
  });
});

describe('ambiguous rows: reported, never guessed', () => {
  it('a JSONL image, caption or premise that is not a string: that row is a problem naming the field and the type', () => {
    const text = [
      '{"image":5,"caption":"x"}',
      '{"image":"a.jpg","caption":7}',
      '{"image":"a.jpg","caption":"ok","premise":true}',
      '{"File":["a.jpg"],"text":"x"}',
      '{"img":"a.jpg","image":{"path":"b.jpg"},"caption":"x"}',
      '{"image":"a.jpg","caption":null,"premise":null,"id":5}',
    ].join('\n');
    const list = parsePairList(text, 'pairs.jsonl');
    assert.deepEqual(list.problems, [
      { line: 1, message: 'image must be a string, not a number' },
      { line: 2, message: 'caption must be a string, not a number' },
      { line: 3, message: 'premise must be a string, not a boolean' },
      { line: 4, message: 'File must be a string, not an array' },
      { line: 5, message: 'image must be a string, not an object' },
    ]);
    assert.deepEqual(list.entries, [{ image: 'a.jpg', caption: '', line: 6 }], 'null is no value; other fields are not read');
  });

  it('a CSV header naming a column twice: no row is read, the problem names the column', () => {
    const list = parsePairList('image,caption,Caption\na.jpg,first,second\n', 'x.csv');
    assert.deepEqual(list.entries, []);
    assert.deepEqual(list.problems, [{ line: 1, message: 'the header names column "caption" twice (columns 2 and 3): no row is read' }]);
    const notes = parsePairList('image,caption,notes,notes\na.jpg,a dog,x,y\n', 'x.csv');
    assert.deepEqual([notes.entries.length, notes.problems], [1, []], 'a column the parser does not read may repeat');
  });

  it('a CSV row with more fields than columns: a problem stating the count; empty extra fields lose nothing', () => {
    const list = parsePairList('image,caption\na.jpg,a red, small picture\nb.jpg,fine,,\n', 'x.csv');
    assert.deepEqual(list.problems, [
      { line: 2, message: '3 fields, more than the 2 the header names (a comma in a field that is not quoted?)' },
    ]);
    assert.deepEqual(
      list.entries.map((e) => [e.line, e.image, e.caption]),
      [[3, 'b.jpg', 'fine']],
    );
    const bare = parsePairList('a.jpg,a dog,a premise,extra\n', 'x.csv');
    assert.deepEqual(bare.problems, [
      { line: 1, message: '4 fields, more than the 3 columns image, caption, premise (a comma in a field that is not quoted?)' },
    ]);
  });
});
