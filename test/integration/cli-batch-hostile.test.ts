/**
 * `ofa-ve check --batch` against hostile surroundings, the real bin in a child process: rows naming
 * a device or a FIFO (each a bad-input row at once, never a hang or a memory blow-up; the same for
 * `ofa-ve check IMAGE TEXT`), a stdout pipe closed by its reader (the run stops and says so, exit 4),
 * and results on the terminal that shows the progress bar (never glued to a bar fragment).
 */
import assert from 'node:assert/strict';
import { execFileSync, type StdioOptions } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { BatchErrorRecord, BatchAnswerRecord, RowIdentity } from '../../main/cli/batch/batch-results-file.ts';
import { EXIT } from '../../main/cli/exit-codes.ts';
import { BIN, killGroup, startChild, type ChildRun } from '../support/cli-child.ts';

/** A run that has not ended by then is a hang: killed, and the test fails. */
const CHILD_LIMIT_MS = 25_000;

type Run = ChildRun;
const kill = killGroup;
const start = (command: string, args: string[], stdio?: StdioOptions): Run => startChild(command, args, { limitMs: CHILD_LIMIT_MS, stdio });

const startCli = (args: string[]) => start(process.execPath, [BIN, 'check', ...args, '--provider', 'cpu']);

/** Runs to the end (or the limit), killing it in any case. */
async function runToEnd(run: Run): Promise<{ code: number | NodeJS.Signals; ms: number }> {
  const t0 = performance.now();
  try {
    const code = await run.exited;
    return { code, ms: performance.now() - t0 };
  } finally {
    kill(run.child);
  }
}

type ResultLine = RowIdentity & Partial<BatchAnswerRecord & BatchErrorRecord>;

const records = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ResultLine);

/**
 * What a terminal shows for `raw`: \r returns to the start of the line, ESC[K erases to its end,
 * other escapes are dropped. One string per screen line.
 */
function screenLines(raw: string): string[] {
  const shown: string[] = [];
  for (const physical of raw.split('\n')) {
    let line = '';
    let col = 0;
    for (let i = 0; i < physical.length; i++) {
      const c = physical[i] as string;
      if (c === '\r') col = 0;
      else if (c === '\x1b' && physical[i + 1] === '[') {
        // A CSI sequence: ESC [ parameters, then a letter that says what it does.
        let end = i + 2;
        while (end < physical.length && !/[A-Za-z]/.test(physical[end] as string)) end += 1;
        if (physical[end] === 'K') line = line.slice(0, col);
        i = end;
      } else {
        line = line.slice(0, col) + c + line.slice(col + 1);
        col += 1;
      }
    }
    shown.push(line);
  }
  return shown;
}

