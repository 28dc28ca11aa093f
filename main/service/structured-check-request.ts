import { CheckError } from '../errors.ts';
import type { CheckRequest } from './check-service.ts';

/**
 * A check request that arrives as structured values rather than bytes on a socket: IPC from the
 * renderer (whatever the structured clone of a page's arguments holds). Its fields are checked
 * with the codes the HTTP API gives for the same mistakes in a JSON body, so a misbehaving or
 * hostile page gets BAD_REQUEST, never an internal error.
 */
export function structuredCheckRequest(value: unknown): CheckRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckError('BAD_REQUEST', 'the request must be an object with "image", "text" and optional "premise"');
  }
  const { image, text, premise } = value as Record<string, unknown>;
  if (!(image instanceof Uint8Array)) throw new CheckError('BAD_REQUEST', '"image" must be the bytes of an image file (a Uint8Array)');
  if (text === undefined || text === null) throw new CheckError('BAD_REQUEST', '"text" is required');
  if (typeof text !== 'string') throw new CheckError('BAD_REQUEST', '"text" must be a string');
  if (premise !== undefined && premise !== null && typeof premise !== 'string') throw new CheckError('BAD_REQUEST', '"premise" must be a string');
  return { image, text, premise: typeof premise === 'string' ? premise : undefined };
}
