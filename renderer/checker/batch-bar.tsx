import type { BatchStatus } from './checker-store.ts';

interface BatchBarProps {
  batch: BatchStatus | undefined;
  /** How many rows the check button sends now. */
  toSend: number;
  /** True when every ready row has an answer already: the button checks them all again. */
  again: boolean;
  /** Rows that have no caption at all: never sent. */
  noCaption: number;
  /** Rows whose caption or premise is over the service's byte limit: never sent (it would refuse them). */
  tooLong: number;
  /** Rows whose caption or premise has no words, only punctuation or spaces: never sent (it would refuse them, EMPTY_TEXT). */
  noWords: number;
  maxTextBytes: number | undefined;
  /** Why checking is impossible now (service unavailable, model not ready), or undefined. */
  blockedReason: string | undefined;
  /** When (performance.now()) the service was reachable again after being unavailable; undefined while it is not. */
  serviceBack?: number;
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

/**
 * How long a batch took, as its summary says it: two significant digits under 10 s, so that the
 * time and the rate beside it agree ("8 in 1.1 s · 7.0 checks/s", not "in 1 s").
 */
export function formatElapsed(seconds: number): string {
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  return seconds < 10 ? `${seconds.toFixed(1)} s` : formatDuration(seconds);
}

/** True when the batch stopped for want of the service and the service has been back since it stopped. */
function serviceBackSince(batch: BatchStatus, serviceBack: number | undefined): boolean {
  if (!batch.serviceGone || batch.running || serviceBack === undefined) return false;
  return serviceBack >= batch.startedAt + (batch.elapsedS ?? 0) * 1000;
}

function batchSummary(batch: BatchStatus, serviceBack: number | undefined): string {
  const { progress } = batch;
  // "error", as the counts under it say: a failed check is a row with an error.
  const failed = progress.failed > 0 ? ` · ${progress.failed} error${progress.failed === 1 ? '' : 's'}` : '';
  // Rows removed from the table before their answer came are not in the figures: said apart.
  const removed = batch.removed > 0 ? ` · ${batch.removed} removed before ${batch.removed === 1 ? 'it was' : 'they were'} checked` : '';
  if (batch.running) {
    const left = progress.eta_s === null ? 'estimating time left' : `about ${formatDuration(progress.eta_s)} left`;
    return `${progress.rate.toFixed(1)} checks/s · ${left}${failed}${removed}`;
  }
  const took = batch.elapsedS === undefined ? '' : ` in ${formatElapsed(batch.elapsedS)}`;
  switch (batch.outcome) {
    case 'cancelled':
      return `Cancelled after ${progress.done} of ${progress.total}${took}${failed}${removed}`;
    case 'failed':
      if (serviceBackSince(batch, serviceBack)) return `The service is back: press Check to continue${failed}${removed}`;
      return `Stopped: ${batch.message ?? 'the batch failed'}${failed}${removed}`;
    default:
      return `Finished ${progress.total}${took} · ${progress.rate.toFixed(1)} checks/s${failed}${
        batch.skipped > 0 ? ` · ${batch.skipped} without a caption not sent` : ''
      }${removed}`;
  }
}

function buttonText(toSend: number, again: boolean, running: boolean): string {
  if (running) return 'Checking…';
  if (toSend === 0) return 'Check';
  return again ? `Check all ${toSend} again` : `Check ${toSend} ready`;
}

/** The check button (how many rows it sends), the batch's progress (done / total, rate, time left) and Cancel. */
export function BatchBar(props: BatchBarProps) {
  const { batch, toSend, again, noCaption, tooLong, noWords, maxTextBytes, blockedReason, serviceBack, onCheckAll, onCancel } = props;
  const running = batch?.running === true;
  const tooLongText =
    tooLong > 0
      ? `${tooLong} row${tooLong === 1 ? ' has a caption or premise' : 's have a caption or premise'} over the service's limit of ${maxTextBytes?.toLocaleString('en-US')} bytes ` +
        'and will not be sent (it would refuse it): shorten it'
      : undefined;
  const noWordsText =
    noWords > 0
      ? `${noWords} row${noWords === 1 ? ' has a caption or premise' : 's have a caption or premise'} with no words, only punctuation or spaces, ` +
        'and will not be sent (it would refuse it, EMPTY_TEXT): give a sentence'
      : undefined;
  const progress = batch?.progress;
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : 0;
  return (
    <div className="batch-bar">
      <button
        type="button"
        className="primary"
        data-testid="check-all"
        disabled={running || toSend === 0 || blockedReason !== undefined}
        title={
          blockedReason ??
          (toSend === 0
            ? (tooLongText ?? noWordsText ?? 'Nothing to check: add images and type a caption')
            : again
              ? 'Every row has an answer: check them all again'
              : 'Check the rows that have a caption and no answer yet')
        }
        onClick={onCheckAll}
      >
        {buttonText(toSend, again, running)}
      </button>
      {running && (
        <button type="button" data-testid="cancel-batch" onClick={onCancel}>
          Cancel
        </button>
      )}
      {noCaption > 0 && !running && (
        <span className="no-caption-hint" data-testid="no-caption-hint">
          {noCaption} row{noCaption === 1 ? ' has' : 's have'} no caption and will not be sent: type one above or in the row
        </span>
      )}
      {tooLongText && !running && (
        <span className="too-long-hint" data-testid="too-long-hint">
          {tooLongText}
        </span>
      )}
      {noWordsText && !running && (
        <span className="too-long-hint" data-testid="no-words-hint">
          {noWordsText}
        </span>
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
            <div className="batch-progress-fill" style={{ transform: `scaleX(${fraction.toFixed(4)})` }} />
            <span className="batch-progress-text">{`${progress.done} / ${progress.total}`}</span>
          </div>
          <span className="muted batch-summary" data-testid="batch-summary">
            {batchSummary(batch, serviceBack)}
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
