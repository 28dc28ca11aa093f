import type { BatchStatus } from './checker-store.ts';

interface BatchBarProps {
  batch: BatchStatus | undefined;
  rowCount: number;
  /** How many rows "Check all" would send now. */
  toCheck: number;
  /** Why checking is impossible now (model not ready), or undefined. */
  blockedReason: string | undefined;
  onCheckAll: () => void;
  onCancel: () => void;
}

export function formatDuration(seconds: number): string {
  if (seconds < 1) return '<1 s';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return minutes < 60 ? `${minutes} min ${rest} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function batchSummary(batch: BatchStatus): string {
  const { progress } = batch;
  const failed = progress.failed > 0 ? ` · ${progress.failed} failed` : '';
  if (batch.running) {
    const left = progress.eta_s === null ? 'estimating time left' : `about ${formatDuration(progress.eta_s)} left`;
    return `${progress.rate.toFixed(1)} checks/s · ${left}${failed}`;
  }
  const took = batch.elapsedS === undefined ? '' : ` in ${formatDuration(batch.elapsedS)}`;
  switch (batch.outcome) {
    case 'cancelled':
      return `Cancelled after ${progress.done} of ${progress.total}${took}${failed}`;
    case 'failed':
      return `Stopped: ${batch.message ?? 'the batch failed'}${failed}`;
    default:
      return `Finished ${progress.total}${took} · ${progress.rate.toFixed(1)} checks/s${failed}`;
  }
}

/** "Check all", its progress (done / total, rate, time left) and Cancel. */
export function BatchBar({ batch, rowCount, toCheck, blockedReason, onCheckAll, onCancel }: BatchBarProps) {
  const running = batch?.running === true;
  const progress = batch?.progress;
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : 0;
  return (
    <div className="batch-bar">
      <button
        type="button"
        className="primary"
        data-testid="check-all"
        disabled={running || rowCount === 0 || blockedReason !== undefined}
        title={blockedReason ?? (toCheck === rowCount ? 'Check every row' : 'Check the rows without an answer')}
        onClick={onCheckAll}
      >
        Check all{rowCount > 0 && !running ? ` (${toCheck})` : ''}
      </button>
      {running && (
        <button type="button" data-testid="cancel-batch" onClick={onCancel}>
          Cancel
        </button>
      )}
      {batch && progress && (
        <>
          <div
            className={`batch-progress${running ? ' running' : ''}`}
            data-testid="batch-progress"
            role="progressbar"
            aria-label="Batch progress"
            aria-valuemin={0}
            aria-valuemax={progress.total}
            aria-valuenow={progress.done}
          >
            <div className="batch-progress-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
            <span className="batch-progress-text">{`${progress.done} / ${progress.total}`}</span>
          </div>
          <span className="muted batch-summary" data-testid="batch-summary">
            {batchSummary(batch)}
          </span>
        </>
      )}
      {blockedReason && (
        <span className="blocked-reason" role="status" data-testid="check-blocked">
          {blockedReason}
        </span>
      )}
    </div>
  );
}
