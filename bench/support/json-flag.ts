import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `--json FILE` on a bench script's command line: its result is also written there (for bench:report). */
export function writeJsonFlag(result: unknown): void {
  const i = process.argv.indexOf('--json');
  const file = i >= 0 ? process.argv[i + 1] : undefined;
  if (!file) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
}
