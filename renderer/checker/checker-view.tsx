import { useCallback, useDeferredValue, useMemo, useState, useSyncExternalStore } from 'react';
import type { ModelDocument } from '../../preload/wire-types.ts';
import type { ConsoleClient } from '../api/console-client.ts';
import { BatchBar } from './batch-bar.tsx';
import { CaptionControls } from './caption-controls.tsx';
import { checkerStoreFor, type CheckerSnapshot, type CheckRow } from './checker-store.ts';
import { IntakePanel } from './intake-panel.tsx';
import { PairListPanel } from './pair-list-panel.tsx';
import { matchPairs } from '../../preload/pair-list.ts';
import { QuestionBar } from './question-bar.tsx';
import { exportFileName, formatCsv, formatJsonl, type ExportRow } from './result-export.ts';
import { ResultsTable } from './results-table.tsx';
import { windowMemoryFor } from './row-window.ts';
import { useKeptState } from './view-memory.ts';
import { LABEL_FILTERS, countRows, isLabelFilter, rowMatches, type LabelFilter } from './row-filter.ts';
import { ADDED_ORDER, sortRows, type SortOrder } from './row-sort.ts';
import { rowStatus, rowsToSend, textRefusal, textToSend, type DefaultText } from './row-status.ts';
import './checker.css';

/** Why nothing can be checked right now (the service unreachable, the model not ready), or undefined. */
function blockedReasonFor(model: ModelDocument | undefined, serviceDown: string | undefined): string | undefined {
  if (serviceDown !== undefined) return `Service unavailable: checks cannot run until it is back (${serviceDown})`;
  if (!model) return 'Waiting for the service to report its model…';
  if (!model.ready) return `Model not ready: ${model.error ?? 'still loading…'}`;
  return undefined;
}

/** True when the snapshots differ at most in the caption fields' text. */
function onlyDefaultsDiffer(a: CheckerSnapshot, b: CheckerSnapshot): boolean {
  return (Object.keys(b) as (keyof CheckerSnapshot)[]).every((key) => key === 'defaults' || a[key] === b[key]);
}

/** A row as exported: an answer goes out with the text it is for; a row without one, with what it would be sent. */
function toExportRow(row: CheckRow, defaults: DefaultText): ExportRow {
  const answered = row.checked !== undefined && (row.result !== undefined || row.error !== undefined);
  const text = answered && row.checked ? row.checked : textToSend(row, defaults);
  return { file: row.name, path: row.path, caption: text.caption, premise: text.premise, result: row.result, error: row.error };
}

interface CheckerViewProps {
  client: ConsoleClient;
  model: ModelDocument | undefined;
  /** Why the service is unavailable (the app retries), while it is: nothing can be checked. */
  serviceDown?: string;
  /** When (performance.now()) the service was last reachable again after being unavailable. */
  serviceBackAt?: number;
}

/**
 * The checker: drop images (or folders), give them captions (the caption field for all, per row,
 * or from an imported list), check them one by one or as a batch, sort, filter and export.
 */