describe('ofa-ve check --batch: hostile files and outputs (the bin)', () => {
  let dir: string;
  let fifo: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-batch-hostile-'));
    await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 200, g: 60, b: 30 } } })
      .png()
      .toFile(path.join(dir, 'red.png'));
    // A FIFO with no writer: opening it for reading blocks, and reading it never ends.
    fifo = path.join(dir, 'fifo.jpg');
    execFileSync('mkfifo', [fifo]);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('rows naming /dev/zero and a FIFO are INVALID_IMAGE at once ("not a regular file"); the good rows are answered; exit 2', async () => {
    const list = path.join(dir, 'special.csv');
    await writeFile(list, ['image,caption', 'red.png,a red picture', '/dev/zero,zeros', 'fifo.jpg,a pipe', 'red.png,red again'].join('\n'));
    const out = path.join(dir, 'special.results.jsonl');
    const run = startCli(['--batch', list, '--out', out]);
    const { code, ms } = await runToEnd(run);
    assert.equal(code, EXIT.BAD_INPUT, `exit ${code} after ${Math.round(ms)} ms:\n${run.stderr()}`);
    assert.ok(ms < 15_000, `took ${Math.round(ms)} ms`);
    const byLine = new Map(records(await readFile(out, 'utf8')).map((r) => [r.line, r]));
    assert.deepEqual([...byLine.keys()].sort(), [2, 3, 4, 5]);
    for (const line of [2, 5]) assert.match(String(byLine.get(line)?.label), /^(YES|NO|MAYBE)$/);
    for (const line of [3, 4]) {
      assert.equal(byLine.get(line)?.error?.code, 'INVALID_IMAGE');
      assert.match(String(byLine.get(line)?.error?.message), /not a regular file/);
    }
    assert.match(run.stderr(), /^line 3 \(\/dev\/zero\): error INVALID_IMAGE: not a regular file/m);
    assert.match(run.stderr(), /^line 4 \(fifo\.jpg\): error INVALID_IMAGE: not a regular file/m);
  });

  for (const [name, image] of [
    ['/dev/zero', () => '/dev/zero'],
    ['a FIFO with no writer', () => fifo],
  ] as const) {
    it(`ofa-ve check IMAGE TEXT with ${name}: INVALID_IMAGE naming the file, exit 2, at once`, async () => {
      const run = startCli([image(), 'a picture']);
      const { code, ms } = await runToEnd(run);
      assert.equal(code, EXIT.BAD_INPUT, `exit ${code} after ${Math.round(ms)} ms:\n${run.stderr()}`);
      assert.ok(ms < 15_000, `took ${Math.round(ms)} ms`);
      assert.match(run.stderr(), new RegExp(`^error INVALID_IMAGE: ${image()}: not a regular file`, 'm'));
    });
  }

  it('--out - into a pipe its reader closes after the first line: stops, says so on stderr, exits 4', async () => {
    const list = path.join(dir, 'many.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `red.png,a red picture number ${i}`);
    await writeFile(list, ['image,caption', ...rows].join('\n'));
    const run = startCli(['--batch', list, '--out', '-', '--concurrency', '2']);
    let first = '';
    run.child.stdout!.on('data', (chunk: Buffer) => {
      if (first.includes('\n')) return;
      first += String(chunk);
      // The reader goes away, as `| head -1` does.
      if (first.includes('\n')) run.child.stdout!.destroy();
    });
    const { code, ms } = await runToEnd(run);
    const err = run.stderr();
    assert.equal(code, EXIT.OUTPUT_FAILED, `exit ${code} after ${Math.round(ms)} ms:\n${err}`);
    const closed = /^error: stdout was closed: (\d+) results? written; stopped with (\d+) rows of 300 without a result$/m.exec(err);
    assert.ok(closed, err);
    assert.ok(Number(closed[1]) >= 1, 'the first line was written');
    assert.ok(Number(closed[2]) > 0, 'stopped before the end of the list');
    assert.equal(Number(closed[1]) + Number(closed[2]), 300);
    assert.doesNotMatch(err, /answered .* results in stdout/, 'no claim that the results are in stdout');
  });

  it('--out FILE that stops taking writes (over the file size limit, as a full disk): stops, says so, how to resume, exits 4', async () => {
    const list = path.join(dir, 'full.csv');
    const rows = Array.from({ length: 300 }, (_, i) => `red.png,a red picture number ${i}`);
    await writeFile(list, ['image,caption', ...rows].join('\n'));
    const out = path.join(dir, 'full.results.jsonl');
    // ulimit -f 4: writes past 4 KiB fail with EFBIG (Node ignores SIGXFSZ), as ENOSPC would on a full disk.
    const command = [process.execPath, BIN, 'check', '--batch', list, '--out', out, '--provider', 'cpu'].map((a) => `'${a}'`).join(' ');
    const run = start('bash', ['-c', `ulimit -f 4 && exec ${command}`]);
    const { code, ms } = await runToEnd(run);
    const err = run.stderr();
    assert.equal(code, EXIT.OUTPUT_FAILED, `exit ${code} after ${Math.round(ms)} ms:\n${err}`);
    const failed =
      /^error: cannot write \S+full\.results\.jsonl \(EFBIG\): (\d+) results? written; stopped with (\d+) rows of 300 without a result$/m.exec(
        err,
      );
    assert.ok(failed, err);
    assert.ok(Number(failed[2]) > 0, 'stopped before the end of the list');
    assert.match(err, /^to continue once it can: ofa-ve check --batch .*--resume$/m);
    assert.doesNotMatch(err, /answered .* results in /);
  });

  it('--out - on the terminal that shows the progress bar: each result line starts a screen line of its own', async () => {
    const list = path.join(dir, 'tty.csv');
    const rows = Array.from({ length: 40 }, (_, i) => `red.png,a red picture number ${i}`);
    await writeFile(list, ['image,caption', ...rows].join('\n'));
    const typescript = path.join(dir, 'tty.raw');
    const command = [BIN, 'check', '--batch', list, '--out', '-', '--provider', 'cpu'].map((a) => `'${a}'`).join(' ');
    // script(1) runs it on a pseudo-terminal: stdout and stderr are the same terminal.
    const run = start('script', ['-qec', `${process.execPath} ${command}`, typescript], ['ignore', 'ignore', 'pipe']);
    const { code } = await runToEnd(run);
    assert.equal(code, 0, run.stderr());
    const raw = await readFile(typescript, 'utf8');
    assert.ok(raw.includes('\r['), 'the bar was drawn in place (a terminal)');
    const shown = screenLines(raw.replace(/\r\n/g, '\n'));
    const results = shown.filter((l) => l.includes('{"line":'));
    assert.equal(results.length, 40, shown.join('\n'));
    for (const l of results) assert.ok(l.startsWith('{"line":'), `a result glued to something else: ${JSON.stringify(l)}`);
    for (const l of results) JSON.parse(l);
  });
});
