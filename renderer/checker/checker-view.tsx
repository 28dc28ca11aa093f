import { useCallback, useMemo, useState, useSyncExternalStore } from 'react';
import type { ModelDocument } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { BatchBar } from './batch-bar.tsx';
import { CaptionControls } from './caption-controls.tsx';
import { checkerStoreFor, type CheckRow } from './checker-store.ts';
import { IntakePanel } from './intake-panel.tsx';
import { PairListPanel } from './pair-list-panel.tsx';
import { matchPairs } from '../../preload/pair-list.ts';
import { exportFileName, formatCsv, formatJsonl, type ExportRow } from './result-export.ts';
import { ResultsTable } from './results-table.tsx';
import { LABEL_FILTERS, countRows, isLabelFilter, rowMatches, type LabelFilter } from './row-filter.ts';
import './checker.css';

/** Why nothing can be checked right now, or undefined when the model is ready. */
function blockedReasonFor(model: ModelDocument | undefined): string | undefined {
  if (!model) return 'Waiting for the service to report its model…';
  if (!model.ready) return `Model not ready: ${model.error ?? 'still loading…'}`;
  return undefined;
}

function toExportRow(row: CheckRow): ExportRow {
  return { file: row.name, caption: row.caption, premise: row.premise, result: row.result, error: row.error };
}

/**
 * The checker: drop images (or folders), give them captions (one for all, per row, or from an
 * imported list), check them one by one or as a batch, filter and export the answers.
 */
export function CheckerView({ client, model }: { client: ConsoleClient; model: ModelDocument | undefined }) {
  const store = useMemo(() => checkerStoreFor(client), [client]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const { rows, list, batch, notice } = snapshot;
  const [filter, setFilter] = useState<LabelFilter>('all');
  const [exportMessage, setExportMessage] = useState<string | undefined>();
  const blockedReason = blockedReasonFor(model);

  const counts = useMemo(() => countRows(rows), [rows]);
  const visible = useMemo(() => (filter === 'all' ? rows : rows.filter((row) => rowMatches(row, filter))), [rows, filter]);
  const missing = useMemo(() => (list ? matchPairs(list.entries, rows.map((row) => row.name)).missing : []), [list, rows]);
  const toCheck = counts.all - counts.YES - counts.NO - counts.MAYBE || counts.all;

  // Stable callbacks: the memoised rows re-render only when their own row changes.
  const checkRow = useCallback((id: number) => void store.checkRow(client, id), [store, client]);
  const checkAll = useCallback(() => void store.checkAll(client), [store, client]);

  const exportAs = async (format: 'csv' | 'jsonl') => {
    const exported = visible.map(toExportRow);
    const content = format === 'csv' ? formatCsv(exported) : formatJsonl(exported);
    const mime = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    try {
      const saved = await client.saveFile(exportFileName(format), content, mime);
      setExportMessage(saved ? `Exported ${exported.length} row${exported.length === 1 ? '' : 's'} as ${format.toUpperCase()}.` : undefined);
    } catch (err) {
      setExportMessage(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const demo = model?.model?.demo === true;
  return (
    <div className="checker">
      <div className="checker-intake">
        <IntakePanel onFiles={(files) => void store.addFiles(files)} onListFile={(file) => void store.importListFile(file)} />
        <CaptionControls
          appliedCaption={snapshot.appliedCaption}
          appliedPremise={snapshot.appliedPremise}
          rowCount={rows.length}
          onApply={store.applyToAll}
        />
      </div>

      {notice && (
        <div className={`checker-notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="checker-notice">
          <span>{notice.text}</span>
          <button type="button" className="link" onClick={store.dismissNotice} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}

      {list && <PairListPanel list={list} missing={missing} onRemove={store.removeList} />}

      <BatchBar
        batch={batch}
        rowCount={rows.length}
        toCheck={toCheck}
        blockedReason={blockedReason}
        onCheckAll={checkAll}
        onCancel={store.cancelBatch}
      />

      <div className="results-header">
        <div className="results-title">
          <h2>Results</h2>
          <span className="muted results-counts" data-testid="result-counts">
            {counts.all} row{counts.all === 1 ? '' : 's'} · {counts.YES} YES · {counts.NO} NO · {counts.MAYBE} MAYBE · {counts.ERROR} error
            {counts.ERROR === 1 ? '' : 's'} · {counts.unchecked} not checked
          </span>
          {demo && (
            <span className="demo-note" data-testid="demo-note">
              Answers are from the demo model (random weights): not meaningful.
            </span>
          )}
        </div>
        <span className="results-tools">
          <label>
            <span className="muted">Show</span>{' '}
            <select
              data-testid="label-filter"
              value={filter}
              onChange={(e) => isLabelFilter(e.target.value) && setFilter(e.target.value)}
            >
              {LABEL_FILTERS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            data-testid="export-csv"
            disabled={visible.length === 0}
            title="Export the rows shown"
            onClick={() => void exportAs('csv')}
          >
            Export CSV
          </button>
          <button
            type="button"
            data-testid="export-jsonl"
            disabled={visible.length === 0}
            title="Export the rows shown"
            onClick={() => void exportAs('jsonl')}
          >
            Export JSONL
          </button>
          <button type="button" className="danger" data-testid="clear-all" disabled={rows.length === 0} onClick={store.clearAll}>
            Clear all
          </button>
        </span>
      </div>
      {exportMessage && (
        <p className="muted export-message" role="status">
          {exportMessage}
        </p>
      )}

      <ResultsTable
        rows={visible}
        totalRows={rows.length}
        blockedReason={blockedReason}
        onCheck={checkRow}
        onRemove={store.removeRow}
        onCaption={store.setRowCaption}
      />
    </div>
  );
}
