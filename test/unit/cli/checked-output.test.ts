/**
 * main/cli/cli-io.ts's CheckedOutput: results whose loss must stop `check --batch` (a closed stdout,
 * a full disk) report their first failed write once and count only what was written.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { CheckedOutput, stdoutSender, type CliIo, type Sender } from '../../../main/cli/cli-io.ts';

/** A Sender over a Writable, as stdoutSender writes to process.stdout. */
const streamSender =
  (stream: Writable): Sender<string> =>
  (line, done) =>
    stream.write(`${line}\n`, done);

describe('CheckedOutput', () => {
  it('a stream whose reader is gone after the first line: the failure is reported once, later writes refused, one counted', async () => {
    let accepted = 0;
    const stream = new Writable({
      write(_chunk, _encoding, callback) {
        accepted += 1;
        callback(accepted > 1 ? Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }) : null);
      },
    });
    stream.on('error', () => {}); // as stdio-guard does for stdout
    const failures: Error[] = [];
    const output = new CheckedOutput(streamSender(stream), (err) => failures.push(err));
    assert.equal(output.write('one'), true);
    output.write('two'); // fails, known only once its callback comes
    await output.settled();
    assert.equal(output.write('three'), false, 'nothing is sent after a failure');
    await output.settled();
    assert.equal(failures.length, 1);
    assert.equal((output.failure as NodeJS.ErrnoException).code, 'EPIPE');
    assert.equal(output.written, 1);
    assert.equal(accepted, 2);
  });

  it('a sender that fails at once (a full disk, writeSync throwing): write() says so at once', () => {
    const failures: Error[] = [];
    const output = new CheckedOutput<string>(
      (_line, done) => done(new Error('ENOSPC')),
      (err) => failures.push(err),
    );
    assert.equal(output.write('a'), false);
    assert.equal(failures.length, 1);
    assert.equal(output.written, 0);
  });

  it('settled() waits for writes whose callback has not come yet', async () => {
    const pending: (() => void)[] = [];
    const output = new CheckedOutput<string>(
      (_line, done) => pending.push(() => done()),
      () => {},
    );
    output.write('a');
    output.write('b');
    let settled = false;
    void output.settled().then(() => (settled = true));
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, true);
    assert.equal(output.written, 2);
  });

  it("an injected io's stdout (tests in-process) never fails", () => {
    const lines: string[] = [];
    const io: CliIo = { stdout: (l) => lines.push(l), stderr: () => {}, debug: () => {} };
    const output = new CheckedOutput(stdoutSender(io), () => assert.fail('no failure'));
    assert.equal(output.write('{"line":2}'), true);
    assert.deepEqual(lines, ['{"line":2}']);
    assert.equal(output.written, 1);
  });
});
