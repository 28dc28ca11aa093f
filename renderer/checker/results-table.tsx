import type { CheckRow } from './checker-store.ts';
import { ResultRow } from './result-row.tsx';

interface ResultsTableProps {
  rows: readonly CheckRow[];
  totalRows: number;
  blockedReason: string | undefined;
  onCheck: (id: number) => void;
  onRemove: (id: number) => void;
  onCaption: (id: number, caption: string) => void;
}

export function ResultsTable({ rows, totalRows, blockedReason, onCheck, onRemove, onCaption }: ResultsTableProps) {
  return (
    <table className="results-table" data-testid="results-table">
      <thead>
        <tr>
          <th className="col-thumb" aria-label="Preview" />
          <th className="col-file">File</th>
          <th className="col-caption">Caption</th>
          <th className="col-label">Label</th>
          <th className="col-score">Score</th>
          <th className="col-latency">Latency</th>
          <th className="col-actions" aria-label="Actions" />
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <ResultRow key={row.id} row={row} blockedReason={blockedReason} onCheck={onCheck} onRemove={onRemove} onCaption={onCaption} />
        ))}
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
