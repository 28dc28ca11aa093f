import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './shared-reference.ts';

/**
 * The Electron executable, if this machine has one: the electron package's download (path.txt)
 * or ELECTRON_OVERRIDE_DIST_PATH. Never `require('electron')`: without a binary it tries to download.
 */
export function electronBinary(): string | undefined {
  const pkg = path.join(REPO_ROOT, 'node_modules', 'electron');
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const relative = existsSync(path.join(pkg, 'path.txt')) ? readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim() : undefined;
  const candidate = override
    ? path.join(override, relative ?? (process.platform === 'win32' ? 'electron.exe' : 'electron'))
    : relative && path.join(pkg, 'dist', relative);
  return candidate && existsSync(candidate) ? candidate : undefined;
}
