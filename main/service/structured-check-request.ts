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

/**
 * An IPC check:run request: the image as the file's bytes. Its sizes are checked here, before it
 * is queued and copied to the inference worker, as the HTTP server refuses them while reading the body.
 */
export function structuredCheckRequest(value: unknown, limits: InputLimits): CheckPair {
  const fields = structuredFields(value, 'the request');
  if (!(fields.image instanceof Uint8Array))
    throw new CheckError('BAD_REQUEST', '"image" must be the bytes of an image file (a Uint8Array)');
  checkImageFileSize(fields.image.byteLength, limits.maxImageBytes);
  checkTextSize('text', fields.text, limits.maxTextBytes);
  if (fields.premise !== undefined) checkTextSize('premise', fields.premise, limits.maxTextBytes);
  return { image: fields.image, text: fields.text, premise: fields.premise };
}
