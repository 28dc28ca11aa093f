import { CheckError } from '../errors.ts';

/**
 * The byte limits of one check's input, with their messages: checked where the input is read
 * (the image decoder, the tokenizer) and, for a check that arrives whole (IPC), before it is
 * queued and copied to the inference worker. No heavy imports: the service process loads this.
 */

function describeSize(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * A size and its limit as a refusal says them: rounded ("1.2 MiB"), or exact in `unit` where the
 * rounded forms would read the same ("1.0 MiB; the limit is 1.0 MiB" says nothing).
 */
export function sizeAndLimit(value: number, limit: number, describe: (n: number) => string, unit: string): [string, string] {
  const [size, max] = [describe(value), describe(limit)];
  return size === max ? [`${value} ${unit}`, `${limit} ${unit}`] : [size, max];
}

/** IMAGE_TOO_LARGE for an image file of more than `maxBytes`. */
export function checkImageFileSize(bytes: number, maxBytes: number): void {
  if (bytes <= maxBytes) return;
  const [size, limit] = sizeAndLimit(bytes, maxBytes, describeSize, 'bytes');
  throw new CheckError('IMAGE_TOO_LARGE', `image file is ${size}; the limit is ${limit}`);
}

/** TEXT_TOO_LONG for a caption or premise of more than `maxTextBytes` UTF-8 bytes. */
export function checkTextSize(field: 'text' | 'premise', value: string, maxTextBytes: number): void {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxTextBytes) throw new CheckError('TEXT_TOO_LONG', `the ${field} is ${bytes} bytes; the limit is ${maxTextBytes}`);
}
