/**
 * The CLI side of bad input: `ofa-ve check IMAGE TEXT --json`, in-process, over files from the
 * generated image corpus (test/fixtures/image-corpus.ts) and odd captions. Input errors exit 2 with
 * "error CODE: message" on stderr and {"error":{"code"}} on stdout; the valid unusual images and
 * captions exit 0; never a stack trace. `check --batch` gives every case the same outcome, as one
 * row of a list. (The corpus cases chosen give the same outcome under the CLI's default limits as
 * under the corpus limits.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildImageCorpus } from '../fixtures/image-corpus.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';
import { cli } from '../support/cli-in-process.ts';

const run = promisify(execFile);

const NO_STACK = /\n\s+at |node_modules|\.ts:\d+|\bError: /;

/**
 * `ofa-ve check --json`: exit 0 with a label for 'ok'; otherwise exit 2, "error CODE: " on stderr
 * (followed by `messagePrefix`, a regex source, then the reason) and the code in the JSON. Never a
 * stack trace.
 */
function assertCheckOutcome({ code, out, err }: { code: number; out: string; err: string }, expected: string, messagePrefix = ''): void {
  assert.doesNotMatch(err, NO_STACK, 'no stack trace');
  if (expected === 'ok') {
    assert.equal(code, 0, err);
    assert.match((JSON.parse(out) as { label: string }).label, /^(YES|NO|MAYBE)$/);
    return;
  }
  assert.equal(code, 2, err);
  assert.match(err, new RegExp(`^error ${expected}: ${messagePrefix}\\S`, 'm'), 'the code (and the file, where named) in the message');
  assert.equal((JSON.parse(out) as { error: { code: string } }).error.code, expected);
}

/** Corpus cases whose outcome is the same under the CLI's default limits (20 MiB, 50 megapixels). */
const CORPUS_CASES: Record<string, 'ok' | 'INVALID_IMAGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'IMAGE_TOO_LARGE'> = {
  'gif-animated-2-frames': 'ok',
  'jpeg-cmyk': 'ok',
  'png-rgb-16bit': 'ok',
  'png-palette': 'ok',
  'jpeg-exif-orientation-6': 'ok',
  'empty-0-bytes': 'INVALID_IMAGE',
  'png-truncated-half': 'INVALID_IMAGE',
  'jpeg-corrupt-scan-data': 'INVALID_IMAGE',
  'text-renamed-png': 'INVALID_IMAGE',
  'random-bytes': 'INVALID_IMAGE',
  svg: 'UNSUPPORTED_MEDIA_TYPE',
  'html-page': 'UNSUPPORTED_MEDIA_TYPE',
  'heic-ftyp': 'UNSUPPORTED_MEDIA_TYPE',
  'pdf-header': 'UNSUPPORTED_MEDIA_TYPE',
  'png-bomb-50000x50000': 'IMAGE_TOO_LARGE',
};

