import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MIN_BAR_PX,
  failedSecondBars,
  failedSecondLayout,
  type FailedSecond,
  type TimeScale,
} from '../../../renderer/dashboard/failed-checks-chart.ts';

/** A window of `n` seconds ending at `last`, with failed shares by index (0 elsewhere; NaN: no checks). */
function windowOf(n: number, failed: Record<number, number>, last = 1_714_564_800): FailedSecond[] {
  return Array.from({ length: n }, (_, i) => ({ t: last - n + 1 + i, failedPct: failed[i] ?? 0 }));
}

/** The time axis recharts draws for those seconds: the first at `left`, the last at `right`. */
function axisFor(seconds: readonly FailedSecond[], left: number, right: number): TimeScale {
  const first = seconds[0]!.t;
  const last = seconds[seconds.length - 1]!.t;
  return { left, right, x: (t) => left + ((t - first) * (right - left)) / (last - first) };
}

/** Bars lie inside the plot, are at least MIN_BAR_PX wide and never overlap. */
function assertDrawable(bars: Map<number, { x0: number; x1: number }>, scale: TimeScale) {
  const spans = [...bars.values()].sort((a, b) => a.x0 - b.x0);
  for (const [i, span] of spans.entries()) {
    assert.ok(span.x0 >= scale.left - 1e-9 && span.x1 <= scale.right + 1e-9, `inside the plot: ${JSON.stringify(span)}`);
    assert.ok(span.x1 - span.x0 >= MIN_BAR_PX - 1e-9, `at least ${MIN_BAR_PX} px: ${JSON.stringify(span)}`);
    const next = spans[i + 1];
    if (next) assert.ok(next.x0 >= span.x1 - 1e-9, `no overlap: ${JSON.stringify(span)} and ${JSON.stringify(next)}`);
  }
}

