import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STAGE_NAMES, type AlertStatus, type SeriesPoint, type StageName, type StatsDocument } from '../../preload/wire-types.ts';
import {
  NO_VALUE,
  formatActiveSince,
  formatAxisMs,
  formatAlertQuantity,
  formatBatchSize,
  formatClock,
  formatCount,
  formatMiB,
  formatMs,
  formatPercent,
  formatQps,
  formatUptime,
  percentAxis,
  resultShares,
  latencyDivision,
  shortId,
  sortAlerts,
  spanPhrase,
  timeTicks,
  toChartRows,
  toStageBar,
  windowPhrase,
} from '../../renderer/dashboard/stats-format.ts';
import { emptySeriesPoint } from '../../main/telemetry/live-stats.ts';

function point(t: number, over: Partial<SeriesPoint> = {}): SeriesPoint {
  return { ...emptySeriesPoint(t), ...over };
}

function stages(p50: number | null, p90: number | null, mean: number | null = p50): StatsDocument['stages'] {
  const out = {} as StatsDocument['stages'];
  for (const s of STAGE_NAMES) out[s] = { p50_ms: p50, p90_ms: p90, mean_ms: mean };
  return out;
}

function statsDoc(over: Partial<StatsDocument> = {}): StatsDocument {
  return {
    window_s: 3,
    generated_at: '2024-01-01T00:00:03.000Z',
    qps: 1,
    p50_ms: 10,
    p90_ms: 20,
    p99_ms: 30,
    mean_ms: 12,
    error_rate: 0,
    client_error_rate: 0,
    totals: { requests: 3, YES: 1, NO: 1, MAYBE: 1, ERROR: 0, client_errors: 0, server_errors: 0, by_status: { '200': 3 } },
    mean_batch_size: 1,
    series: [point(100), point(101), point(102)],
    stages: stages(null, null),
    queue_depth: 0,
    queue_depth_series: [0, 0, 0],
    alerts: [],
    process: { uptime_s: 1, rss_bytes: 1, heap_used_bytes: 1 },
    ...over,
  };
}

function alert(over: Partial<AlertStatus>): AlertStatus {
  return {
    name: 'OfaVeHighLatencyP95',
    severity: 'warning',
    state: 'inactive',
    summary: '',
    value: null,
    threshold: 2,
    active_since: null,
    ...over,
  };
}

