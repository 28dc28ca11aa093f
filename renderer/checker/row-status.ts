/**
 * What a row will be checked against and where it stands, derived from the row and the caption
 * fields above the table (the default caption and premise). Pure, so the table, the filter, the
 * sort, the export and the store all agree on it.
 */
import { hasNothingToCheck } from '../../preload/caption-warnings.ts';
import { INPUT_ERROR_CODES, type ApiError, type CheckResult } from '../../preload/wire-types.ts';
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

/** True when the row was refused for what it sends (its current text and image): a resend cannot help. */
export function isRefused(row: RowText, defaults: DefaultText): boolean {
  return row.state === 'error' && row.error !== undefined && INPUT_ERROR_CODES.has(row.error.code) && !isStale(row, defaults);
}

/** UTF-8 bytes of a text, as the service counts them for its text limit. */
export function utf8Bytes(text: string): number {
  // Counted, not encoded: no copy of a long caption on every keystroke. A lone surrogate is sent
  // as U+FFFD (3 bytes), as TextEncoder and Buffer.byteLength count it.
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** The field of this text over the service's byte limit (it would be refused, TEXT_TOO_LONG), if any. */
export function overTextLimit(text: SentText, maxTextBytes: number | undefined): 'caption' | 'premise' | undefined {
  if (maxTextBytes === undefined) return undefined;
  // Fast paths: every UTF-16 unit is at least 1 byte and at most 3.
  const over = (value: string) => value.length > maxTextBytes || (value.length * 3 > maxTextBytes && utf8Bytes(value) > maxTextBytes);
  if (over(text.caption)) return 'caption';
  if (over(text.premise)) return 'premise';
  return undefined;
}

/**
 * The field of this text in which the model would get no word, only punctuation or spaces (the
 * service would refuse it, EMPTY_TEXT), if any: the service's own rule (hasNothingToCheck), over
 * the words the model reads (`maxWords`, the model's limit, when known). An empty caption is no
 * caption (isReady) and an empty premise is none, not this.
 */
export function wordlessText(text: SentText, maxWords: number | undefined): 'caption' | 'premise' | undefined {
  if (text.caption !== '' && hasNothingToCheck(text.caption, maxWords)) return 'caption';
  if (text.premise !== '' && hasNothingToCheck(text.premise, maxWords)) return 'premise';
  return undefined;
}

/** Why the service would refuse this text as it is (over its byte limit, or no words), if it would. */
export function textRefusal(
  text: SentText,
  maxTextBytes: number | undefined,
  maxWords: number | undefined,
): { field: 'caption' | 'premise'; why: 'too-long' | 'no-words' } | undefined {
  const tooLong = overTextLimit(text, maxTextBytes);
  if (tooLong) return { field: tooLong, why: 'too-long' };
  const wordless = wordlessText(text, maxWords);
  return wordless ? { field: wordless, why: 'no-words' } : undefined;
}

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
 * True when "Check" can send the row: it has a caption, with words (`maxWords`: the model's limit)
 * and within the service's byte limit, is not in flight, and was not refused for this very text and
 * image (see INPUT_ERROR_CODES).
 */
export function isSendable(row: RowText, defaults: DefaultText, maxTextBytes?: number, maxWords?: number): boolean {
  return (
    row.state !== 'running' &&
    isReady(row, defaults) &&
    !isRefused(row, defaults) &&
    textRefusal(textToSend(row, defaults), maxTextBytes, maxWords) === undefined
  );
}

/**
 * The rows "Check" sends: sendable rows without a current answer (errors a resend can fix
 * included, so transient failures are retried); when every sendable row has one, all of them again.
 */
export function rowsToSend<T extends RowText>(rows: readonly T[], defaults: DefaultText, maxTextBytes?: number, maxWords?: number): T[] {
  const ready = rows.filter((row) => isSendable(row, defaults, maxTextBytes, maxWords));
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
