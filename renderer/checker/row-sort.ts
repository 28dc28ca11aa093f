/** Table order: as added, or by file, label, score or latency. Pure, so unit-tested under Node. */
import type { CheckResult } from '../../preload/wire-types.ts';
import { rowStatus, type DefaultText, type RowStatus, type RowText } from './row-status.ts';

export type SortKey = 'added' | 'file' | 'label' | 'score' | 'latency';
export type SortDirection = 'asc' | 'desc';

export interface SortOrder {
  key: SortKey;
  direction: SortDirection;
}

export const ADDED_ORDER: SortOrder = { key: 'added', direction: 'asc' };

/** The parts of a row sorting reads. */
export interface SortableRow extends RowText {
  readonly id: number;
  readonly path: string;
}

/** Label order: the answers first, in the order reviewers triage them, then the rest. */
const STATUS_RANK: Record<RowStatus, number> = { YES: 0, NO: 1, MAYBE: 2, ERROR: 3, stale: 4, running: 5, unchecked: 6, nocaption: 7 };

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function answerValue(result: CheckResult | undefined, key: 'score' | 'latency'): number | undefined {
  if (!result) return undefined;
  return key === 'score' ? result.score : result.latency_ms;
}

/**
 * The rows in the given order; ties (and the rows a key says nothing about, such as rows without
 * a score) keep the order they were added in, and rows without a value always come last.
 */
export function sortRows<T extends SortableRow>(rows: readonly T[], order: SortOrder, defaults: DefaultText): readonly T[] {
  if (order.key === 'added') return order.direction === 'asc' ? rows : [...rows].reverse();
  const sign = order.direction === 'asc' ? 1 : -1;
  const { key } = order;
  const keyed = rows.map((row): { row: T; value: string | number | undefined } => {
    if (key === 'file') return { row, value: row.path };
    if (key === 'label') return { row, value: STATUS_RANK[rowStatus(row, defaults)] };
    return { row, value: row.state === 'done' ? answerValue(row.result, key) : undefined };
  });
  keyed.sort((a, b) => {
    if (a.value === undefined || b.value === undefined) {
      if (a.value === b.value) return a.row.id - b.row.id;
      return a.value === undefined ? 1 : -1;
    }
    const cmp = typeof a.value === 'string' ? collator.compare(a.value, String(b.value)) : a.value - (b.value as number);
    return cmp === 0 ? a.row.id - b.row.id : sign * cmp;
  });
  return keyed.map((k) => k.row);
}