describe('number formatting', () => {
  it('formats milliseconds by magnitude and switches to seconds at 1000 ms', () => {
    assert.equal(formatMs(0.4213), '0.42 ms');
    assert.equal(formatMs(3.4249), '3.42 ms');
    assert.equal(formatMs(42.54), '42.5 ms');
    assert.equal(formatMs(425.4), '425 ms');
    assert.equal(formatMs(1234), '1.23 s');
    assert.equal(formatMs(0), '0.00 ms');
    assert.equal(formatMs(0.004), '<0.01 ms');
  });

  it('labels axis ticks in ms below a second and in s above', () => {
    assert.equal(formatAxisMs(0), '0 ms');
    assert.equal(formatAxisMs(70), '70 ms');
    assert.equal(formatAxisMs(12.5), '12.5 ms');
    assert.equal(formatAxisMs(1500), '1.5 s');
    assert.equal(formatAxisMs(2000), '2 s');
  });

  it('prints the placeholder for missing or non-finite values', () => {
    for (const f of [formatMs, formatPercent, formatQps, formatMiB, formatCount, formatBatchSize, formatUptime]) {
      assert.equal(f(null), NO_VALUE, f.name);
      assert.equal(f(undefined), NO_VALUE, f.name);
      assert.equal(f(Number.NaN), NO_VALUE, f.name);
    }
  });

  it('formats ratios as percentages and keeps tiny non-zero rates visible', () => {
    assert.equal(formatPercent(0), '0.0%');
    assert.equal(formatPercent(0.125), '12.5%');
    assert.equal(formatPercent(1), '100.0%');
    assert.equal(formatPercent(0.0004), '<0.1%');
    assert.equal(formatPercent(0.0004, 2), '0.04%');
    assert.equal(formatPercent(0.00004, 2), '<0.01%');
  });

  it('signs negative percentages with the minus sign and never prints a negative zero', () => {
    assert.equal(formatPercent(-0.0004, 0), '0%');
    assert.equal(formatPercent(-0.004, 0), '0%');
    assert.equal(formatPercent(-0.0004), '0.0%');
    assert.equal(formatPercent(-0, 0), '0%');
    assert.equal(formatPercent(-0.006, 0), '\u22121%');
    assert.equal(formatPercent(-0.125), '\u221212.5%');
    assert.equal(formatPercent(-1.5, 0), '\u2212150%');
    for (const ratio of [-0.5, -0.01, -0.0049, -1e-9]) {
      assert.doesNotMatch(formatPercent(ratio, 0), /-/, `no hyphen for ${ratio}`);
    }
  });

  it('states a span the service read in seconds, or minutes and seconds from two minutes', () => {
    assert.equal(spanPhrase(65), '65 s');
    assert.equal(spanPhrase(119), '119 s');
    assert.equal(spanPhrase(300), '5 min');
    assert.equal(spanPhrase(305), '5 min 5 s');
    assert.equal(spanPhrase(909), '15 min 9 s');
    assert.equal(spanPhrase(0), NO_VALUE);
    assert.equal(spanPhrase(Number.NaN), NO_VALUE);
  });

  it('formats QPS with more decimals when small', () => {
    assert.equal(formatQps(0.05), '0.05');
    assert.equal(formatQps(3.456), '3.46');
    assert.equal(formatQps(12.34), '12.3');
    assert.equal(formatQps(1234.5), '1235');
  });

  it('formats bytes as MiB', () => {
    assert.equal(formatMiB(0), '0.0 MiB');
    assert.equal(formatMiB(5 * 1024 * 1024 + 512 * 1024), '5.5 MiB');
    assert.equal(formatMiB(150 * 1024 * 1024), '150 MiB');
    assert.equal(formatMiB(-1), NO_VALUE);
  });

  it('formats counts with separators and batch sizes with two decimals', () => {
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(0), '0');
    assert.equal(formatBatchSize(2.345678), '2.35');
  });
});

describe('durations and clock time', () => {
  it('formats uptime as 1h 02m 03s with zero-padded smaller units', () => {
    assert.equal(formatUptime(0), '0s');
    assert.equal(formatUptime(45.9), '45s');
    assert.equal(formatUptime(123), '2m 03s');
    assert.equal(formatUptime(3723), '1h 02m 03s');
    assert.equal(formatUptime(36_000), '10h 00m 00s');
    assert.equal(formatUptime(2 * 86_400 + 3 * 3600 + 4 * 60 + 5), '2d 03h 04m 05s');
    assert.equal(formatUptime(-5), NO_VALUE);
  });

  it('formats epoch seconds and ISO strings as local HH:MM:SS', () => {
    const local = new Date(2024, 0, 2, 9, 5, 7);
    assert.equal(formatClock(local.getTime() / 1000), '09:05:07');
    assert.equal(formatClock(local.toISOString()), '09:05:07');
    assert.equal(formatClock('not a date'), NO_VALUE);
    assert.equal(formatClock(null), NO_VALUE);
  });

  it('shortens ids to 8 characters', () => {
    assert.equal(shortId('0123456789abcdef'), '01234567');
    assert.equal(shortId('abc'), 'abc');
  });
});

