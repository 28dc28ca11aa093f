import type { CheckResult } from '../../../preload/wire-types.ts';
import { CheckError, toCheckError } from '../../errors.ts';
import type { CheckService } from '../../service/check-service.ts';
import { readImageFile } from '../image-file.ts';
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

/** Checks one row through the service (the same validation, batching and metrics as the API). Never rejects. */
export async function checkRow(service: CheckService, row: BatchRow, maxImageBytes: number): Promise<RowOutcome> {
  try {
    // Said in the list's terms: the service's own message would not say where a caption comes from.
    if (row.caption === '') throw new CheckError('EMPTY_TEXT', 'no caption: the list gives none for this row, and no --caption was given');
    const image = await readImageFile(row.file, maxImageBytes);
    const answer = await service.check({ image, text: row.caption, ...(row.premise ? { premise: row.premise } : {}) });
    return { kind: 'answered', result: checkResultDocument(answer) };
  } catch (err) {
    const error = toCheckError(err);
    return error.isInputError ? { kind: 'refused', error } : { kind: 'failed', error };
  }
}
