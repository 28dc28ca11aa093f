import type { CheckError } from '../errors.ts';
import type { CliIo } from './cli-io.ts';
import { exitCodeFor } from './exit-codes.ts';

/**
 * How `check` and `check --batch` report a failure that ends the command: "error CODE: message" on
 * stderr and, with --json, `{"error": {code, message}}` on stdout (so a script reading stdout
 * always gets one JSON object). Returns the exit status.
 */
export function reportCheckError(io: CliIo, error: CheckError, json: boolean): number {
  io.stderr(`error ${error.code}: ${error.message}`);
  if (json) io.stdout(JSON.stringify({ error: error.toJSON() }));
  return exitCodeFor(error);
}
