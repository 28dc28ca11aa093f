/**
 * `ofa-ve check --batch`, the real bin in a child process: killed with SIGKILL mid-run and resumed
 * (no row checked twice, none lost), stopped with SIGINT (rows in flight finished and written, exit
 * 130), CSV and JSONL lists, exit 0 / 2, and plain progress lines on a stderr that is not a terminal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, link, mkdir, mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { BatchSummary } from '../../main/cli/batch/batch-command.ts';
import {
  rowKey,
  type BatchAnswerRecord,
  type BatchErrorRecord,
  type ResumeCounts,
  type RowIdentity,
} from '../../main/cli/batch/batch-results-file.ts';
import { DEMO_WARNING } from '../../main/config.ts';
import { BIN, startChild, type ChildRun } from '../support/cli-child.ts';

/** Any child still running after this is killed, so the suite stays bounded. */
const CHILD_LIMIT_MS = 40_000;

type Run = ChildRun;
const startCli = (args: string[]): Run =>
  startChild(process.execPath, [BIN, 'check', ...args, '--provider', 'cpu'], { limitMs: CHILD_LIMIT_MS });

async function runCli(args: string[]): Promise<{ code: number | NodeJS.Signals; out: string; err: string }> {
  const run = startCli(args);
  const code = await run.exited;
  return { code, out: run.stdout(), err: run.stderr() };
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Waits until `file` holds at least `n` lines (the run is then mid-way), or the run ends. */
async function waitForLines(file: string, n: number, run: Run): Promise<void> {
  let ended = false;
  void run.exited.then(() => (ended = true));
  while (!ended && (await readLines(file)).length < n) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!ended, `the run ended before writing ${n} results:\n${run.stderr()}`);
}

/** A results-file line of either kind: an answer's fields or a refusal's error. */
type ResultLine = RowIdentity & Partial<BatchAnswerRecord & BatchErrorRecord>;

/** The processes whose parent is `pid` (Linux: /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return parentOf(readFileSync(`/proc/${name}/stat`, 'utf8')) === pid;
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

/** /proc/PID/stat's fields after the command name (which may hold spaces and parentheses). */
const statFields = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');
const parentOf = (stat: string) => Number(statFields(stat)[1]);
/** The nice value: field 19 of /proc/PID/stat, the 17th after the command name. */
const niceOf = (pid: number) => Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[16]);

const summaryOf = (out: string) => JSON.parse(out.trim().split('\n').pop() as string) as BatchSummary;

