/**
 * main/cli/negative-option-values.ts: `--flag -1` reaches the command as `--flag=-1`, so a negative
 * number given as a separate argument gets the command's own range message (exit 2), not parseArgs'
 * "argument is ambiguous". Through main(), in-process, for each command.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { joinNegativeOptionValues } from '../../../main/cli/negative-option-values.ts';
import { cli } from '../../support/cli-in-process.ts';

describe('joinNegativeOptionValues', () => {
  it('joins a long option and the negative number after it', () => {
    assert.deepEqual(joinNegativeOptionValues(['--port', '-1']), ['--port=-1']);
    assert.deepEqual(joinNegativeOptionValues(['--warmup', '-0.5', '--json']), ['--warmup=-0.5', '--json']);
    assert.deepEqual(joinNegativeOptionValues(['--max-p95', '-.5']), ['--max-p95=-.5']);
    assert.deepEqual(joinNegativeOptionValues(['--duration', '-1e3']), ['--duration=-1e3']);
  });

  it('leaves everything else as it was', () => {
    for (const argv of [
      ['--port', '7860'],
      ['--port=-1'],
      ['--out', '-'],
      ['--caption', '-not-a-number'],
      ['-p', '-1'],
      ['--', '--port', '-1'],
      ['check', 'a.png', '-1'],
      ['--port', '-1x'],
    ]) {
      assert.deepEqual(joinNegativeOptionValues(argv), argv);
    }
  });
});

describe('a negative number as a separate argument: the command says what range it takes', () => {
  const cases: Array<[string[], RegExp]> = [
    [['serve', '--port', '-1'], /^ofa-ve serve: --port must be a whole number >= 0$/m],
    [['serve', '--max-queue-size', '-1'], /^ofa-ve serve: --max-queue-size must be a whole number >= 1$/m],
    [['bench', '--concurrency', '-1'], /^ofa-ve bench: --concurrency must be whole numbers from 1 to 1024/m],
    [['bench', '--duration', '-5'], /^ofa-ve bench: --duration must be a positive number$/m],
    [['check', '--batch', 'list.csv', '--concurrency', '-1'], /^ofa-ve check: --concurrency must be a whole number from 1 to 1024$/m],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(' '), async () => {
      const { code, err } = await cli(argv);
      assert.equal(code, 2, err);
      assert.match(err, message);
      assert.doesNotMatch(err, /ambiguous|Did you forget/);
      // The same words as for --flag=-1.
      const flag = argv.findIndex((a) => a.startsWith('--') && argv[argv.indexOf(a) + 1]?.startsWith('-'));
      const joined = [...argv.slice(0, flag), `${argv[flag]}=${argv[flag + 1]}`, ...argv.slice(flag + 2)];
      assert.equal((await cli(joined)).err, err);
    });
  }

  it('a flag that takes no value still refuses one', async () => {
    const { code, err } = await cli(['bench', '--raw', '-1']);
    assert.equal(code, 2);
    assert.match(err, /^ofa-ve bench: Option '--raw' does not take an argument$/m);
  });
});
