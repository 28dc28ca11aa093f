import { CheckError } from '../errors.ts';

export const STATS_WINDOWS = { min: 1, max: 900, default: 60 } as const;

/**
 * `?window=N` for /api/v1/stats and /api/v1/events: plain decimal digits only. `Number()` alone
 * would take '0x3c', ' 60', '060', '6e1' and '60.0'; a window is a count of seconds, written one way.
 */
export function parseWindow(url: URL): number {
  const values = url.searchParams.getAll('window');
  if (values.length === 0) return STATS_WINDOWS.default;
  const raw = values[0] as string;
  if (values.length > 1 || !/^[1-9][0-9]{0,2}$/.test(raw) || Number(raw) > STATS_WINDOWS.max) {
    throw new CheckError(
      'BAD_REQUEST',
      `window must be one whole number of seconds from ${STATS_WINDOWS.min} to ${STATS_WINDOWS.max}, in plain digits`,
    );
  }
  return Number(raw);
}