describe('ofa-ve check --batch (the bin)', () => {
  let dir: string;
  /** 40 rows over large noisy images (so a run lasts a few seconds and can be stopped mid-way). */
  let slowCsv: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-batch-'));
    await mkdir(path.join(dir, 'images'));
    // Random pixels: a PNG that does not compress, so each check spends real time decoding it.
    for (let i = 0; i < 4; i++) {
      await sharp(randomBytes(1000 * 1000 * 3), { raw: { width: 1000, height: 1000, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toFile(path.join(dir, 'images', `noise-${i}.png`));
    }
    for (const [name, r] of [
      ['red', 220],
      ['blue', 20],
    ] as const) {
      await sharp({ create: { width: 96, height: 64, channels: 3, background: { r, g: 60, b: 255 - r } } })
        .png()
        .toFile(path.join(dir, 'images', `${name}.png`));
    }
    await writeFile(path.join(dir, 'images', 'notes.png'), 'a text file, not a picture\n');
    slowCsv = path.join(dir, 'slow.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `images/noise-${i % 4}.png,"caption number ${i}, checked once"`);
    await writeFile(slowCsv, ['image,caption', ...rows].join('\n'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('killed with SIGKILL mid-run, --resume checks only the rest: every row answered exactly once', async () => {
    const out = path.join(dir, 'killed.jsonl');
    const first = startCli(['--batch', slowCsv, '--out', out, '--concurrency', '2']);
    await waitForLines(out, 5, first);
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const beforeResume = (await readLines(out)).length;
    assert.ok(beforeResume >= 5 && beforeResume < 40, `${beforeResume} rows written before the kill`);
    // A kill in the middle of a write leaves a torn last line: --resume must drop it, not choke on it.
    await appendFile(out, '{"line":40,"image":"images/noise-3.png","capt');

    const second = await runCli(['--batch', slowCsv, '--out', out, '--resume', '--json']);
    assert.equal(second.code, 0, second.err);
    const summary = summaryOf(second.out);
    assert.equal(summary.recorded_before, beforeResume, 'the rows written before the kill were skipped');
    assert.equal(summary.answered, 40 - beforeResume, 'only the remaining rows were checked');
    assert.equal(summary.remaining, 0);
    assert.match(second.err, /cut off mid-write/);
    assert.match(second.err, new RegExp(`resuming: ${beforeResume} of 40 rows already have results`));

    const lines = await readLines(out);
    assert.equal(lines.length, 40, 'one result line per row');
    const records = lines.map((l) => JSON.parse(l) as ResultLine);
    assert.equal(new Set(records.map(rowKey)).size, 40, 'no row recorded twice');
    assert.deepEqual(
      records.map((r) => r.line).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i + 2),
    );
    for (const r of records) assert.match(String(r.label), /^(YES|NO|MAYBE)$/);
  });

  it('SIGINT stops taking rows, finishes and writes those in flight, says how to resume, exits 130', async () => {
    const out = path.join(dir, 'interrupted.jsonl');
    const run = startCli(['--batch', slowCsv, '--out', out, '--concurrency', '4', '--json']);
    await waitForLines(out, 4, run);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 130, run.stderr());
    const summary = summaryOf(run.stdout());
    assert.equal(summary.interrupted, true);
    assert.ok(summary.in_flight_at_stop > 0, 'checks were in flight when the signal came');
    assert.equal(summary.failed, 0, 'none of them was dropped');
    const lines = await readLines(out);
    assert.equal(lines.length, summary.answered, 'every finished row is in the file');
    assert.ok(summary.remaining > 0 && summary.remaining === 40 - lines.length);
    for (const line of lines) JSON.parse(line);
    assert.match(run.stderr(), /SIGINT: taking no new rows/);
    assert.match(run.stderr(), /to continue: ofa-ve check --batch \S+slow\.csv --out \S+interrupted\.jsonl .*--resume$/m);
  });

  it('a JSONL list with bad rows: exit 2, each reported with its line, image and code, and not retried by --resume', async () => {
    const list = path.join(dir, 'mixed.jsonl');
    const absolute = path.join(dir, 'images', 'blue.png');
    await writeFile(
      list,
      [
        JSON.stringify({ image: 'images/red.png', caption: 'a red picture' }),
        JSON.stringify({ file: absolute, text: 'a blue picture', premise: 'a picture' }),
        JSON.stringify({ image: 'images/missing.png', caption: 'a cat' }),
        '{"image": "images/red.png", "caption": ',
        JSON.stringify({ image: 'images/notes.png', caption: 'a dog' }),
        JSON.stringify({ image: 'images/red.png', caption: '   ' }),
        JSON.stringify({ image: 'images/blue.png', caption: '草地上的一只狗' }),
      ].join('\n'),
    );
    const out = path.join(dir, 'mixed.results.jsonl');
    const first = await runCli(['--batch', list, '--json']);
    assert.equal(first.code, 2, first.err);
    assert.match(first.err, /line 3 \(images\/missing\.png\): error INVALID_IMAGE: no such file/);
    assert.match(first.err, /mixed\.jsonl: line 4: not valid JSON/);
    assert.match(first.err, /line 5 \(images\/notes\.png\): error INVALID_IMAGE: /);
    assert.match(first.err, /line 6 \(images\/red\.png\): error EMPTY_TEXT: /);
    assert.match(first.err, /line 7 \(images\/blue\.png\): warning NOT_ENGLISH: /);
    assert.doesNotMatch(first.err, /\n\s+at /, 'no stack trace');

    const records = (await readLines(out)).map((l) => JSON.parse(l) as ResultLine);
    const byLine = new Map(records.map((r) => [r.line, r]));
    assert.deepEqual([...byLine.keys()].sort(), [1, 2, 3, 5, 6, 7], 'the default --out is LIST.results.jsonl beside the list');
    assert.equal(byLine.get(2)?.premise, 'a picture');
    assert.equal(byLine.get(2)?.image, absolute);
    assert.match(String(byLine.get(1)?.label), /^(YES|NO|MAYBE)$/);
    assert.equal(byLine.get(3)?.error?.code, 'INVALID_IMAGE');
    assert.equal(byLine.get(6)?.error?.code, 'EMPTY_TEXT');
    assert.deepEqual(
      byLine.get(7)?.warnings?.map((w) => w.code),
      ['NOT_ENGLISH'],
    );
    assert.deepEqual(byLine.get(1)?.warnings, []);

    const again = await runCli(['--batch', list, '--resume', '--json']);
    assert.equal(again.code, 2, 'still some bad input');
    assert.equal(summaryOf(again.out).recorded_before, 6, 'bad-input rows are settled, not checked again');
    assert.match(again.err, /nothing to check/);
    assert.equal((await readLines(out)).length, 6);

    const refused = await runCli(['--batch', list]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /already holds results: add --resume/);
    assert.equal((await readLines(out)).length, 6, 'existing results are never overwritten');
  });

  it('ambiguous list rows: a JSONL value of the wrong type, a CSV row with extra fields, each a skipped row; a header naming a column twice refuses the list', async () => {
    const jsonl = path.join(dir, 'typed.jsonl');
    await writeFile(
      jsonl,
      [
        JSON.stringify({ image: 5, caption: 'a number for a file name' }),
        JSON.stringify({ image: 'images/red.png', caption: 7 }),
        JSON.stringify({ image: 'images/red.png', caption: 'a red picture', premise: ['a', 'list'] }),
        JSON.stringify({ image: 'images/red.png', caption: 'a red picture' }),
      ].join('\n'),
    );
    const typed = await runCli(['--batch', jsonl, '--out', path.join(dir, 'typed.results.jsonl'), '--json']);
    assert.equal(typed.code, 2, typed.err);
    assert.match(typed.err, /typed\.jsonl: line 1: image must be a string, not a number \(skipped\)$/m);
    assert.match(typed.err, /typed\.jsonl: line 2: caption must be a string, not a number \(skipped\)$/m);
    assert.match(typed.err, /typed\.jsonl: line 3: premise must be a string, not an array \(skipped\)$/m);
    assert.doesNotMatch(typed.err, /INVALID_IMAGE/, 'no row checked as a file named "5"');
    assert.deepEqual([summaryOf(typed.out).rows, summaryOf(typed.out).list_problems, summaryOf(typed.out).answered], [1, 3, 1]);
    assert.deepEqual(
      (await readLines(path.join(dir, 'typed.results.jsonl'))).map((l) => (JSON.parse(l) as ResultLine).line),
      [4],
    );

    const csv = path.join(dir, 'extra-fields.csv');
    await writeFile(csv, 'image,caption\nimages/red.png,a red, small picture\nimages/blue.png,a blue picture,,\n');
    const extra = await runCli(['--batch', csv, '--out', '-']);
    assert.equal(extra.code, 2, extra.err);
    assert.match(extra.err, /extra-fields\.csv: line 2: 3 fields, more than the 2 the header names .*\(skipped\)$/m);
    assert.deepEqual(
      extra.out
        .trim()
        .split('\n')
        .map((l) => [(JSON.parse(l) as ResultLine).line, (JSON.parse(l) as ResultLine).caption]),
      [[3, 'a blue picture']],
      'empty extra fields lose nothing: that row is checked',
    );

    const dup = path.join(dir, 'dup-header.csv');
    const out = path.join(dir, 'dup-header.results.jsonl');
    await writeFile(dup, 'image,caption,caption\nimages/red.png,first,second\n');
    const refused = await runCli(['--batch', dup, '--out', out]);
    assert.equal(refused.code, 2, refused.err);
    assert.match(refused.err, /dup-header\.csv: line 1: the header names column "caption" twice \(columns 2 and 3\): no row is read/);
    assert.match(refused.err, /^error BAD_REQUEST: .*dup-header\.csv lists no image\/caption pairs$/m);
    assert.equal(existsSync(out), false, 'nothing checked, nothing written');
  });

  it('an all-good header-less CSV: exit 0, JSON lines on stdout with --out -, plain progress lines on stderr', async () => {
    const list = path.join(dir, 'good.csv');
    await writeFile(list, 'images/red.png,a red picture\r\nimages/blue.png,"a blue, small picture",a picture\r\n');
    const { code, out, err } = await runCli(['--batch', list, '--out', '-']);
    assert.equal(code, 0, err);
    const records = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ResultLine);
    assert.deepEqual(records.map((r) => r.line).sort(), [1, 2]);
    assert.equal(records.find((r) => r.line === 2)?.caption, 'a blue, small picture');
    const progress = err.split('\n').filter((l) => l.startsWith('progress: '));
    assert.ok(progress.length >= 2, 'a line at the start and one at the end');
    const finalProgress = /^progress: 2\/2 rows \(100%\) · [\d.]+ checks\/s · took \d+:\d\d · 0 bad input · 0 failed$/;
    assert.match(progress.at(-1) as string, finalProgress);
    assert.ok(err.split('\n').includes(`warning: ${DEMO_WARNING}`), 'the demo model is named, in the words of ofa-ve check');
    const control = [...err].filter((c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f));
    assert.deepEqual(control, [], 'no control characters in a log file');
  });

  it('a CSV whose header names only the image column: --caption fills every row; progress and summary count alike', async () => {
    const list = path.join(dir, 'images-only.csv');
    await writeFile(list, 'image\nimages/red.png\nimages/missing.png\n');
    const out = path.join(dir, 'images-only.results.jsonl');
    const { code, out: stdout, err } = await runCli(['--batch', list, '--caption', 'a dog', '--out', out, '--json']);
    assert.equal(code, 2, err);
    const records = (await readLines(out)).map((l) => JSON.parse(l) as ResultLine);
    const byLine = new Map(records.map((r) => [r.line, r]));
    assert.deepEqual([...byLine.keys()].sort(), [2, 3], 'the header row is no pair');
    assert.equal(byLine.get(2)?.caption, 'a dog');
    assert.match(String(byLine.get(2)?.label), /^(YES|NO|MAYBE)$/);
    assert.equal(byLine.get(3)?.error?.code, 'INVALID_IMAGE');
    const summary = summaryOf(stdout);
    assert.deepEqual([summary.answered, summary.bad_input, summary.failed], [1, 1, 0]);
    // The progress line and the summary line use the same words for the same counts.
    const progress = err.split('\n').filter((l) => l.startsWith('progress: '));
    assert.match(progress.at(-1) as string, / · 1 bad input · 0 failed$/);
    assert.match(err, /^1 answered · 1 bad input · 0 failed · results in /m);
  });

  it('a CSV whose header names only the image column, without --caption: each row reported as missing a caption', async () => {
    const list = path.join(dir, 'no-captions.csv');
    await writeFile(list, 'file\nimages/red.png\nimages/blue.png\n');
    const { code, err } = await runCli(['--batch', list, '--out', path.join(dir, 'no-captions.results.jsonl')]);
    assert.equal(code, 2, err);
    for (const [line, image] of [
      [2, 'red'],
      [3, 'blue'],
    ] as const) {
      assert.match(err, new RegExp(`^line ${line} \\(images/${image}\\.png\\): error EMPTY_TEXT: no caption: .*--caption`, 'm'));
    }
    assert.doesNotMatch(err, /line 1\b/, 'the header is not a row');
  });

  it('rows that repeat an earlier row (same image file, caption, premise): checked once, a result line each, said once; --resume fills gaps', async () => {
    const list = path.join(dir, 'repeats.csv');
    const rows = [
      'images/red.png,a red picture,', // 2
      'images/blue.png,a blue picture,', // 3
      'images/red.png,a red picture,', // 4: repeats 2
      './images/red.png,a red picture,', // 5: the same file, spelled otherwise: repeats 2
      'images/red.png,a red picture,a picture', // 6: another premise, checked
      'images/missing.png,a cat,', // 7
      'images/blue.png,a blue picture,', // 8: repeats 3
      'images/missing.png,a cat,', // 9: repeats 7 (refused alike)
      'images/red.png,a red picture,', // 10: repeats 2
    ];
    await writeFile(list, ['image,caption,premise', ...rows].join('\n') + '\n');
    const out = path.join(dir, 'repeats.results.jsonl');
    const run = await runCli(['--batch', list, '--out', out, '--json']);
    assert.equal(run.code, 2, run.err);
    const notices = run.err.split('\n').filter((l) => l.includes('repeat an earlier row'));
    assert.deepEqual(notices, ['5 rows repeat an earlier row (same image, caption and premise): checked once each']);
    const summary = summaryOf(run.out);
    assert.deepEqual(
      [summary.answered, summary.bad_input, summary.failed, summary.remaining, summary.repeats],
      [7, 2, 0, 0, 5],
      'every row has its result',
    );
    assert.equal(summary.model_answers, 3, 'the model answered each distinct pair once (lines 2, 3 and 6)');
    assert.match(run.err, /^7 answered · 2 bad input · 0 failed · 5 repeated rows not checked again · results in /m);
    for (const line of [7, 9]) assert.match(run.err, new RegExp(`^line ${line} \\(images/missing\\.png\\): error INVALID_IMAGE: `, 'm'));

    const records = (await readLines(out)).map((l) => JSON.parse(l) as ResultLine);
    const byLine = new Map(records.map((r) => [r.line, r]));
    assert.equal(records.length, 9, 'one result line per row');
    assert.deepEqual(
      [...byLine.keys()].sort((a, b) => a - b),
      [2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(byLine.get(5)?.image, './images/red.png', 'each row as its list spells it');
    const answerOf = (line: number) => {
      const r = byLine.get(line);
      return [r?.label, r?.score, r?.scores];
    };
    for (const line of [4, 5, 10]) assert.deepEqual(answerOf(line), answerOf(2), `line ${line} has line 2's answer`);
    assert.deepEqual(answerOf(8), answerOf(3));
    assert.equal(byLine.get(6)?.premise, 'a picture');
    assert.equal(byLine.get(9)?.error?.code, 'INVALID_IMAGE');

    // The results of a row and of one of its repeats lost (a kill): --resume checks that pair once more, for both.
    const kept = (await readLines(out)).filter((l) => ![2, 10].includes((JSON.parse(l) as ResultLine).line));
    await writeFile(out, kept.join('\n') + '\n');
    const again = await runCli(['--batch', list, '--out', out, '--resume', '--json']);
    assert.equal(again.code, 2, again.err);
    const resumed = summaryOf(again.out);
    assert.deepEqual([resumed.recorded_before, resumed.answered, resumed.repeats, resumed.model_answers], [7, 2, 1, 1]);
    assert.match(again.err, /^1 row repeats an earlier row \(same image, caption and premise\): checked once each$/m);
    const after = (await readLines(out)).map((l) => JSON.parse(l) as ResultLine);
    assert.deepEqual(
      after.map((r) => r.line).sort((a, b) => a - b),
      [2, 3, 4, 5, 6, 7, 8, 9, 10],
      'still one result per row',
    );
  });

  it('a temporary file left by a run killed mid-rewrite (its PID dead) is removed on the next run, and said; a live one is kept', async () => {
    const list = path.join(dir, 'temps.csv');
    await writeFile(list, 'images/red.png,a red picture\n');
    const out = path.join(dir, 'temps.results.jsonl');
    const first = await runCli(['--batch', list, '--out', out]);
    assert.equal(first.code, 0, first.err);
    // The PID of a process that has ended: no live process has it.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const stale = path.join(dir, `.temps.results.jsonl.${dead}.tmp`);
    const live = path.join(dir, `.temps.results.jsonl.${process.pid}.tmp`);
    await writeFile(stale, 'the rewrite that never got renamed\n');
    await writeFile(live, "a live run's rewrite\n");
    // Both written two minutes ago: a temporary file younger than a minute is kept whatever its PID.
    const then = new Date(Date.now() - 120_000);
    for (const temp of [stale, live]) await utimes(temp, then, then);
    const again = await runCli(['--batch', list, '--out', out, '--resume']);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /nothing to check/);
    assert.ok(again.err.split('\n').includes(`note: removed ${stale}, left by a run killed while rewriting ${out}`), again.err);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(live), true, 'a live process is mid-rewrite: not touched');
    await rm(live);
  });

  it('--out naming the list itself, directly or through a symbolic or hard link: refused, the list untouched', async () => {
    const list = path.join(dir, 'self.csv');
    const text = 'image,caption\nimages/red.png,a red picture\n';
    await writeFile(list, text);
    await symlink(list, path.join(dir, 'self-symlink.jsonl'));
    await link(list, path.join(dir, 'self-hardlink.jsonl'));
    for (const out of [list, path.join(dir, 'self-symlink.jsonl'), path.join(dir, 'self-hardlink.jsonl')]) {
      const run = await runCli(['--batch', list, '--out', out, '--resume']);
      assert.equal(run.code, 2, `${out}: ${run.err}`);
      assert.match(run.err, /--out would overwrite the list itself/);
      assert.equal(await readFile(list, 'utf8'), text, `${out}: the list is unchanged`);
    }
  });

  it('--out naming a file that is not a results file (notes, another list, a CSV, a note among results, a lone torn line): refused, untouched', async () => {
    const list = path.join(dir, 'not-results.csv');
    await writeFile(list, 'images/red.png,a red picture\n');
    const result = JSON.stringify({ line: 1, image: 'images/red.png', caption: 'a red picture', label: 'YES', score: 0.9 });
    const files: [name: string, text: string, lines: string][] = [
      ['notes.txt', 'important notes\nlast line without newline', 'lines 1 and 2 are not result records'],
      ['pairs.jsonl', '{"image":"images/red.png","caption":"x"}\n{"image":"images/blue.png","caption":"y"}\n', 'lines 1 and 2 are'],
      ['exported.csv', 'image,caption,label\nimages/red.png,a red picture,YES\n', 'lines 1 and 2 are'],
      ['annotated.jsonl', `${result}\nchecked by hand: fine\n`, 'line 2 is not a result record'],
      ['torn-only.jsonl', '{"line":1,"image":"images/re', 'no result record, only a line cut off mid-write'],
    ];
    for (const [name, text, why] of files) {
      const out = path.join(dir, name);
      await writeFile(out, text);
      for (const resume of [['--resume'], []]) {
        const run = await runCli(['--batch', list, '--out', out, ...resume, '--json']);
        assert.equal(run.code, 2, `${name} ${resume}: ${run.err}`);
        assert.match(
          run.err,
          new RegExp(
            `^error BAD_REQUEST: \\S+${name} is not a results file \\(.*${why}.*\\): it is left as it is; choose another --out$`,
            'm',
          ),
        );
        assert.match(JSON.parse(run.out).error.message, /is not a results file/, '--json: {error} on stdout');
        assert.doesNotMatch(run.err, /cut off mid-write \(a killed run\)|resuming/, `${name}: nothing dropped, no run started`);
        assert.equal(await readFile(out, 'utf8'), text, `${name} ${resume}: untouched byte for byte`);
      }
      assert.equal(existsSync(`${out}.removed.jsonl`), false);
    }
  });

  it("the inference worker's settings, as serve takes them: --worker-nice reaches the worker process; bad values are usage errors", async () => {
    const out = path.join(dir, 'worker-settings.jsonl');
    const settings = ['--worker-nice', '3', '--max-batch-size', '2', '--preprocess-workers', '1', '--intra-op-threads', '1'];
    const run = startCli(['--batch', slowCsv, '--out', out, '--concurrency', '2', ...settings]);
    await waitForLines(out, 2, run);
    if (process.platform === 'linux') {
      // The CLI's children: the inference worker and tsx's esbuild.
      const workers = childrenOf(run.child.pid as number).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('inference-worker'),
      );
      assert.equal(workers.length, 1, 'one inference worker under the CLI');
      assert.equal(niceOf(workers[0] as number), 3, "the worker's nice value");
    }
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 130, run.stderr());
    for (const line of await readLines(out)) assert.match(String((JSON.parse(line) as ResultLine).label), /^(YES|NO|MAYBE)$/);

    for (const [flag, value, message] of [
      ['--worker-nice', '20', /--worker-nice must be a whole number from 0 to 19/],
      ['--max-batch-size', '0', /--max-batch-size must be a whole number >= 1/],
      ['--preprocess-workers', 'many', /--preprocess-workers must be auto or a whole number >= 0/],
      ['--intra-op-threads', '-1', /--intra-op-threads must be a whole number >= 0/],
    ] as const) {
      const refused = await runCli(['--batch', slowCsv, '--out', path.join(dir, 'never.jsonl'), flag, value]);
      assert.equal(refused.code, 2, `${flag} ${value}: ${refused.err}`);
      assert.match(refused.err, message);
    }
    assert.equal(existsSync(path.join(dir, 'never.jsonl')), false, 'a usage error writes nothing');
  });

  describe('--resume after the list was edited: results matched to rows by image, caption and premise', () => {
    /** A row of a CSV list: [image, caption] (no commas). */
    type Pair = readonly [string, string];
    const pairs = (n: number, prefix = 'caption'): Pair[] =>
      Array.from({ length: n }, (_, i) => [`images/${i % 2 ? 'blue' : 'red'}.png`, `${prefix} ${i}`] as const);

    async function writeList(file: string, rows: readonly Pair[]): Promise<void> {
      await writeFile(file, ['image,caption', ...rows.map(([image, caption]) => `${image},${caption}`)].join('\n') + '\n');
    }

    /** Writes the list and runs it to the end: every row answered. */
    async function finishedRun(name: string, rows: readonly Pair[]): Promise<{ list: string; out: string }> {
      const list = path.join(dir, `${name}.csv`);
      const out = path.join(dir, `${name}.results.jsonl`);
      await writeList(list, rows);
      const run = await runCli(['--batch', list, '--out', out]);
      assert.equal(run.code, 0, run.err);
      assert.equal((await readLines(out)).length, rows.length);
      return { list, out };
    }

    /** Edits the list and resumes; the summary, stderr and the results file's records. */
    async function resumeEdited(list: string, out: string, rows: readonly Pair[]) {
      await writeList(list, rows);
      const run = await runCli(['--batch', list, '--out', out, '--resume', '--json']);
      assert.equal(run.code, 0, run.err);
      const records = (await readLines(out)).map((l) => JSON.parse(l) as ResultLine);
      return { summary: summaryOf(run.out) as BatchSummary & ResumeCounts, err: run.err, records };
    }

    /** Exactly one record per row of the list, each naming the row's current line (the header is line 1). */
    function assertOneRecordPerRow(records: ResultLine[], rows: readonly Pair[]): void {
      const sorted = [...records].sort((a, b) => a.line - b.line);
      assert.deepEqual(
        sorted.map((r) => [r.line, r.image, r.caption]),
        rows.map(([image, caption], i) => [i + 2, image, caption]),
      );
      for (const r of records) assert.match(String(r.label), /^(YES|NO|MAYBE)$/);
    }

    it('a row inserted at the top: only it is checked; the others are renumbered, answers kept; a second --resume changes nothing', async () => {
      const rows = pairs(30);
      const { list, out } = await finishedRun('inserted', rows);
      const answers = new Map((await readLines(out)).map((l) => JSON.parse(l) as ResultLine).map((r) => [r.caption, r.score]));

      const edited: Pair[] = [['images/blue.png', 'a row added at the top'], ...rows];
      const { summary, err, records } = await resumeEdited(list, out, edited);
      assert.deepEqual([summary.recorded_before, summary.answered, summary.remaining], [30, 1, 0], 'only the new row was checked');
      assert.deepEqual([summary.renumbered, summary.removed], [30, 0]);
      assert.match(err, /resuming: 30 of 31 rows already have results/);
      assert.match(err, /: 30 results renumbered \(rows inserted or removed above them\)$/m);
      assertOneRecordPerRow(records, edited);
      for (const r of records.filter((r) => answers.has(r.caption))) assert.equal(r.score, answers.get(r.caption), 'the answer is kept');

      const bytes = await readFile(out);
      const again = await runCli(['--batch', list, '--out', out, '--resume', '--json']);
      assert.equal(again.code, 0, again.err);
      assert.match(again.err, /nothing to check/);
      assert.deepEqual(await readFile(out), bytes, 'the file is left as it was');
    });

    it('a row removed: nothing is checked; its result moves aside and the rows below it are renumbered', async () => {
      const rows = pairs(30);
      const { list, out } = await finishedRun('removed', rows);
      const edited = rows.filter((_, i) => i !== 10);
      const { summary, err, records } = await resumeEdited(list, out, edited);
      assert.deepEqual([summary.recorded_before, summary.answered, summary.remaining], [29, 0, 0]);
      assert.deepEqual([summary.renumbered, summary.removed], [19, 1]);
      assert.match(err, /nothing to check/);
      assert.match(
        err,
        /: 19 results renumbered \(rows inserted or removed above them\); 1 result for a row no longer in the list moved to .*\.removed\.jsonl$/m,
      );
      assertOneRecordPerRow(records, edited);
      assert.ok(!records.some((r) => r.caption === 'caption 10'), 'the removed row left no result');
      const aside = (await readLines(`${out}.removed.jsonl`)).map((l) => JSON.parse(l) as ResultLine);
      assert.deepEqual(
        aside.map((r) => [r.line, r.caption]),
        [[12, 'caption 10']],
        'its answer is kept aside, as it was written',
      );
    });

    it('a caption edited: only that row is checked again; the result for the old caption moves aside', async () => {
      const rows = pairs(6);
      const { list, out } = await finishedRun('edited', rows);
      const edited = rows.map(([image, caption], i): Pair => [image, i === 3 ? 'an edited caption' : caption]);
      const { summary, err, records } = await resumeEdited(list, out, edited);
      assert.deepEqual([summary.recorded_before, summary.answered, summary.renumbered, summary.removed], [5, 1, 0, 1]);
      assert.match(err, /: 1 result for a row no longer in the list moved to .*\.removed\.jsonl$/m);
      assertOneRecordPerRow(records, edited);
      assert.ok(!records.some((r) => r.caption === 'caption 3'), 'the answer for the old caption is gone');
      const aside = (await readLines(`${out}.removed.jsonl`)).map((l) => JSON.parse(l) as ResultLine);
      assert.deepEqual(
        aside.map((r) => r.caption),
        ['caption 3'],
      );
    });

    it('no result for any row as the list is now (another --caption than before): refused, the file untouched', async () => {
      const list = path.join(dir, 'captions.csv');
      const out = path.join(dir, 'captions.results.jsonl');
      await writeFile(list, 'image\nimages/red.png\nimages/blue.png\n');
      const first = await runCli(['--batch', list, '--out', out, '--caption', 'a red square']);
      assert.equal(first.code, 0, first.err);
      const bytes = await readFile(out);
      const again = await runCli(['--batch', list, '--out', out, '--resume', '--caption', 'a blue square']);
      assert.notEqual(again.code, 0);
      assert.match(again.err, /none of the 2 results in .* is for a row of .* as it is now .*choose another --out/);
      assert.deepEqual(await readFile(out), bytes, 'the results file is untouched');
      assert.equal(existsSync(`${out}.removed.jsonl`), false, 'nothing moved aside');
    });

    it('identical rows: each occurrence keeps one result of its own through an insert and a removal', async () => {
      const a: Pair = ['images/red.png', 'the same pair'];
      const rows: Pair[] = [a, ['images/blue.png', 'another pair'], a, a];
      const { list, out } = await finishedRun('identical', rows);

      const inserted: Pair[] = [['images/blue.png', 'a row added at the top'], ...rows];
      const first = await resumeEdited(list, out, inserted);
      assert.deepEqual(
        [first.summary.recorded_before, first.summary.answered, first.summary.renumbered, first.summary.removed],
        [4, 1, 3, 0],
      );
      assertOneRecordPerRow(first.records, inserted);

      // The first of them goes: the pair's results stay with its remaining rows, one each.
      const removed = inserted.filter((_, i) => i !== 1);
      const second = await resumeEdited(list, out, removed);
      assert.deepEqual(
        [second.summary.recorded_before, second.summary.answered, second.summary.renumbered, second.summary.removed],
        [4, 0, 2, 1],
      );
      assertOneRecordPerRow(second.records, removed);
    });

    it('an unchanged list: --resume leaves the file byte-identical, records out of order included, and only appends a missing row', async () => {
      const a: Pair = ['images/red.png', 'the same pair'];
      const rows: Pair[] = [a, ['images/blue.png', 'another pair'], a, a, ['images/blue.png', 'a last pair']];
      const { list, out } = await finishedRun('unchanged', rows);
      // Concurrent checks write in the order they finish; and a row whose result was lost (line 4, an identical row).
      const kept = (await readLines(out)).filter((l) => (JSON.parse(l) as ResultLine).line !== 4).reverse();
      await writeFile(out, kept.join('\n') + '\n');
      const bytes = await readFile(out);

      const run = await runCli(['--batch', list, '--out', out, '--resume', '--json']);
      assert.equal(run.code, 0, run.err);
      const summary = summaryOf(run.out) as BatchSummary & ResumeCounts;
      assert.deepEqual([summary.recorded_before, summary.answered, summary.renumbered, summary.removed], [4, 1, 0, 0]);
      const after = await readFile(out);
      assert.deepEqual(after.subarray(0, bytes.length), bytes, 'the results were only appended to');
      assertOneRecordPerRow(
        (await readLines(out)).map((l) => JSON.parse(l) as ResultLine),
        rows,
      );
      const again = await runCli(['--batch', list, '--out', out, '--resume']);
      assert.match(again.err, /nothing to check/);
      assert.deepEqual(await readFile(out), after, 'byte-identical');
    });
  });
});