describe('failedSecondBars', () => {
  it('draws each failed second over its own second where seconds are wide, and nothing for a second without failures', () => {
    const seconds = windowOf(60, { 10: 50, 11: 0, 12: Number.NaN, 30: 100 });
    const scale = axisFor(seconds, 56, 56 + 59 * 5);
    const bars = failedSecondBars(seconds, scale);
    assert.deepEqual([...bars.keys()], [seconds[10]!.t, seconds[30]!.t]);
    assert.deepEqual(bars.get(seconds[10]!.t), { x0: scale.x(seconds[10]!.t), x1: scale.x(seconds[11]!.t) });
  });

  it('widens the window’s last second, which has no width of its own, inside the plot', () => {
    const seconds = windowOf(60, { 59: 25 });
    const scale = axisFor(seconds, 56, 351);
    assert.deepEqual(failedSecondBars(seconds, scale).get(seconds[59]!.t), { x0: 349, x1: 351 });
  });

  it('draws a burst followed by seconds of checks without failures at 15 min (0.37 px a second), as the user saw it hidden', () => {
    // 62.5 %: 5 of 8 checks refused, then seconds with checks and no failure; an older lone 50 % second.
    const failed: Record<number, number> = { 300: 50, 700: 62.5 };
    for (let i = 701; i < 720; i++) failed[i] = 0;
    const seconds = windowOf(900, failed);
    const scale = axisFor(seconds, 56, 56 + 333);
    const bars = failedSecondBars(seconds, scale);
    assert.deepEqual([...bars.keys()].sort(), [seconds[300]!.t, seconds[700]!.t]);
    const burst = bars.get(seconds[700]!.t)!;
    assert.ok(
      burst.x0 <= scale.x(seconds[700]!.t) && burst.x1 >= scale.x(seconds[701]!.t),
      `the bar covers its second: ${JSON.stringify(burst)}`,
    );
    assertDrawable(bars, scale);
  });

  it('draws the worst second of a few that share a bar, the earlier on a tie, and never one without failures', () => {
    const seconds = windowOf(900, { 600: 5, 601: 62.5, 602: 0, 603: 5, 604: 62.5 });
    const scale = axisFor(seconds, 56, 56 + 333);
    const bars = failedSecondBars(seconds, scale);
    const drawn = [...bars.keys()].map((t) => seconds.findIndex((s) => s.t === t));
    assert.ok(drawn.includes(601), `the 62.5 % second is drawn: ${drawn.join(', ')}`);
    for (const i of drawn) assert.ok(seconds[i]!.failedPct > 0, `second ${i} has failures`);
    assertDrawable(bars, scale);
    // Every failed second lies under a bar as high as it is or higher.
    for (const [i, second] of seconds.entries()) {
      if (!(second.failedPct > 0)) continue;
      const x = scale.x(second.t);
      const over = [...bars.entries()].find(([, span]) => span.x0 <= x + 1e-9 && x < span.x1);
      assert.ok(over, `second ${i} lies under a bar`);
      assert.ok(seconds.find((s) => s.t === over[0])!.failedPct >= second.failedPct, `second ${i} lies under a bar as high`);
    }
  });

  it('keeps every failed second under a bar at least as high, at 5 and 15 min, wherever the window ends', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (const [n, width] of [
      [300, 333],
      [900, 333],
      [900, 1100],
      [60, 100],
    ] as const) {
      for (let shift = 0; shift < 7; shift++) {
        const failed: Record<number, number> = {};
        for (let i = 0; i < n; i++) if (random() < 0.08) failed[i] = Math.round(random() * 100);
        failed[0] = 40; // at the window's very edges
        failed[n - 1] = 30;
        const seconds = windowOf(n, failed, 1_714_564_800 + shift);
        const scale = axisFor(seconds, 56, 56 + width);
        const bars = failedSecondBars(seconds, scale);
        if ((width / (n - 1)) * 1 < MIN_BAR_PX) assertDrawable(bars, scale);
        for (const [i, second] of seconds.entries()) {
          if (!(second.failedPct > 0)) continue;
          const x = Math.min(scale.x(second.t), scale.right - 1e-6);
          const over = [...bars.entries()].filter(([, span]) => span.x0 <= x + 1e-9 && x < span.x1);
          const what = `${n} s over ${width} px, ending +${shift}: second ${i} (${second.failedPct} %)`;
          assert.ok(over.length > 0, `${what} lies under a bar`);
          assert.ok(
            over.some(([t]) => seconds.find((s) => s.t === t)!.failedPct >= second.failedPct),
            `${what} lies under a bar as high`,
          );
        }
      }
    }
  });

  it('keeps a bar on the same seconds as the window slides (groups start on multiples of their length)', () => {
    const at = 1_714_564_000;
    const spanOf = (last: number) => {
      const seconds = windowOf(900, {}, last).map((s) => (s.t === at ? { ...s, failedPct: 62.5 } : s));
      const scale = axisFor(seconds, 56, 389);
      const bar = failedSecondBars(seconds, scale).get(at)!;
      // Relative to the second's own place, which moves left as the window slides.
      return { from: bar.x0 - scale.x(at), to: bar.x1 - scale.x(at) };
    };
    const spans = Array.from({ length: 6 }, (_, shift) => spanOf(at + 300 + shift));
    for (const span of spans) {
      assert.ok(Math.abs(span.from - spans[0]!.from) < 1e-9 && Math.abs(span.to - spans[0]!.to) < 1e-9, JSON.stringify(spans));
    }
  });

  it('draws nothing without seconds, and a window of one second as one bar', () => {
    assert.equal(failedSecondBars([], { left: 0, right: 100, x: () => 50 }).size, 0);
    const one = failedSecondBars([{ t: 5, failedPct: 10 }], { left: 0, right: 100, x: (t) => (t === 5 ? 50 : Number.NaN) });
    assert.equal(one.size, 0, 'no place for the next second: nothing to span');
    const edge = failedSecondBars([{ t: 5, failedPct: 10 }], { left: 0, right: 100, x: () => 100 });
    assert.deepEqual(edge.get(5), { x0: 98, x1: 100 });
  });
});

describe('failedSecondLayout', () => {
  it('works the bars out once per geometry and again when the axis changes', () => {
    const seconds = windowOf(900, { 700: 62.5 });
    const layout = failedSecondLayout(seconds);
    const a = layout(axisFor(seconds, 56, 389));
    assert.equal(layout(axisFor(seconds, 56, 389)), a, 'the same map for the same axis');
    const wider = layout(axisFor(seconds, 56, 1200));
    assert.notEqual(wider, a);
    assert.ok(wider.has(seconds[700]!.t));
  });
});
