import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

const errnoCode = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Why `file` cannot be written (appended to, or created in its folder), or undefined when it can;
 * with `readBack`, also why it could not be read back (it must be a regular file).
 * Checked before any long work (a model load, a load sweep), so that its results are not lost at
 * the end for want of a place to put them.
 */
export async function outputFileProblem(file: string, options: { readBack?: boolean } = {}): Promise<string | undefined> {
  // path.resolve drops a trailing separator: `results/` would pass as a file named results.
  if (/[\\/]$/.test(file)) return 'it names a folder (it ends with a separator)';
  const folder = path.dirname(path.resolve(file));
  try {
    const info = await stat(file);
    if (info.isDirectory()) return 'it is a folder';
    // A file read back later (check --batch's results, for --resume): a FIFO would block that read, a device never end it.
    if (options.readBack && !info.isFile()) return 'it is not a regular file (a device, FIFO or socket); use --out - for stdout';
    await access(file, fsConstants.W_OK);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ENOENT') return why(code, folder, err);
  }
  // No such file yet: its folder must exist and take new files.
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) return `${folder} is not a folder`;
    await access(folder, fsConstants.W_OK);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    return code === 'ENOENT' ? `no folder ${folder}` : why(code, folder, err);
  }
}

/** A failed stat or access, in words: permission, a file where a folder should be, or the errno code. */
function why(code: string | undefined, folder: string, err: unknown): string {
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return `${folder} is not a folder`;
  return `cannot be opened (${code ?? String(err)})`;
}
