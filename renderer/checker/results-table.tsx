import { Fragment, useMemo, useRef } from 'react';
import type { CheckRow } from './checker-store.ts';
import { ResultRow, type RowContext } from './result-row.tsx';
import { useRowWindow, type WindowMemory } from './row-window.ts';
import { ADDED_ORDER, type SortKey, type SortOrder } from './row-sort.ts';

interface ResultsTableProps extends RowContext {
  rows: readonly CheckRow[];
  totalRows: number;
  order: SortOrder;
  onSort: (order: SortOrder) => void;
  /** Kept by the caller across unmounts: leaving the tab and coming back finds the table as it was. */
  windowMemory: WindowMemory;
}

/** Which way a first click sorts: names A→Z and labels YES first, scores and latencies highest first. */
const FIRST_DIRECTION: Record<Exclude<SortKey, 'added'>, 'asc' | 'desc'> = { file: 'asc', label: 'asc', score: 'desc', latency: 'desc' };

interface SortHeaderProps {
  column: Exclude<SortKey, 'added'>;
  title: string;
  order: SortOrder;
  onSort: (order: SortOrder) => void;
}

/** A column header that sorts: click once, then again to reverse, a third time for the added order. */
function SortHeader({ column, title, order, onSort }: SortHeaderProps) {
  const active = order.key === column;
  const first = FIRST_DIRECTION[column];
  const reversed: SortOrder = { key: column, direction: first === 'asc' ? 'desc' : 'asc' };
  const next: SortOrder = !active ? { key: column, direction: first } : order.direction === first ? reversed : ADDED_ORDER;
  return (
    <th className={`col-${column}`} aria-sort={active ? (order.direction === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort-button" data-testid={`sort-${column}`} onClick={() => onSort(next)}>
        {title}
        <span className="sort-mark" aria-hidden="true">
          {active ? (order.direction === 'asc' ? ' ▲' : ' ▼') : ''}
        </span>
      </button>
    </th>
  );
}

/**
 * A row standing in for the rows left out above or below those rendered (row-window.ts), at their
 * height. Nothing in it takes the focus: Tab still runs through every row as if all were in the
 * page, by the table body's focus and key handlers (row-window.ts), not by stops in the gaps.
 */
function Spacer({ height }: { height: number }) {
  if (height <= 0) return null;
  return (
    <tr className="row-spacer" aria-hidden="true" style={{ height }}>
      <td colSpan={7} />
    </tr>
  );
}

/** The rows as a table; only those in view and a margin around them are in the page (row-window.ts). */
export function ResultsTable(props: ResultsTableProps) {
  const { rows, totalRows, order, onSort, windowMemory, ...rowContext } = props;
  const body = useRef<HTMLTableSectionElement>(null);
  const keys = useMemo(() => rows.map((row) => row.id), [rows]);
  const shown = useRowWindow(keys, body, windowMemory);
  const last = shown.rows.at(-1)?.index ?? -1;
  return (
    // aria-rowcount: most rows are not in the page; with the header row, as aria-rowindex counts.
    <table className="results-table" data-testid="results-table" aria-rowcount={rows.length > 0 ? rows.length + 1 : undefined}>
      <thead>
        <tr aria-rowindex={1}>
          <th className="col-thumb" aria-label="Preview" />
          <SortHeader column="file" title="File" order={order} onSort={onSort} />
          <th className="col-caption">Caption</th>
          <SortHeader column="label" title="Label" order={order} onSort={onSort} />
          <SortHeader column="score" title="Score" order={order} onSort={onSort} />
          <SortHeader column="latency" title="Latency" order={order} onSort={onSort} />
          <th className="col-actions" aria-label="Actions" />
        </tr>
      </thead>
      <tbody ref={body} onFocus={shown.onFocus} onBlur={shown.onBlur} onKeyDown={shown.onKeyDown}>
        {shown.rows.map(({ index, spaceBefore }, i) => {
          const row = rows[index] as CheckRow;
          const from = i === 0 ? 0 : (shown.rows[i - 1]?.index ?? 0) + 1;
          return (
            <Fragment key={row.id}>
              {from < index && <Spacer height={spaceBefore} />}
              <ResultRow row={row} index={index} measure={shown.measure} {...rowContext} />
            </Fragment>
          );
        })}
        {last < rows.length - 1 && <Spacer height={shown.spaceAfter} />}
        {rows.length === 0 && (
          <tr className="empty-row">
            <td colSpan={7} className="muted">
              {totalRows === 0 ? 'No images yet: drop images or folders above, or pick them.' : 'No rows match this filter.'}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
