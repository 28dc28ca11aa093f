import { constants as fsConstants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { CheckError } from '../errors.ts';

/** The codes that are about the image itself: `ofa-ve check` names the file in their message. */
const IMAGE_CODES: ReadonlySet<string> = new Set(['INVALID_IMAGE', 'IMAGE_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);

/** A read grows its buffer by at most this much at a time past the size fstat gave. */
const GROWTH_CHUNK = 64 * 1024;

/** Why this is no image file to read, or undefined for a regular file within the limit. */
function kindProblem(info: Stats, maxBytes: number): CheckError | undefined {
  if (info.isDirectory()) return new CheckError('INVALID_IMAGE', 'is a directory');
  // A device (/dev/zero never ends), a FIFO (blocks until a writer comes) or a socket: never read.
  if (!info.isFile()) return new CheckError('INVALID_IMAGE', 'not a regular file (a device, FIFO or socket)');
  if (info.size > maxBytes) return new CheckError('IMAGE_TOO_LARGE', `image file is ${info.size} bytes; the limit is ${maxBytes}`);
  return undefined;
}

function readError(err: unknown): CheckError {
  if (err instanceof CheckError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  // INVALID_IMAGE for every "no usable image here", as the HTTP API answers bytes that are none.
  return new CheckError('INVALID_IMAGE', code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read');
}

/** Reads from the handle until EOF, never holding more than maxBytes + 1 bytes. */
async function readBounded(handle: FileHandle, sizeHint: number, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  // fstat's size first (one read and the EOF read for a file that stays put); a file growing
  // meanwhile, or a /proc file that says 0, is read on in chunks up to the limit.
  let want = Math.min(sizeHint, maxBytes) + 1;
  while (total <= maxBytes) {
    const buffer = Buffer.allocUnsafe(Math.min(want, maxBytes + 1 - total));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, total);
    if (bytesRead === 0) break;
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
    want = GROWTH_CHUNK;
  }
  if (total > maxBytes) throw new CheckError('IMAGE_TOO_LARGE', `image file grew past the ${maxBytes}-byte limit while being read`);
  return Buffer.concat(chunks, total);
}

/**
 * An image file's bytes, for `ofa-ve check` and each row of `check --batch`: a missing, unreadable
 * or non-regular file is INVALID_IMAGE, one over `maxBytes` IMAGE_TOO_LARGE. The path is stat'ed
 * before it is opened (a device is never opened), then opened once with O_NONBLOCK (a FIFO with no
 * writer does not block the open) and the handle fstat'ed (the path may have been swapped meanwhile);
 * the read stops at maxBytes + 1 bytes whatever the file does.
 */
export async function readImageFile(file: string, maxBytes: number): Promise<Uint8Array> {
  let handle: FileHandle | undefined;
  try {
    const problem = kindProblem(await stat(file), maxBytes);
    if (problem) throw problem;
    // O_NONBLOCK is undefined on Windows, which has no FIFOs to open.
    handle = await open(file, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
    const info = await handle.stat();
    const changed = kindProblem(info, maxBytes);
    if (changed) throw changed;
    return await readBounded(handle, info.size, maxBytes);
  } catch (err) {
    throw readError(err);
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** The same error with `file: ` before its message when it is about the image (`ofa-ve check` names it). */
export function namingImageFile(file: string, err: unknown): unknown {
  if (err instanceof CheckError && IMAGE_CODES.has(err.code)) return new CheckError(err.code, `${file}: ${err.message}`);
  return err;
}
