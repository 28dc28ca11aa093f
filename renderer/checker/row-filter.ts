/** The label filter over result rows, and the per-label counts shown beside it. */
import type { CheckRow } from './checker-store.ts';

export type LabelFilter = 'all' | 'YES' | 'NO' | 'MAYBE' | 'ERROR' | 'unchecked';

/** Option labels are plain words (no counts) so tests and screen readers can pick them by name. */
export const LABEL_FILTERS: readonly { value: LabelFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'YES', label: 'YES' },
  { value: 'NO', label: 'NO' },
  { value: 'MAYBE', label: 'MAYBE' },
  { value: 'ERROR', label: 'Errors' },
  { value: 'unchecked', label: 'Not checked' },
];

export function isLabelFilter(value: string): value is LabelFilter {
  return LABEL_FILTERS.some((f) => f.value === value);
}

export function rowMatches(row: CheckRow, filter: LabelFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'ERROR':
      return row.state === 'error';
    case 'unchecked':
      return row.state === 'pending' || row.state === 'running';
    default:
      return row.state === 'done' && row.result?.label === filter;
  }
}

export type RowCounts = Record<LabelFilter, number>;

export function countRows(rows: readonly CheckRow[]): RowCounts {
  const counts: RowCounts = { all: rows.length, YES: 0, NO: 0, MAYBE: 0, ERROR: 0, unchecked: 0 };
  for (const row of rows) {
    if (row.state === 'error') counts.ERROR++;
    else if (row.state === 'done' && row.result) counts[row.result.label]++;
    else counts.unchecked++;
  }
  return counts;
}
