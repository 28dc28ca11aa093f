import { memo } from 'react';
import type { CheckRow } from './checker-store.ts';
import { unavailableReason } from '../api/console-client.ts';
import { TextNotes } from './caption-notes.tsx';
import { RowCaption } from './row-caption.tsx';
import { isServiceGone, rowStatus, textRefusal, textToSend, type DefaultText } from './row-status.ts';
import { StageBreakdown } from './stage-breakdown.tsx';
import { Thumbnail } from './thumbnail.tsx';

/** What every row of the table is given besides its own row: the defaults it is checked with and what its buttons do. */
export interface RowContext {
  defaults: DefaultText;
  maxWords: number | undefined;
  /** The service's byte limit on a caption or premise (undefined until known). */
  maxTextBytes: number | undefined;
  blockedReason: string | undefined;
  onCheck: (id: number) => void;
  onRemove: (id: number) => void;
  onCaption: (id: number, caption: string) => void;
}

interface ResultRowProps extends RowContext {
  row: CheckRow;
  /** Its place in the table as sorted and filtered, and the ref that measures its height (row-window.ts). */
  index: number;
  measure: (element: HTMLTableRowElement | null) => void;
}

function percent(score: number): string {
  return `${(Math.min(1, Math.max(0, score)) * 100).toFixed(1)}%`;
}

/** One image: preview, name, caption, answer. Memoised: a batch answer re-renders only its row. */
export const ResultRow = memo(function ResultRow(props: ResultRowProps) {
  const { row, index, measure, defaults, maxWords, maxTextBytes, blockedReason, onCheck, onRemove, onCaption } = props;
  const { result, error } = row;
  const status = rowStatus(row, defaults);
  const stale = status === 'stale' || (status === 'nocaption' && row.checked !== undefined);
  const sent = textToSend(row, defaults);
  const refusal = textRefusal(sent, maxTextBytes, maxWords);
  const cannotCheck =
    blockedReason ??
    (sent.caption === ''
      ? 'No caption to check against'
      : refusal?.why === 'too-long'
        ? `The ${refusal.field} is over the service's limit of ${maxTextBytes?.toLocaleString('en-US')} bytes: it would be refused`
        : refusal?.why === 'no-words'
          ? `The ${refusal.field} has no words, only punctuation or spaces: it would be refused`
          : undefined);
  return (
    <tr
      ref={measure}
      data-index={index}
      aria-rowindex={index + 2}
      data-testid="result-row"
      data-file={row.name}
      data-path={row.path}
      data-state={row.state}
      data-status={status}
      className={`state-${row.state}`}
    >
      <td className="col-thumb">
        <Thumbnail file={row.file} />
      </td>
      <td className="col-file" title={row.path}>
        <span className="file-name">{row.name}</span>
        {row.path !== row.name && <span className="file-path muted">{row.path}</span>}
        {row.copyOf && (
          <span className="file-copy" data-testid="copy-of" title={`Same bytes as ${row.copyOf}`}>
            same image as {row.copyOf}
          </span>
        )}
      </td>
      <td className="col-caption">
        <RowCaption
          caption={row.caption}
          fallback={defaults.caption.trim()}
          fileName={row.name}
          onCommit={(caption) => onCaption(row.id, caption)}
        />
        {sent.premise && (
          <div className="row-premise muted" dir="auto" title={row.premise ? 'Premise (this row’s)' : 'Premise (the premise field’s)'}>
            premise: {sent.premise}
          </div>
        )}
        <TextNotes
          caption={sent.caption}
          premise={sent.premise}
          maxWords={maxWords}
          maxTextBytes={maxTextBytes}
          warnings={result && !stale ? result.warnings : undefined}
        />
        {stale && row.checked && (
          <div className="stale-note" data-testid="stale-note" dir="auto">
            The answer is for an earlier caption: “{row.checked.caption}”. Check again for this one.
          </div>
        )}
      </td>
      <td className="col-label">
        {result ? (
          <span className={`label-badge ${result.label}${stale ? ' stale' : ''}`} data-testid="label">
            {result.label}
          </span>
        ) : error ? (
          <span className={`label-badge ERROR${stale ? ' stale' : ''}`} data-testid="label">
            ERROR
          </span>
        ) : status === 'nocaption' ? (
          <span className="row-status nocaption" data-testid="no-caption">
            no caption
          </span>
        ) : (
          <span className={`row-status ${row.state}`}>{row.state === 'running' ? 'checking…' : 'not checked'}</span>
        )}
      </td>
      {error ? (
        <td className="col-error" colSpan={2}>
          <div className="row-error" data-testid="row-error" role="alert">
            {isServiceGone(error) ? (
              <>
                <strong data-testid="service-unavailable">service unavailable</strong>: {unavailableReason(error.message)}
              </>
            ) : (
              <>
                <span className="mono">{error.code}</span>: {error.message}
              </>
            )}
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
          disabled={row.state === 'running' || cannotCheck !== undefined}
          title={cannotCheck}
          aria-label={`Check ${row.name}`}
          onClick={() => onCheck(row.id)}
        >
          Check
        </button>
        <button
          type="button"
          className="remove"
          data-testid="remove-row"
          aria-label={`Remove ${row.name}`}
          title="Remove"
          onClick={() => onRemove(row.id)}
        >
          ×
        </button>
      </td>
    </tr>
  );
});
