import type { CheckError } from '../errors.ts';

/**
 * `ofa-ve` exit statuses (DESIGN.md): scripts rely on them. FAILURE: something did not finish
 * (for `check --batch`: rows that failed on our side, which `--resume` retries). INTERRUPTED:
 * stopped by Ctrl-C (SIGINT; a SIGTERM exits 143, 128 + its number, as shells report it).
 * OUTPUT_FAILED: results could not be written (stdout closed by its reader, a full disk), so the
 * command stopped rather than compute results no one gets.
 */
export const EXIT = { OK: 0, FAILURE: 1, BAD_INPUT: 2, MODEL_ERROR: 3, OUTPUT_FAILED: 4, INTERRUPTED: 130 } as const;

export function exitCodeFor(error: CheckError): number {
  return error.isInputError ? EXIT.BAD_INPUT : EXIT.MODEL_ERROR;
}

/** Raised for a malformed command line; reported with the usage text, exit 2. */
export class UsageError extends Error {}

/**
 * A file or folder named on the command line that cannot be used (no such folder, a folder where a
 * file is wanted, ...): exit 2 like any usage error, but reported on one line, without the usage text.
 */
export class PathError extends UsageError {}
