/** Throws on bytes that are not UTF-8; keeps a byte-order mark, so that a JSON body starting with one is still refused. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as UTF-8, or undefined when they are not UTF-8: a caption must never be scored, nor a mark
 * named, with the U+FFFD a lenient decoder puts for bad bytes (a text may hold a U+FFFD of its own,
 * so only the bytes can tell).
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
