import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger, LogLevel } from '../../main/logging/json-logger.ts';
import { AccessLog, type AccessEntry } from '../../main/service/access-log.ts';

interface Line {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** An access log over a hand-moved clock, and the lines it wrote. */
function setup(rate: number) {
  const lines: Line[] = [];
  const logger: Logger = { log: (level, msg, fields = {}) => lines.push({ level, msg, fields }) };
  const clock = { ms: 1_700_000_000_000 };
  const log = new AccessLog(logger, rate, () => clock.ms);
  let n = 0;
  const write = (status: number, extra: Partial<AccessEntry> = {}) => log.write({ id: `r${++n}`, status, latencyMs: 12.345, ...extra });
  const checks = () => lines.filter((l) => l.msg === 'check');
  const summaries = () => lines.filter((l) => l.msg !== 'check');
  return { lines, clock, log, write, checks, summaries };
}

describe('AccessLog', () => {
  it('writes one line per check with id, method, route, status, code or label, latency in ms', () => {
    const { write, checks } = setup(20);
    const http = { method: 'POST', route: '/api/v1/check' };
    const ipc = { method: 'IPC', route: 'check:run' };
    write(200, { label: 'YES', ...http });
    write(413, { code: 'IMAGE_TOO_LARGE', ...http });
    write(500, { code: 'INTERNAL', ...ipc });
    assert.deepEqual(checks(), [
      { level: 'info', msg: 'check', fields: { id: 'r1', ...http, status: 200, label: 'YES', latency_ms: 12.3 } },
      { level: 'info', msg: 'check', fields: { id: 'r2', ...http, status: 413, code: 'IMAGE_TOO_LARGE', latency_ms: 12.3 } },
      { level: 'warn', msg: 'check', fields: { id: 'r3', ...ipc, status: 500, code: 'INTERNAL', latency_ms: 12.3 } },
    ]);
  });

  it('past the rate in a second keeps one line in `rate` and every 5xx, then says what it dropped', () => {
    const { write, clock, checks, summaries, log } = setup(3);
    for (let i = 0; i < 12; i++) write(i === 10 ? 503 : 200);
    // Lines 1-3 in full; past them one in 3 (lines 6, 9, 12) and the 503 (line 11).
    assert.deepEqual(
      checks().map((l) => l.fields.id),
      ['r1', 'r2', 'r3', 'r6', 'r9', 'r11', 'r12'],
    );
    assert.deepEqual(summaries(), [], 'the summary waits for the end of the second');
    clock.ms += 1000;
    write(400);
    assert.deepEqual(summaries(), [
      {
        level: 'info',
        msg: 'access log sampled',
        fields: {
          second: new Date(Math.floor((clock.ms - 1000) / 1000) * 1000).toISOString(),
          logged: 7,
          dropped: 5,
          dropped_by_status: { 200: 5 },
        },
      },
    ]);
    assert.equal(checks().at(-1)?.fields.id, 'r13', 'a new second starts in full again');
    log.flush();
    assert.equal(summaries().length, 1, 'no summary for a second that dropped nothing');
  });

  it('flush() writes the summary of the second in progress (shutdown), once', () => {
    const { write, log, summaries } = setup(2);
    write(200);
    write(499);
    write(400);
    log.flush();
    log.flush();
    assert.deepEqual(
      summaries().map((l) => l.fields),
      [{ second: summaries()[0]?.fields.second, logged: 2, dropped: 1, dropped_by_status: { 400: 1 } }],
    );
  });

  it('rate 0 writes nothing, not even 5xx; a negative or fractional rate is refused', () => {
    const { write, lines } = setup(0);
    write(200);
    write(500);
    assert.deepEqual(lines, []);
    assert.throws(() => setup(-1), RangeError);
    assert.throws(() => setup(1.5), RangeError);
  });
});
