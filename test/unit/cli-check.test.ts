import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { BatchPool } from '../../main/cli/batch/batch-pool.ts';
import { BatchProgress, formatDuration, formatProgress } from '../../main/cli/batch/batch-progress.ts';
import { readRecordedResults, ResultsFileWriter, rowKey, type BatchRecord } from '../../main/cli/batch/batch-results-file.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';
import { cli } from '../support/cli-in-process.ts';

const run = promisify(execFile);

describe('ofa-ve check', () => {
  let dir: string;
  let photo: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-'));
    photo = path.join(dir, 'photo.png');
    await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .composite([
        { input: Buffer.from('<svg width="200" height="120"><rect width="200" height="120" fill="#e33"/></svg>'), left: 100, top: 150 },
      ])
      .png()
      .toFile(photo);
    await writeFile(path.join(dir, 'notes.png'), 'this is a text file, not a picture\n');
    await writeFile(path.join(dir, 'empty.jpg'), '');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('prints a JSON result with label, score, scores, stages, model and the demo flag; exit 0', async () => {
    const { code, out, err } = await cli(['check', photo, 'a red box on blue', '--json', '--provider', 'cpu']);
    assert.equal(code, 0, err);
    const result = JSON.parse(out);
    assert.match(result.label, /^(YES|NO|MAYBE)$/);
    assert.equal(result.score, result.scores[result.label]);
    assert.deepEqual(Object.keys(result.stages).sort(), ['decode_image', 'inference', 'postprocess', 'tokenize']);
    assert.equal(result.model.name, 'ofa-ve-demo');
    assert.equal(result.demo, true);
    assert.match(err, /demo model/);
  });

  it('gives the same answer every time (deterministic)', async () => {
    const a = JSON.parse((await cli(['check', photo, 'a dog', '--json'])).out);
    const b = JSON.parse((await cli(['check', photo, 'a dog', '--json'])).out);
    assert.equal(a.label, b.label);
    assert.deepEqual(a.scores, b.scores);
  });

  it('prints a readable line without --json', async () => {
    const { code, out } = await cli(['check', photo, 'a dog', '--premise', 'an animal']);
    assert.equal(code, 0);
    assert.match(out, /^(YES|NO|MAYBE) \d\.\d{3} /);
    assert.match(out, /stages: queue|stages: decode_image/);
  });

  for (const [name, args, code, pattern] of [
    ['a text file named .png', ['notes.png', 'a dog'], 'INVALID_IMAGE', /not a (recognised|supported)|unsupported|not an image|recogni/i],
    ['a 0-byte file', ['empty.jpg', 'a dog'], 'INVALID_IMAGE', /empty|0 bytes/],
    ['a missing file', ['missing.png', 'a dog'], 'INVALID_IMAGE', /no such file/],
    ['an empty caption', ['photo.png', '   '], 'EMPTY_TEXT', /empty/],
  ] as const) {
    it(`exits 2 with a clear message on stderr for ${name}`, async () => {
      const [image, text] = args;
      const { code: exit, err, out } = await cli(['check', path.join(dir, image), text, '--json']);
      assert.equal(exit, 2, err);
      assert.match(err, new RegExp(`error ${code}: `));
      assert.match(err, pattern);
      if (code === 'INVALID_IMAGE') assert.match(err, new RegExp(`INVALID_IMAGE: ${path.join(dir, image)}: `), 'names the file');
      assert.equal(JSON.parse(out).error.code, code);
      assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
    });
  }

  it('exits 3 when the model directory is not a model', async () => {
    const { code, err } = await cli(['check', photo, 'a dog', '--model', dir]);
    assert.equal(code, 3);
    assert.match(err, /MODEL_INVALID: .*model\.json: not found/);
  });

  it(
    'exits 3 with install advice when --provider cuda cannot be used',
    { skip: process.env.OFA_VE_HAS_CUDA === '1' && 'CUDA machine' },
    async () => {
      const { code, err } = await cli(['check', photo, 'a dog', '--provider', 'cuda']);
      assert.equal(code, 3);
      assert.match(err, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    },
  );

  it('exits 2 with usage on a malformed command line', async () => {
    assert.equal((await cli(['check', photo])).code, 2);
    assert.equal((await cli(['check', photo, 'x', '--bogus'])).code, 2);
    assert.equal((await cli(['check', photo, 'x', '--provider', 'tpu'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });

  it('works as the installed bin (bin/ofa-ve.js), with exit statuses', async () => {
    const bin = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');
    const ok = await run(process.execPath, [bin, 'check', photo, 'a red box', '--json']);
    assert.match(JSON.parse(ok.stdout).label, /^(YES|NO|MAYBE)$/);
    await assert.rejects(
      run(process.execPath, [bin, 'check', path.join(dir, 'notes.png'), 'a dog']),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /INVALID_IMAGE/);
        return true;
      },
    );
  });
});

describe('ofa-ve check: warnings', () => {
  let dir: string;
  let photo: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-warn-'));
    photo = path.join(dir, 'photo.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 30, b: 30 } } })
      .png()
      .toFile(photo);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('an empty warnings array in the JSON when there is nothing to say', async () => {
    const { code, out, err } = await cli(['check', photo, 'a red square', '--json']);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out).warnings, []);
    assert.doesNotMatch(err, /warning [A-Z_]+:/);
  });

  it('CAPTION_TRUNCATED and NOT_ENGLISH in the JSON, and on stderr in both output modes', async () => {
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const json = await cli(['check', photo, long, '--json']);
    assert.deepEqual(
      JSON.parse(json.out).warnings.map((w: { code: string }) => w.code),
      ['CAPTION_TRUNCATED'],
    );
    assert.match(json.err, /^warning CAPTION_TRUNCATED: the caption has 100 words; the model reads only the first 80/m);
    const human = await cli(['check', photo, '草地上的一只狗']);
    assert.equal(human.code, 0, human.err);
    assert.match(human.err, /^warning NOT_ENGLISH: /m);
    assert.match(human.out, /^(YES|NO|MAYBE) /);
  });
});

describe('ofa-ve check --batch: command line and model problems', () => {
  let dir: string;
  let list: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-batch-args-'));
    list = path.join(dir, 'pairs.csv');
    await writeFile(list, 'image,caption\nphoto.png,a dog\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  for (const [name, args, pattern] of [
    ['no list', ['--batch'], /argument missing|--batch/],
    ['IMAGE and TEXT as well', ['--batch', 'LIST', 'photo.png', 'a dog'], /takes no IMAGE and TEXT/],
    ['--resume with --out -', ['--batch', 'LIST', '--out', '-', '--resume'], /--resume needs a results file/],
    ['--json with --out -', ['--batch', 'LIST', '--out', '-', '--json'], /--json writes its summary to stdout/],
    ['--out naming the list', ['--batch', 'LIST', '--out', 'LIST'], /overwrite the list/],
    ['--concurrency 0', ['--batch', 'LIST', '--concurrency', '0'], /--concurrency must be/],
    ['an unknown option', ['--batch', 'LIST', '--bogus'], /bogus/],
  ] as const) {
    it(`exits 2 with usage for ${name}`, async () => {
      const { code, err } = await cli(['check', ...args.map((a) => (a === 'LIST' ? list : a))]);
      assert.equal(code, 2, err);
      assert.match(err, pattern);
      assert.match(err, /usage: ofa-ve check IMAGE TEXT/);
    });
  }

  it('--help documents the batch form, its output and its exit statuses', async () => {
    const { code, out } = await cli(['check', '--help']);
    assert.equal(code, 0);
    for (const text of ['--batch LIST.csv|LIST.jsonl', '--resume', 'LIST.results.jsonl', 'latency_ms', '130 interrupted', '1 some rows']) {
      assert.ok(out.includes(text), `--help mentions ${text}`);
    }
  });

  it('exits 2 naming the list when it cannot be read, and when it lists no pairs', async () => {
    const missing = await cli(['check', '--batch', path.join(dir, 'nope.csv')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read the list: .*nope\.csv: no such file/);
    const empty = path.join(dir, 'empty.jsonl');
    await writeFile(empty, '\n{"caption": "no image here"}\n');
    const none = await cli(['check', '--batch', empty]);
    assert.equal(none.code, 2);
    assert.match(none.err, /line 2: no "image" field/);
    assert.match(none.err, /lists no image\/caption pairs/);
  });

  it('exits 3 when the model directory is not a model, before writing any result', async () => {
    const out = path.join(dir, 'results.jsonl');
    const { code, err } = await cli(['check', '--batch', list, '--model', dir, '--out', out]);
    assert.equal(code, 3, err);
    assert.match(err, /error MODEL_INVALID: .*model\.json/);
    await assert.rejects(readFile(out), 'no results file was created');
  });
});

describe('check --batch building blocks', () => {
  it('formats progress: done/total, percentage, rate, ETA, bad input and failed, with a bar only when asked', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(61.4), '1:01');
    assert.equal(formatDuration(3 * 3600 + 5), '3:00:05');
    assert.equal(
      formatProgress({ done: 0, total: 40, checksLeft: 40, badInput: 0, failed: 0, answered: 0 }, 0),
      '0/40 rows (0%) · – checks/s · ETA – · 0 bad input · 0 failed',
    );
    assert.equal(
      formatProgress({ done: 10, total: 40, checksLeft: 30, badInput: 1, failed: 0, answered: 9 }, 4000),
      '10/40 rows (25%) · 2.3 checks/s · ETA 0:13 · 1 bad input · 0 failed',
    );
    assert.equal(
      formatProgress({ done: 40, total: 40, checksLeft: 0, badInput: 0, failed: 2, answered: 38 }, 2000),
      '40/40 rows (100%) · 19 checks/s · took 0:02 · 0 bad input · 2 failed',
    );
    assert.match(
      formatProgress({ done: 12, total: 24, checksLeft: 12, badInput: 0, failed: 0, answered: 12 }, 1000, { bar: true }),
      /^\[#{12}-{12}\] 12\/24 rows \(50%\)/,
    );
  });

  it('progress lines for a log file carry no control characters; a terminal redraws one line in place', () => {
    let t = 0;
    const lines: string[] = [];
    const counts = { done: 0, total: 4, checksLeft: 4, badInput: 0, failed: 0, answered: 0 };
    const plain = new BatchProgress({ kind: 'lines', line: (l) => lines.push(l) }, () => counts, { now: () => t });
    plain.start();
    counts.done = 4;
    counts.checksLeft = 0;
    counts.answered = 4;
    t = 2000;
    plain.update();
    plain.log('line 3 (a.png): error INVALID_IMAGE: no such file');
    plain.stop();
    assert.deepEqual(lines, [
      'progress: 0/4 rows (0%) · – checks/s · ETA – · 0 bad input · 0 failed',
      'line 3 (a.png): error INVALID_IMAGE: no such file',
      'progress: 4/4 rows (100%) · 2.0 checks/s · took 0:02 · 0 bad input · 0 failed',
    ]);

    let screen = '';
    counts.done = 0;
    counts.checksLeft = 4;
    counts.answered = 0;
    t = 0;
    const tty = new BatchProgress({ kind: 'terminal', write: (raw) => (screen += raw), columns: () => 200 }, () => counts, {
      now: () => t,
    });
    tty.start();
    tty.log('a message');
    tty.stop();
    assert.ok(screen.startsWith('\r['), 'drawn at the start of the line');
    assert.ok(screen.includes('\r\x1b[Ka message\n\r['), 'a message clears the bar, and the bar is drawn again under it');
    assert.ok(screen.endsWith('\x1b[K\n'), 'the last bar is left as a finished line');
  });

  it('resuming: settles answers and bad input, not failures of ours; drops a torn last line and appends after it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-results-'));
    try {
      const file = path.join(dir, 'results.jsonl');
      const answered = { line: 2, image: 'a.png', caption: 'a dog', label: 'YES', score: 0.9 };
      const refused = {
        line: 3,
        image: 'b.png',
        caption: 'a cat',
        premise: 'p',
        error: { code: 'INVALID_IMAGE', message: 'no such file' },
      };
      const transient = { line: 4, image: 'c.png', caption: 'x', error: { code: 'TIMEOUT', message: 'slow' } };
      await writeFile(file, [answered, refused, transient].map((r) => JSON.stringify(r)).join('\n') + '\nnot json\n{"line":5,"ima');
      const recorded = await readRecordedResults(file);
      assert.ok(recorded);
      assert.deepEqual(
        recorded.lines.flatMap((l) => (l.record ? [[rowKey(l.record), l.record.how]] : [])),
        [
          [rowKey(answered), 'answered'],
          [rowKey(refused), 'refused'],
        ],
      );
      assert.equal(recorded.tornTail, true);
      assert.deepEqual(recorded.foreignLines, [4], 'the line that is not JSON; the failure of ours is a record, settling nothing');
      assert.notEqual(rowKey(refused), rowKey({ ...refused, premise: 'another' }), 'an edited premise is another row');

      const writer = ResultsFileWriter.open(file, recorded);
      writer.write({ line: 5, image: 'd.png', caption: 'y', error: { code: 'EMPTY_TEXT', message: 'empty' } });
      writer.close();
      const lines = (await readFile(file, 'utf8')).split('\n');
      assert.equal(lines.at(-1), '', 'ends with a newline');
      assert.deepEqual(JSON.parse(lines.at(-2) as string).line, 5, 'the torn line is gone and the new one is whole');

      // A last record saved without a final newline is kept and ended before appending.
      await writeFile(file, JSON.stringify(answered));
      const unterminated = await readRecordedResults(file);
      assert.equal(unterminated?.needsNewline, true);
      assert.equal(unterminated?.lines.filter((l) => l.record).length, 1);
      const appender = ResultsFileWriter.open(file, unterminated);
      appender.write(refused as BatchRecord);
      appender.close();
      assert.equal((await readFile(file, 'utf8')).split('\n').filter(Boolean).length, 2);
      assert.equal(await readRecordedResults(path.join(dir, 'none.jsonl')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the pool keeps at most N in flight; stop() lets them finish and report; abandon() stops waiting', async () => {
    const started: number[] = [];
    const finishers = new Map<number, () => void>();
    const reported: number[] = [];
    const work = (n: number) =>
      new Promise<number>((resolve) => {
        started.push(n);
        finishers.set(n, () => resolve(n * 10));
      });
    const pool = new BatchPool([1, 2, 3, 4, 5, 6], 2, work, (n, r) => reported.push(r + n));
    const done = pool.run();
    assert.deepEqual(started, [1, 2]);
    finishers.get(1)!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [1, 2, 3], 'the next starts as soon as one finishes');
    assert.equal(pool.stop(), 2, 'two in flight at the stop');
    finishers.get(2)!();
    finishers.get(3)!();
    await done;
    assert.deepEqual(reported, [11, 22, 33], 'the ones in flight were finished and reported');
    assert.equal(pool.notStarted, 3);

    const abandoned = new BatchPool(
      [1, 2],
      2,
      () => new Promise<number>(() => {}),
      () => assert.fail('nothing reported'),
    );
    const waiting = abandoned.run();
    abandoned.abandon();
    await waiting;
  });
});