describe('ofa-ve check on bad and unusual input', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, `${name}.img`);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-bad-'));
    const corpus = await buildImageCorpus();
    for (const name of Object.keys(CORPUS_CASES)) {
      const c = corpus.find((x) => x.name === name);
      assert.ok(c, `${name} is in the corpus`);
      assert.equal(c.expect, CORPUS_CASES[name], `${name}: the corpus expects the same`);
      await writeFile(file(name), c.bytes);
    }
    await mkdir(path.join(dir, 'a-directory.png'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  for (const [name, expected] of Object.entries(CORPUS_CASES)) {
    it(`${name}: ${expected === 'ok' ? 'exit 0 with an answer' : `exit 2, ${expected}`}`, async () => {
      const result = await cli(['check', file(name), 'a picture of something', '--json', '--provider', 'cpu']);
      // The file is named in the message: a reviewer checking a folder needs to know which image.
      assertCheckOutcome(result, expected, `${file(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `);
    });
  }

  const photo = () => file('png-palette');
  /** Odd captions and files: [name, () => [IMAGE, TEXT, ...options], expected outcome]. */
  const CAPTION_CASES: [string, () => string[], string][] = [
    ['an empty caption', () => [photo(), ''], 'EMPTY_TEXT'],
    ['a caption of whitespace only', () => [photo(), ' \t\n '], 'EMPTY_TEXT'],
    ['a caption of control characters only', () => [photo(), '\u0000\u0007\u001b'], 'EMPTY_TEXT'],
    ['a caption of 1 MB', () => [photo(), 'a '.repeat(512 * 1024)], 'TEXT_TOO_LONG'],
    ['a premise of 1 MB', () => [photo(), 'a dog', '--premise', 'a '.repeat(512 * 1024)], 'TEXT_TOO_LONG'],
    ['a caption with NUL and control characters among words', () => [photo(), 'a dog\u0000 on\u0007 grass'], 'ok'],
    ['an emoji caption', () => [photo(), '🐶 on 🌿'], 'ok'],
    ['an Arabic caption', () => [photo(), 'كلب على العشب'], 'ok'],
    ['a Hebrew caption', () => [photo(), 'כלב על הדשא'], 'ok'],
    ['a Chinese caption', () => [photo(), '草地上的一只狗'], 'ok'],
    ['a directory as the image', () => [path.join(dir, 'a-directory.png'), 'a dog'], 'INVALID_IMAGE'],
    ['a missing image file', () => [path.join(dir, 'missing.png'), 'a dog'], 'INVALID_IMAGE'],
  ];
  for (const [name, args, expected] of CAPTION_CASES) {
    it(`${name}: ${expected === 'ok' ? 'exit 0' : `exit 2, ${expected}`}`, async () => {
      assertCheckOutcome(await cli(['check', ...args(), '--json', '--provider', 'cpu']), expected);
    });
  }

  it('check --batch: every corpus file and odd caption gets the same outcome as check, in one JSONL list; exit 2', async () => {
    const rows = [
      ...Object.entries(CORPUS_CASES).map(([name, expected]) => ({ image: file(name), caption: 'a picture of something', expected })),
      ...CAPTION_CASES.map(([, args, expected]) => {
        const [image, caption, , premise] = args();
        return { image: image as string, caption: caption as string, ...(premise ? { premise } : {}), expected };
      }),
    ];
    const list = path.join(dir, 'all-cases.jsonl');
    await writeFile(list, rows.map(({ expected: _, ...row }) => JSON.stringify(row)).join('\n'));
    const out = path.join(dir, 'all-cases.results.jsonl');
    const result = await cli(['check', '--batch', list, '--out', out, '--provider', 'cpu', '--concurrency', '4']);
    assert.equal(result.code, 2, result.err);
    assert.doesNotMatch(result.err, NO_STACK, 'no stack trace');
    const records = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; label?: string; error?: { code: string } });
    assert.equal(records.length, rows.length, 'every row has a result line');
    for (const record of records) {
      const expected = rows[record.line - 1]!.expected;
      const got = record.error?.code ?? 'ok';
      assert.equal(got, expected, `line ${record.line} (${rows[record.line - 1]!.image})`);
      if (got !== 'ok') assert.match(result.err, new RegExp(`^line ${record.line} \\(.*\\): error ${got}: \\S`, 'm'), 'reported on stderr');
      else assert.match(String(record.label), /^(YES|NO|MAYBE)$/);
    }
  });

  it('the installed bin: exit 2 and one clear line for a decompression bomb, no stack trace', async () => {
    const bin = path.join(REPO_ROOT, 'bin', 'ofa-ve.js');
    await assert.rejects(
      run(process.execPath, [bin, 'check', file('png-bomb-50000x50000'), 'a dog'], { env: { ...process.env, OFA_VE_DEBUG: '' } }),
      (err: { code: number; stderr: string; stdout: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /^error IMAGE_TOO_LARGE: .*50000x50000/m);
        assert.doesNotMatch(err.stderr, NO_STACK);
        return true;
      },
    );
  });
});
