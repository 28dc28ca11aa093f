import type { CheckError } from '../errors.ts';

/** `ofa-ve` exit statuses (DESIGN.md): scripts rely on them. */
export const EXIT = { OK: 0, FAILURE: 1, BAD_INPUT: 2, MODEL_ERROR: 3 } as const;

export function exitCodeFor(error: CheckError): number {
  return error.isInputError ? EXIT.BAD_INPUT : EXIT.MODEL_ERROR;
}

/** Raised for a malformed command line; reported with the usage text, exit 2. */
export class UsageError extends Error {}