describe('chart rows', () => {
  it('keeps one row per series point with the per-second figures, server and client errors apart', () => {
    const rows = toChartRows(
      statsDoc({
        series: [
          point(100),
          point(101, {
            requests: 4,
            YES: 1,
            NO: 1,
            ERROR: 2,
            client_errors: 1,
            server_errors: 1,
            p50_ms: 12,
            p90_ms: 20,
            p99_ms: 25,
            error_rate: 0.25,
            client_error_rate: 0.25,
          }),
          point(102),
        ],
        queue_depth_series: [0, 3, 1],
      }),
    );
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[1], {
      t: 101,
      requests: 4,
      YES: 1,
      NO: 1,
      MAYBE: 0,
      ERROR: 2,
      client_errors: 1,
      server_errors: 1,
      p50_ms: 12,
      p90_ms: 20,
      p99_ms: 25,
      error_pct: 25,
      client_error_pct: 25,
      queue_depth: 3,
    });
  });

  it('leaves latency and error rate as gaps (null) in seconds without requests', () => {
    const rows = toChartRows(statsDoc());
    for (const row of rows) {
      assert.equal(row.p50_ms, null);
      assert.equal(row.error_pct, null);
      assert.equal(row.client_error_pct, null);
    }
  });

  it('aligns a shorter queue series with the newest seconds', () => {
    const rows = toChartRows(statsDoc({ queue_depth_series: [7, 9] }));
    assert.deepEqual(
      rows.map((r) => r.queue_depth),
      [null, 7, 9],
    );
    const longer = toChartRows(statsDoc({ queue_depth_series: [1, 2, 3, 4] }));
    assert.deepEqual(
      longer.map((r) => r.queue_depth),
      [2, 3, 4],
    );
  });

  it('divides the mean latency into the stage means and the untimed rest, adding up to the mean', () => {
    const doc = statsDoc({ mean_ms: 100, stages: stages(2, 5, 5) });
    doc.stages.inference = { p50_ms: 40, p90_ms: 90, mean_ms: 50 };
    const bar = toStageBar(doc, STAGE_NAMES);
    assert.ok(bar);
    assert.equal(bar.bar, 'mean');
    assert.equal(bar.inference, 50);
    assert.equal(bar.queue, 5);
    // 4 stages at 5 ms + inference 50 ms = 70 ms timed: 30 ms nobody timed.
    assert.equal(bar.untimed, 30);
    const sum = [...STAGE_NAMES, 'untimed' as const].reduce((acc, part) => acc + bar[part], 0);
    assert.equal(sum, 100);
  });

  it('has no stage bar without a mean, and counts stages without samples as 0 ms', () => {
    assert.equal(toStageBar(statsDoc({ mean_ms: null, stages: stages(null, null) }), STAGE_NAMES), undefined);
    const bar = toStageBar(statsDoc({ mean_ms: 8, stages: stages(null, null) }), STAGE_NAMES);
    for (const s of STAGE_NAMES) assert.equal(bar?.[s], 0);
    assert.equal(bar?.untimed, 8);
  });
});

describe('time axis ticks', () => {
  it('puts at most 6 ticks on round 10 s marks over a 1 minute window', () => {
    assert.deepEqual(timeTicks(1003, 1062), [1010, 1020, 1030, 1040, 1050, 1060]);
    assert.deepEqual(timeTicks(1000, 1059), [1000, 1010, 1020, 1030, 1040, 1050]);
  });

  it('uses minute steps for 5 minutes and 3 minute steps for 15 minutes', () => {
    assert.deepEqual(timeTicks(6001, 6300), [6060, 6120, 6180, 6240, 6300]);
    const fifteen = timeTicks(36_001, 36_900);
    assert.deepEqual(fifteen, [36_180, 36_360, 36_540, 36_720, 36_900]);
  });

  it('returns nothing for an empty or reversed range', () => {
    assert.deepEqual(timeTicks(10, 5), []);
    assert.deepEqual(timeTicks(Number.NaN, 5), []);
    assert.deepEqual(timeTicks(7, 7), [7]);
  });
});

describe('error-rate axis', () => {
  it('keeps at least a 0-1 % scale when errors are rare or absent', () => {
    assert.deepEqual(percentAxis(0), { max: 1, ticks: [0, 0.25, 0.5, 0.75, 1] });
    assert.equal(percentAxis(0.3).max, 1);
  });

  it('picks the smallest round scale that holds the highest value', () => {
    assert.deepEqual(percentAxis(23.5), { max: 25, ticks: [0, 5, 10, 15, 20, 25] });
    assert.equal(percentAxis(5).max, 5);
    assert.equal(percentAxis(5.01).max, 10);
    assert.deepEqual(percentAxis(100).ticks, [0, 20, 40, 60, 80, 100]);
    assert.equal(percentAxis(Number.NaN).max, 1);
  });
});

