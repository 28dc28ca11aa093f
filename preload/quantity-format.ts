/**
 * Quantities as every view shows them: the dashboard (renderer/dashboard/stats-format.ts) and the
 * desktop notifications of the main process (main/electron/alert-notifier.ts), so an alert reads
 * the same in both. Finite numbers only; each caller says what it shows for none.
 */
import type { AlertStatus } from './wire-types.ts';

/** A ratio in percent with `digits` decimals; a small non-zero one as "<0.1%", never as 0. */
export function percentText(ratio: number, digits = 1): string {
  const pct = ratio * 100;
  const smallest = 10 ** -digits;
  if (pct > 0 && pct < smallest) return `<${smallest.toFixed(digits)}%`;
  return `${pct.toFixed(digits)}%`;
}

/** An alert's value or threshold: latency alerts are evaluated in seconds, the error-rate alert as a ratio (in %). */
export function alertQuantityText(name: AlertStatus['name'], value: number): string {
  if (name === 'OfaVeHighErrorRate') return percentText(value, 2);
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} s`;
}
