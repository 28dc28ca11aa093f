import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { main } from '../../main/cli/ofa-ve.ts';
import type { CliIo } from '../../main/cli/cli-io.ts';
import { REPO_ROOT } from '../support/shared-reference.ts';

const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (l) => out.push(l), stderr: (l) => err.push(l), debug: () => {} };
  const code = await main(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('ofa-ve check', () => {
  let dir: string;
  let photo: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ofa-ve-cli-'));
    photo = path.join(dir, 'photo.png');
    await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .composite([{ input: Buffer.from('<svg width="200" height="120"><rect width="200" height="120" fill="#e33"/></svg>'), left: 100, top: 150 }])
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

  it('exits 3 with install advice when --provider cuda cannot be used', { skip: process.env.OFA_VE_HAS_CUDA === '1' && 'CUDA machine' }, async () => {
    const { code, err } = await cli(['check', photo, 'a dog', '--provider', 'cuda']);
    assert.equal(code, 3);
    assert.match(err, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });

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
    await assert.rejects(run(process.execPath, [bin, 'check', path.join(dir, 'notes.png'), 'a dog']), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /INVALID_IMAGE/);
      return true;
    });
  });
});
