/** The label filter over result rows, and the per-status counts shown in it. */
import { rowStatus, type DefaultText, type RowStatus, type RowText } from './row-status.ts';

export type LabelFilter = 'all' | 'YES' | 'NO' | 'MAYBE' | 'ERROR' | 'unchecked' | 'nocaption';

/** Option names; the select shows each with its count ("YES (3)"), tests pick options by value. */
export const LABEL_FILTERS: readonly { value: LabelFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'YES', label: 'YES' },
  { value: 'NO', label: 'NO' },
  { value: 'MAYBE', label: 'MAYBE' },
  { value: 'ERROR', label: 'Errors' },
  { value: 'unchecked', label: 'Not checked' },
  { value: 'nocaption', label: 'No caption' },
];

export function isLabelFilter(value: string): value is LabelFilter {
  return LABEL_FILTERS.some((f) => f.value === value);
}

/** Which filter a status falls under: a stale answer or a row in flight is "not checked" yet. */
function filterOf(status: RowStatus): Exclude<LabelFilter, 'all'> {
  return status === 'running' || status === 'stale' ? 'unchecked' : status;
}

export function rowMatches(row: RowText, filter: LabelFilter, defaults: DefaultText): boolean {
  return filter === 'all' || filterOf(rowStatus(row, defaults)) === filter;
}

export type RowCounts = Record<LabelFilter, number>;

export function countRows(rows: readonly RowText[], defaults: DefaultText): RowCounts {
  const counts: RowCounts = { all: rows.length, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, unchecked: 0, nocaption: 0 };
  for (const row of rows) counts[filterOf(rowStatus(row, defaults))]++;
  return counts;
}
