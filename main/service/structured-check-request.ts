import type { CheckPair } from '../../preload/wire-types.ts';
import type { InputLimits } from '../config.ts';
import { CheckError } from '../errors.ts';
import { checkImageFileSize, checkTextSize } from '../inference/input-size.ts';

/**
 * A check request that arrives as structured values rather than multipart bytes: a JSON body
 * (after JSON.parse) and IPC from the renderer (whatever the structured clone of a page's
 * arguments holds). One set of checks and messages for both, so a misbehaving or hostile caller
 * gets BAD_REQUEST for the same mistake either way, never an internal error.
 */

/** The text fields checked, the image not yet. `what` names the value in the message: "the JSON body", "the request". */
export function structuredFields(value: unknown, what: string): CheckPair<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckError('BAD_REQUEST', `${what} must be an object with "image", "text" and optional "premise"`);
  }
  const { image, text, premise } = value as Record<string, unknown>;
  return { image, ...textFields(text, premise) };
}

function textFields(text: unknown, premise: unknown): { text: string; premise: string | undefined } {
  if (text === undefined || text === null) throw new CheckError('BAD_REQUEST', '"text" is required');
  if (typeof text !== 'string') throw new CheckError('BAD_REQUEST', '"text" must be a string');
  if (premise !== undefined && premise !== null && typeof premise !== 'string')
    throw new CheckError('BAD_REQUEST', '"premise" must be a string');
  return { text, premise: typeof premise === 'string' ? premise : undefined };
}

/** The longest `checkId` an IPC check may carry (a UUID is 36 characters). */
export const MAX_CHECK_ID_LENGTH = 64;

function isCheckId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_CHECK_ID_LENGTH;
}

/**
 * The `checkId` an IPC check:run request carries, by which the page may cancel it (check:cancel);
 * undefined when it has none or a malformed one (which structuredCheckRequest refuses).
 */
export function cancellableCheckId(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const id = (value as { checkId?: unknown }).checkId;
  return isCheckId(id) ? id : undefined;
}

/**
 * An IPC check:run request: the image as the file's bytes, and optionally the `checkId` the page
 * names it by to cancel it. Its sizes are checked here, before it is queued and copied to the
 * inference worker, as the HTTP server refuses them while reading the body.
 */
export function structuredCheckRequest(value: unknown, limits: InputLimits): CheckPair {
  const fields = structuredFields(value, 'the request');
  const { checkId } = value as { checkId?: unknown };
  if (checkId !== undefined && !isCheckId(checkId))
    throw new CheckError('BAD_REQUEST', `"checkId" must be a string of 1 to ${MAX_CHECK_ID_LENGTH} characters`);
  if (!(fields.image instanceof Uint8Array))
    throw new CheckError('BAD_REQUEST', '"image" must be the bytes of an image file (a Uint8Array)');
  checkImageFileSize(fields.image.byteLength, limits.maxImageBytes);
  checkTextSize('text', fields.text, limits.maxTextBytes);
  if (fields.premise !== undefined) checkTextSize('premise', fields.premise, limits.maxTextBytes);
  return { image: fields.image, text: fields.text, premise: fields.premise };
}
