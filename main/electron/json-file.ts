import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `value` as JSON to `file` whole or not at all (a temporary file, then a rename), so a crash
 * mid-write leaves the previous settings, never half a file. `mode` 0o600 for what holds secrets.
 */
export async function writeJsonAtomic(file: string, value: unknown, options: { mode?: number; indent?: number } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, options.indent)}\n`, options.mode === undefined ? {} : { mode: options.mode });
  await rename(temp, file);
}
