/**
 * What a row will be checked against and where it stands, derived from the row and the caption
 * fields above the table (the default caption and premise). Pure, so the table, the filter, the
 * sort, the export and the store all agree on it.
 */
import type { ApiError, CheckResult } from '../../preload/wire-types.ts';
import { SERVICE_UNAVAILABLE } from '../api/console-client.ts';

export type RowState = 'pending' | 'running' | 'done' | 'error';

/** The caption and premise a check was (or will be) sent with. */
export interface SentText {
  caption: string;
  premise: string;
}

/** The caption fields above the table: what every row without its own text is checked against. */
export type DefaultText = SentText;

/** The parts of a row this module reads (CheckRow has them all). */
export interface RowText {
  /** The row's own caption (typed in the row or from a list); '' means the caption field's. */
  readonly caption: string;
  /** The row's own premise; '' means the premise field's. */
  readonly premise: string;
  readonly state: RowState;
  readonly result?: CheckResult;
  readonly error?: ApiError;
  /** The text the answer (result or error) is for. */
  readonly checked?: SentText;
}

/**
 * Where a row stands: `nocaption` rows are never sent; `stale` rows have an answer for text that
 * has since changed (kept and shown, and checked again by the next "Check").
 */
export type RowStatus = 'nocaption' | 'unchecked' | 'running' | 'stale' | 'YES' | 'NO' | 'MAYBE' | 'ERROR';

/** The text this row goes out with now: its own, else the default. */
export function textToSend(row: RowText, defaults: DefaultText): SentText {
  return { caption: row.caption.trim() || defaults.caption.trim(), premise: row.premise.trim() || defaults.premise.trim() };
}

/** A row with no caption anywhere would only be rejected (EMPTY_TEXT): it is not sent. */
export function isReady(row: RowText, defaults: DefaultText): boolean {
  return textToSend(row, defaults).caption !== '';
}

/** True when the row has an answer for other text than it would be sent with now. */
export function isStale(row: RowText, defaults: DefaultText): boolean {
  if (!row.checked || (row.state !== 'done' && row.state !== 'error')) return false;
  const now = textToSend(row, defaults);
  return now.caption !== row.checked.caption || now.premise !== row.checked.premise;
}

export function rowStatus(row: RowText, defaults: DefaultText): RowStatus {
  if (row.state === 'running') return 'running';
  if (row.state === 'done' || row.state === 'error') {
    if (isStale(row, defaults)) return isReady(row, defaults) ? 'stale' : 'nocaption';
    if (row.state === 'error') return 'ERROR';
    if (row.result) return row.result.label;
  }
  return isReady(row, defaults) ? 'unchecked' : 'nocaption';
}

/**
 * The rows "Check" sends: ready rows without a current answer (errors included, so transient
 * failures are retried); when every ready row has one, all of them again.
 */
export function rowsToSend<T extends RowText>(rows: readonly T[], defaults: DefaultText): T[] {
  const ready = rows.filter((row) => row.state !== 'running' && isReady(row, defaults));
  const open = ready.filter((row) => {
    const status = rowStatus(row, defaults);
    return status === 'unchecked' || status === 'stale' || status === 'ERROR';
  });
  return open.length > 0 ? open : ready;
}

/** The client's code for a check the service never answered (stopped, restarting, unreachable). */
export function isServiceGone(error: ApiError | undefined): boolean {
  return error?.code === SERVICE_UNAVAILABLE;
}
