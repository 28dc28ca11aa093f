import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/support/ → ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Reference data for parity tests lives in ../shared beside the checkout (CI always has it; a
 * user's clone does not). Returns the folder, or undefined so the test can say it was skipped.
 */
export function sharedReference(folder: 'ofa-tokenizer' | 'preprocess-reference'): string | undefined {
  const dir = path.resolve(REPO_ROOT, '..', 'shared', folder);
  return existsSync(dir) ? dir : undefined;
}

export const DEMO_MODEL_DIR = path.join(REPO_ROOT, 'models', 'demo');