export function CheckerView({ client, model, serviceDown, serviceBackAt }: CheckerViewProps) {
  const store = useMemo(() => checkerStoreFor(client), [client]);
  const windowMemory = useMemo(() => windowMemoryFor(store), [store]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
  // Typing in the caption fields (a change of `defaults` alone) re-renders every row: the view
  // follows it at low priority, so typing stays quick; any other change (rows added, answers, a
  // notice) shows at once. Either way the table, the counts and the check button all show one
  // snapshot, so they agree in every frame (and never pair restored rows with captions not restored
  // yet). Only the caption fields show what is typed now.
  const deferred = useDeferredValue(snapshot);
  const shown = onlyDefaultsDiffer(deferred, snapshot) ? deferred : snapshot;
  const { rows, list, batch, notice, question, restoring, defaults: rowDefaults } = shown;
  // Kept across a tab switch, as the table's scroll position is: coming back shows the same rows.
  const [filter, setFilter] = useKeptState<LabelFilter>(store, 'label-filter', 'all');
  const [order, setOrder] = useKeptState<SortOrder>(store, 'sort-order', ADDED_ORDER);
  const [exportMessage, setExportMessage] = useState<string | undefined>();
  const blockedReason = blockedReasonFor(model, serviceDown);
  const maxWords = model?.model?.max_words;
  const maxTextBytes = model?.limits?.max_text_bytes;

  const counts = useMemo(() => countRows(rows, rowDefaults), [rows, rowDefaults]);
  const visible = useMemo(
    () => sortRows(filter === 'all' ? rows : rows.filter((row) => rowMatches(row, filter, rowDefaults)), order, rowDefaults),
    [rows, filter, order, rowDefaults],
  );
  const missing = useMemo(
    () =>
      list
        ? matchPairs(
            list.entries,
            rows.map((row) => row.name),
          ).missing
        : [],
    [list, rows],
  );
  const toSend = useMemo(() => rowsToSend(rows, rowDefaults, maxTextBytes, maxWords), [rows, rowDefaults, maxTextBytes, maxWords]);
  const again = toSend.length > 0 && toSend.every((row) => row.state === 'done' && rowStatus(row, rowDefaults) !== 'stale');
  const noCaption = useMemo(
    () => rows.filter((row) => row.state !== 'running' && textToSend(row, rowDefaults).caption === '').length,
    [rows, rowDefaults],
  );
  // Rows whose caption or premise the service would refuse (too long, or no words at all): held
  // back, and said why. A row without a caption is counted as such (noCaption), not here.
  const refused = useMemo(() => {
    const counts = { tooLong: 0, noWords: 0 };
    for (const row of rows) {
      if (row.state === 'running') continue;
      const sent = textToSend(row, rowDefaults);
      const refusal = sent.caption === '' ? undefined : textRefusal(sent, maxTextBytes, maxWords);
      if (refusal?.why === 'too-long') counts.tooLong++;
      else if (refusal?.why === 'no-words') counts.noWords++;
    }
    return counts;
  }, [rows, rowDefaults, maxTextBytes, maxWords]);

  // Stable callbacks: the memoised rows re-render only when their own row changes.
  const checkRow = useCallback(
    (id: number) => void store.checkRow(client, id, maxTextBytes, maxWords),
    [store, client, maxTextBytes, maxWords],
  );
  const checkAll = useCallback(() => void store.checkAll(client, maxTextBytes, maxWords), [store, client, maxTextBytes, maxWords]);
  // Enter in a caption field: the store checks what is ready then, typed a moment ago or not.
  const canSubmit = !snapshot.batch?.running && blockedReason === undefined;

  const exportAs = async (format: 'csv' | 'jsonl') => {
    const exported = visible.map((row) => toExportRow(row, rowDefaults));
    const content = format === 'csv' ? formatCsv(exported) : formatJsonl(exported);
    const mime = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    try {
      const saved = await client.saveFile(exportFileName(format), content, mime);
      if (saved) store.markExported(exported.length === rows.length);
      const what = `${exported.length} row${exported.length === 1 ? '' : 's'}`;
      setExportMessage(saved ? `Exported ${what} as ${format.toUpperCase()}.` : undefined);
    } catch (err) {
      setExportMessage(`Export failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const demo = model?.model?.demo === true;
  return (
    <div className="checker">
      <div className="checker-intake">
        <IntakePanel onFiles={store.addFiles} onListFile={(file) => void store.importListFile(file)} />
        <CaptionControls
          defaults={snapshot.defaults}
          maxWords={maxWords}
          maxTextBytes={maxTextBytes}
          onCaption={store.setDefaultCaption}
          onPremise={store.setDefaultPremise}
          onSubmit={canSubmit ? checkAll : undefined}
        />
      </div>

      {question && <QuestionBar question={question} onCancel={store.dismissQuestion} />}

      {notice && (
        <div className={`checker-notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="checker-notice">
          <span>{notice.text}</span>
          <span className="notice-actions">
            {notice.actions?.map((action) => (
              <button key={action.testId} type="button" data-testid={action.testId} onClick={action.run}>
                {action.label}
              </button>
            ))}
            <button type="button" className="link" onClick={store.dismissNotice} aria-label="Dismiss">
              ×
            </button>
          </span>
        </div>
      )}

      {list && <PairListPanel list={list} missing={missing} onRemove={store.removeList} />}

      <BatchBar
        batch={batch}
        toSend={restoring ? 0 : toSend.length}
        again={again}
        noCaption={noCaption}
        tooLong={refused.tooLong}
        noWords={refused.noWords}
        maxTextBytes={maxTextBytes}
        blockedReason={restoring ? 'Restoring the last batch…' : blockedReason}
        serviceBack={serviceDown === undefined ? serviceBackAt : undefined}
        onCheckAll={checkAll}
        onCancel={store.cancelBatch}
      />

      <div className="results-header">
        <div className="results-title">
          <h2>Results</h2>
          <span className="muted results-counts" data-testid="result-counts">
            {counts.all} row{counts.all === 1 ? '' : 's'} · {counts.YES} YES · {counts.NO} NO · {counts.MAYBE} MAYBE · {counts.ERROR} error
            {counts.ERROR === 1 ? '' : 's'} · {counts.unchecked} not checked
            {counts.nocaption > 0 ? ` · ${counts.nocaption} without caption` : ''}
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
            <select data-testid="label-filter" value={filter} onChange={(e) => isLabelFilter(e.target.value) && setFilter(e.target.value)}>
              {LABEL_FILTERS.map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label} ({counts[option.value]})
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
          <button type="button" className="danger" data-testid="clear-all" disabled={rows.length === 0} onClick={store.requestClearAll}>
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
        windowMemory={windowMemory}
        defaults={rowDefaults}
        maxWords={maxWords}
        maxTextBytes={maxTextBytes}
        blockedReason={blockedReason}
        order={order}
        onSort={setOrder}
        onCheck={checkRow}
        onRemove={store.removeRow}
        onCaption={store.setRowCaption}
      />
    </div>
  );
}
