import { readFile, stat } from 'node:fs/promises';
import type { CheckResult } from '../../../preload/wire-types.ts';
import { CheckError, toCheckError } from '../../errors.ts';
import type { CheckService } from '../../service/check-service.ts';
import { checkResultDocument } from '../../service/response-documents.ts';
import type { BatchRow } from './batch-list.ts';

/**
 * What became of one row: an answer; a refusal of its input (final: recorded, never retried); or
 * a failure of ours (OVERLOADED, TIMEOUT, INTERNAL, ...: not recorded, so --resume retries it).
 */
export type RowOutcome =
  | { readonly kind: 'answered'; readonly result: CheckResult }
  | { readonly kind: 'refused'; readonly error: CheckError }
  | { readonly kind: 'failed'; readonly error: CheckError };

/** The image's bytes; a missing, unreadable or oversized file is the row's bad input. */
async function readImage(file: string, maxBytes: number): Promise<Uint8Array> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new CheckError('INVALID_IMAGE', 'is a directory');
    // Checked before reading: a list may name a huge file by mistake.
    if (info.size > maxBytes) throw new CheckError('IMAGE_TOO_LARGE', `image file is ${info.size} bytes; the limit is ${maxBytes}`);
    return await readFile(file);
  } catch (err) {
    if (err instanceof CheckError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // INVALID_IMAGE, as `ofa-ve check` reports a missing file: one code for "no usable image here".
    throw new CheckError('INVALID_IMAGE', code === 'ENOENT' ? 'no such file' : 'cannot be read');
  }
}

/** Checks one row through the service (the same validation, batching and metrics as the API). Never rejects. */
export async function checkRow(service: CheckService, row: BatchRow, maxImageBytes: number): Promise<RowOutcome> {
  try {
    // Said in the list's terms: the service's own message would not say where a caption comes from.
    if (row.caption === '') throw new CheckError('EMPTY_TEXT', 'no caption: the list gives none for this row, and no --caption was given');
    const image = await readImage(row.file, maxImageBytes);
    const answer = await service.check({ image, text: row.caption, ...(row.premise ? { premise: row.premise } : {}) });
    return { kind: 'answered', result: checkResultDocument(answer) };
  } catch (err) {
    const error = toCheckError(err);
    return error.isInputError ? { kind: 'refused', error } : { kind: 'failed', error };
  }
}
