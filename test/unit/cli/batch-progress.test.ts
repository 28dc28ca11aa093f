/**
 * main/cli/batch/batch-progress.ts: the rate and ETA count the model's answers (bad rows refused at
 * once must not inflate them), and lines written to the bar's terminal never start after the bar.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchProgress, formatProgress } from '../../../main/cli/batch/batch-progress.ts';

describe('formatProgress: the rate counts answers', () => {
  it('30 bad rows refused in the first second, 2 answers: 2 checks/s, and the ETA from that rate', () => {
    assert.equal(
      formatProgress({ done: 32, total: 100, checksLeft: 68, badInput: 30, failed: 0, answered: 2 }, 1000),
      '32/100 rows (32%) · 2.0 checks/s · ETA 0:34 · 30 bad input · 0 failed',
    );
  });

  it('only bad rows so far: no rate and no ETA yet, rather than an absurd one', () => {
    assert.equal(
      formatProgress({ done: 40, total: 100, checksLeft: 60, badInput: 40, failed: 0, answered: 0 }, 50),
      '40/100 rows (40%) · – checks/s · ETA – · 40 bad input · 0 failed',
    );
  });

  it('rows that repeat an earlier row need no check: the ETA counts the checks left, not the rows', () => {
    // 1,000 rows over 10 distinct pairs: half done, 5 checks left at 1 check/s.
    assert.equal(
      formatProgress({ done: 500, total: 1000, checksLeft: 5, badInput: 0, failed: 0, answered: 5 }, 5000),
      '500/1000 rows (50%) · 1.0 checks/s · ETA 0:05 · 0 bad input · 0 failed',
    );
  });
});

describe("BatchProgress.above: other lines on the bar's terminal", () => {
  function terminal() {
    let screen = '';
    let t = 0;
    const counts = { done: 0, total: 4, checksLeft: 4, badInput: 0, failed: 0, answered: 0 };
    const progress = new BatchProgress({ kind: 'terminal', write: (raw) => (screen += raw), columns: () => 200 }, () => counts, {
      now: () => t,
    });
    return { progress, counts, screen: () => screen, tick: (ms: number) => (t += ms) };
  }

  it('clears the bar before the line, and the next update() draws it again with the new count at once', () => {
    const { progress, counts, screen, tick } = terminal();
    progress.start();
    let out = '';
    const accepted = progress.above(() => {
      out = screen();
      return true;
    });
    assert.equal(accepted, true, 'returns what the write returned');
    assert.ok(out.endsWith('0 failed\x1b[K\r\x1b[K'), `the bar is erased before the line: ${JSON.stringify(out)}`);
    counts.done = 1;
    counts.checksLeft = 3;
    counts.answered = 1;
    tick(10); // under the 100 ms between redraws: a cleared bar is drawn anyway
    progress.update();
    assert.ok(screen().endsWith('1/4 rows (25%) · 100 checks/s · ETA 0:00 · 0 bad input · 0 failed\x1b[K'), JSON.stringify(screen()));
    progress.stop();
  });

  it('with no bar drawn, nothing is erased; on plain lines (a log), the line is just written', () => {
    const { progress, screen } = terminal();
    progress.above(() => undefined);
    assert.equal(screen(), '');
    const lines: string[] = [];
    const plain = new BatchProgress({ kind: 'lines', line: (l) => lines.push(l) }, () => ({
      done: 0,
      total: 1,
      checksLeft: 1,
      badInput: 0,
      failed: 0,
      answered: 0,
    }));
    assert.equal(
      plain.above(() => 7),
      7,
    );
    assert.deepEqual(lines, []);
  });
});