describe('latency division (stage segments of a slow request)', () => {
  it('gives each timed stage its share of the latency and the untimed overhead its own segment', () => {
    const segs = latencyDivision({ queue: 10, inference: 60, postprocess: 10 }, 100, STAGE_NAMES);
    assert.deepEqual(
      segs.map((s) => [s.part, s.ms, s.fraction]),
      [
        ['queue', 10, 0.1],
        ['inference', 60, 0.6],
        ['postprocess', 10, 0.1],
        ['untimed', 20, 0.2],
      ],
    );
  });

  it('never overflows when stages add up to more than the latency', () => {
    const segs = latencyDivision({ queue: 30, inference: 90 } as Partial<Record<StageName, number>>, 100, STAGE_NAMES);
    const total = segs.reduce((a, s) => a + s.fraction, 0);
    assert.ok(Math.abs(total - 1) < 1e-9, `total ${total}`);
    assert.equal(segs.find((s) => s.part === 'untimed')?.ms, 0);
  });

  it('skips missing stages and handles zero latency', () => {
    assert.deepEqual(latencyDivision({}, 50, STAGE_NAMES), [{ part: 'untimed', ms: 50, fraction: 1 }]);
    assert.deepEqual(latencyDivision({ queue: null }, null, STAGE_NAMES), []);
    const zero = latencyDivision({ queue: 0 }, 0, STAGE_NAMES);
    assert.deepEqual(zero, [{ part: 'queue', ms: 0, fraction: 0 }]);
  });
});

describe('alerts', () => {
  it('shows latency in seconds and the error rate in percent', () => {
    assert.equal(formatAlertQuantity('OfaVeHighLatencyP95', 2.3456), '2.35 s');
    assert.equal(formatAlertQuantity('OfaVeHighLatencyP95', 2), '2.00 s');
    assert.equal(formatAlertQuantity('OfaVeHighErrorRate', 0.05), '5.00%');
    assert.equal(formatAlertQuantity('OfaVeHighErrorRate', null), NO_VALUE);
  });

  it('says since when and how long ago, against the document clock', () => {
    const since = new Date(2024, 0, 2, 10, 0, 0);
    const now = new Date(since.getTime() + 123_000);
    assert.equal(formatActiveSince(since.toISOString(), now.toISOString()), '10:00:00 (2m 03s ago)');
    assert.equal(formatActiveSince(null, now.toISOString()), NO_VALUE);
  });

  it('sorts firing before pending before inactive, critical first', () => {
    const sorted = sortAlerts([
      alert({ name: 'OfaVeHighLatencyP95', state: 'inactive' }),
      alert({ name: 'OfaVeHighErrorRate', severity: 'critical', state: 'pending' }),
      alert({ name: 'OfaVeHighLatencyP95', severity: 'warning', state: 'firing' }),
    ]);
    assert.deepEqual(
      sorted.map((a) => a.state),
      ['firing', 'pending', 'inactive'],
    );
    const sameState = sortAlerts([
      alert({ name: 'OfaVeHighLatencyP95', severity: 'warning', state: 'firing' }),
      alert({ name: 'OfaVeHighErrorRate', severity: 'critical', state: 'firing' }),
    ]);
    assert.equal(sameState[0]?.name, 'OfaVeHighErrorRate');
  });
});

describe('result totals', () => {
  it('lists YES, NO, MAYBE, ERROR with their share of requests', () => {
    const shares = resultShares({ requests: 10, YES: 5, NO: 2, MAYBE: 1, ERROR: 2, client_errors: 1, server_errors: 1, by_status: {} });
    assert.deepEqual(shares, [
      { type: 'YES', count: 5, share: 0.5 },
      { type: 'NO', count: 2, share: 0.2 },
      { type: 'MAYBE', count: 1, share: 0.1 },
      { type: 'ERROR', count: 2, share: 0.2 },
    ]);
    const none = { requests: 0, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, client_errors: 0, server_errors: 0, by_status: {} };
    assert.equal(resultShares(none)[0]?.share, null);
  });
});

describe('window phrase', () => {
  it('says seconds up to two minutes and whole minutes above', () => {
    assert.equal(windowPhrase(60), '60 s');
    assert.equal(windowPhrase(300), '5 min');
    assert.equal(windowPhrase(900), '15 min');
    assert.equal(windowPhrase(150), '150 s');
    assert.equal(windowPhrase(0), NO_VALUE);
  });
});
