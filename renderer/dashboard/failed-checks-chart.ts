/**
 * Where the failed-checks chart draws its bars. A second with failed checks is a bar from its second
 * to the next. Where a second is narrower than MIN_BAR_PX (15 min in a few hundred px is under half
 * a pixel a second), the seconds go in groups of whole seconds at least that wide, and each group
 * draws the one of its seconds with the most failed checks across the group's width: the worst
 * second always shows, at its own height, and a second without failures never stands for a group.
 * Groups start on multiples of their length in epoch seconds, so they keep their place as the window
 * slides and a bar does not hop between neighbours from one redraw to the next.
 */

/** The least width (px) of a bar, so that a second (or group) with failed checks shows. */
export const MIN_BAR_PX = 2;

/** One second of the chart: its epoch second and its failed share in % (0, or not finite, when none failed). */
export interface FailedSecond {
  t: number;
  failedPct: number;
}

/** The chart's time axis as drawn: a second's x (px), and the plot's left and right edges. */
export interface TimeScale {
  x(t: number): number;
  left: number;
  right: number;
}

/** A bar's horizontal extent (px). */
export interface BarSpan {
  x0: number;
  x1: number;
}

/** Consecutive seconds drawn as one bar, and the second among them with the most failed checks. */
interface Group {
  from: number;
  to: number;
  worst: FailedSecond | undefined;
}

const failed = (second: FailedSecond | undefined): number =>
  second !== undefined && Number.isFinite(second.failedPct) ? second.failedPct : 0;

/**
 * The bars to draw, by the second each one draws (its height is that second's): only seconds with
 * failed checks, in `seconds` order of time, one a second of the window.
 */
export function failedSecondBars(seconds: readonly FailedSecond[], scale: TimeScale, minPx = MIN_BAR_PX): Map<number, BarSpan> {
  const bars = new Map<number, BarSpan>();
  const first = seconds[0];
  if (first === undefined) return bars;
  const perSecond = scale.x(first.t + 1) - scale.x(first.t);
  // A window of one second has no width a second: it is one group, widened below.
  const perGroup = Number.isFinite(perSecond) && perSecond > 0 ? Math.max(1, Math.ceil(minPx / perSecond - 1e-9)) : seconds.length;
  const span = (from: number, to: number): BarSpan => ({
    x0: Math.max(scale.x(from), scale.left),
    x1: Math.min(scale.x(to + 1), scale.right),
  });
  const width = (group: Group) => {
    const { x0, x1 } = span(group.from, group.to);
    return x1 - x0;
  };

  const groups: Group[] = [];
  for (const second of seconds) {
    const current = groups[groups.length - 1];
    if (current && Math.floor(second.t / perGroup) === Math.floor(current.from / perGroup)) {
      current.to = second.t;
      if (failed(second) > failed(current.worst)) current.worst = second;
    } else {
      groups.push({ from: second.t, to: second.t, worst: failed(second) > 0 ? second : undefined });
    }
  }
  // The window cuts the first and last groups short: too narrow to show, they join their neighbour.
  // (With a group a second, the window's last second, which has no width, is widened instead, over
  // the end of the one before, as the stepped requests chart above ends.)
  const join = (into: Group, other: Group) => {
    const [earlier, later] = other.from < into.from ? [other, into] : [into, other];
    // The earlier second on a tie, as within a group.
    into.worst = failed(later.worst) > failed(earlier.worst) ? later.worst : earlier.worst;
    into.from = earlier.from;
    into.to = later.to;
  };
  if (perGroup > 1 && groups.length > 1 && width(groups[0]!) < minPx) join(groups[1]!, groups.shift()!);
  if (perGroup > 1 && groups.length > 1 && width(groups[groups.length - 1]!) < minPx) join(groups[groups.length - 2]!, groups.pop()!);

  for (const group of groups) {
    if (group.worst === undefined) continue;
    let { x0, x1 } = span(group.from, group.to);
    if (!Number.isFinite(x0) || !Number.isFinite(x1)) continue;
    if (x1 - x0 < minPx) {
      x1 = Math.min(x0 + minPx, scale.right);
      x0 = Math.min(x0, x1 - minPx);
    }
    bars.set(group.worst.t, { x0, x1 });
  }
  return bars;
}

/**
 * failedSecondBars for one chart's seconds, worked out once per drawn geometry: every bar of the
 * chart asks for its own second, and the axis it is given is the same for all of them.
 */
export function failedSecondLayout(seconds: readonly FailedSecond[]): (scale: TimeScale) => Map<number, BarSpan> {
  let last: { key: string; bars: Map<number, BarSpan> } | undefined;
  return (scale) => {
    const t = seconds[0]?.t ?? 0;
    const key = `${scale.left} ${scale.right} ${scale.x(t)} ${scale.x(t + 1)}`;
    if (last?.key !== key) last = { key, bars: failedSecondBars(seconds, scale) };
    return last.bars;
  };
}
