import { memo } from 'react';
import type { CheckRow } from './checker-store.ts';
import { RowCaption } from './row-caption.tsx';
import { StageBreakdown } from './stage-breakdown.tsx';
import { Thumbnail } from './thumbnail.tsx';

interface ResultRowProps {
  row: CheckRow;
  blockedReason: string | undefined;
  onCheck: (id: number) => void;
  onRemove: (id: number) => void;
  onCaption: (id: number, caption: string) => void;
}

function percent(score: number): string {
  return `${(Math.min(1, Math.max(0, score)) * 100).toFixed(1)}%`;
}

const STATE_TEXT = { pending: 'not checked', running: 'checking…' } as const;

/** One image: preview, name, caption, answer. Memoised: a batch answer re-renders only its row. */
export const ResultRow = memo(function ResultRow({ row, blockedReason, onCheck, onRemove, onCaption }: ResultRowProps) {
  const { result, error } = row;
  return (
    <tr data-testid="result-row" data-file={row.name} data-state={row.state} className={`state-${row.state}`}>
      <td className="col-thumb">
        <Thumbnail file={row.file} />
      </td>
      <td className="col-file" title={row.path}>
        <span className="file-name">{row.name}</span>
      </td>
      <td className="col-caption">
        <RowCaption caption={row.caption} fileName={row.name} onCommit={(caption) => onCaption(row.id, caption)} />
        {row.premise && (
          <div className="row-premise muted" title="Premise">
            premise: {row.premise}
          </div>
        )}
      </td>
      <td className="col-label">
        {result ? (
          <span className={`label-badge ${result.label}`} data-testid="label">
            {result.label}
          </span>
        ) : error ? (
          <span className="label-badge ERROR" data-testid="label">
            ERROR
          </span>
        ) : (
          <span className={`row-status ${row.state}`}>{STATE_TEXT[row.state === 'running' ? 'running' : 'pending']}</span>
        )}
      </td>
      {error ? (
        <td className="col-error" colSpan={2}>
          <div className="row-error" data-testid="row-error" role="alert">
            <span className="mono">{error.code}</span>: {error.message}
          </div>
        </td>
      ) : (
        <>
          <td className="col-score">
            {result && (
              <div className="score" title={`score ${result.score}`}>
                <div className="score-bar">
                  <div className={`score-fill ${result.label}`} style={{ width: percent(result.score) }} />
                </div>
                <span className="mono score-value" data-testid="score">
                  {result.score.toFixed(3)}
                </span>
              </div>
            )}
          </td>
          <td className="col-latency">{result && <StageBreakdown result={result} />}</td>
        </>
      )}
      <td className="col-actions">
        <button
          type="button"
          data-testid="check-row"
          disabled={row.state === 'running' || blockedReason !== undefined}
          title={blockedReason}
          onClick={() => onCheck(row.id)}
        >
          Check
        </button>
        <button type="button" className="remove" data-testid="remove-row" aria-label={`Remove ${row.name}`} title="Remove" onClick={() => onRemove(row.id)}>
          ×
        </button>
      </td>
    </tr>
  );
});
