/**
 * Hand-built multipart/form-data bodies, byte for byte, so tests can send what FormData never
 * would: duplicate or missing parts, odd part headers, a boundary that does not match, a body cut
 * short or without its closing delimiter.
 */

export interface FormPart {
  /** The `name` in Content-Disposition; undefined leaves the parameter out. */
  name?: string;
  /** Present → a file part (`filename="…"`); absent → a plain field. */
  filename?: string;
  contentType?: string;
  /** Extra raw header lines for this part (no CRLF). */
  headers?: readonly string[];
  data: Uint8Array | string;
}

export const DEFAULT_BOUNDARY = '----ofa-ve-test-boundary-7MA4YWxkTrZu0gW';

/** The raw header block of one part (without the blank line that ends it). */
export function partHeaders(part: FormPart): string {
  const disposition = ['form-data'];
  if (part.name !== undefined) disposition.push(`name="${part.name}"`);
  if (part.filename !== undefined) disposition.push(`filename="${part.filename}"`);
  const lines = [`Content-Disposition: ${disposition.join('; ')}`];
  if (part.contentType !== undefined) lines.push(`Content-Type: ${part.contentType}`);
  lines.push(...(part.headers ?? []));
  return lines.join('\r\n');
}

/** One part: delimiter line, headers, blank line, data, CRLF. */
export function encodePart(part: FormPart, boundary = DEFAULT_BOUNDARY): Buffer {
  return Buffer.concat([Buffer.from(`--${boundary}\r\n${partHeaders(part)}\r\n\r\n`, 'utf8'), Buffer.from(part.data), Buffer.from('\r\n')]);
}

/** A complete body: the parts, then the closing delimiter `--boundary--` (unless `close` is false). */
export function multipartBody(parts: readonly FormPart[], options: { boundary?: string; close?: boolean } = {}): Buffer {
  const boundary = options.boundary ?? DEFAULT_BOUNDARY;
  const chunks = parts.map((p) => encodePart(p, boundary));
  if (options.close !== false) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export function multipartType(boundary = DEFAULT_BOUNDARY): string {
  return `multipart/form-data; boundary=${boundary}`;
}

/** The usual request: an `image` file part and a `text` field (and `premise` when given). */
export function checkParts(image: Uint8Array, text: string, premise?: string, filename = 'photo.png'): FormPart[] {
  const parts: FormPart[] = [
    { name: 'image', filename, contentType: 'application/octet-stream', data: image },
    { name: 'text', data: text },
  ];
  if (premise !== undefined) parts.push({ name: 'premise', data: premise });
  return parts;
}
