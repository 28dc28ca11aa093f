import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Bearer-token check in constant time: both sides are hashed first, so neither the comparison nor
 * an early length mismatch reveals how much of a guess was right.
 */
export function bearerAuthorizer(token: string | undefined): (req: IncomingMessage) => boolean {
  if (!token) return () => true;
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    return timingSafeEqual(given, expected) && match !== null;
  };
}

/** Loopback addresses that may be served without a token. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}
