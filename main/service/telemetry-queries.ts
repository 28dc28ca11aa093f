/**
 * The telemetry queries the API answers beside the stats document: marks, input slices and the
 * comparison of two periods. Parsing and validation live here, once, so that the HTTP server (and
 * any other adapter) only routes: every problem with a query is a CheckError BAD_REQUEST naming it.
 */
import { CheckError } from '../errors.ts';
import { isSliceAttribute, SLICE_ATTRIBUTES, type SliceAttribute } from '../telemetry/input-slices.ts';
import type { Mark, PeriodComparison, SlicesSnapshot } from '../../preload/wire-types.ts';
import type { LiveStats } from '../telemetry/live-stats.ts';
import { decodeUtf8 } from '../strict-utf8.ts';

/** A mark's body is a name and maybe a time: a few hundred bytes is plenty. */
export const MAX_MARK_BODY_BYTES = 4096;

const badRequest = (message: string): CheckError => new CheckError('BAD_REQUEST', message);

function rethrownAsBadRequest(err: unknown): never {
  if (err instanceof RangeError) throw badRequest(err.message);
  throw err;
}

/**
 * A RangeError from a computation (LiveStats: an empty range, a bad name; the Prometheus readers: a
 * bad window or range) is the caller's mistake: 400 with its message. For a promise, when it settles.
 */
export function asBadRequest<T>(run: () => T): T {
  try {
    const value = run();
    return (value instanceof Promise ? value.catch(rethrownAsBadRequest) : value) as T;
  } catch (err) {
    return rethrownAsBadRequest(err);
  }
}

/** One query parameter given at most once; undefined when absent. */
export function single(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length > 1) throw badRequest(`${name} may be given once`);
  return values[0];
}

function attributeOf(url: URL, required: boolean): SliceAttribute | undefined {
  const raw = single(url, 'attribute');
  if (raw === undefined || raw === '') {
    if (required) throw badRequest(`attribute is required: one of ${SLICE_ATTRIBUTES.join(', ')}`);
    return undefined;
  }
  if (!isSliceAttribute(raw)) throw badRequest(`attribute must be one of ${SLICE_ATTRIBUTES.join(', ')}`);
  return raw;
}

/** Epoch milliseconds in plain digits (a time to compare from or to). */
export function epochMs(url: URL, name: string): number {
  const raw = single(url, name);
  if (raw === undefined || !/^[0-9]{1,16}$/.test(raw)) throw badRequest(`${name} must be a time in epoch milliseconds, in plain digits`);
  return Number(raw);
}

/** `GET /api/v1/slices?window=N&attribute=A`: per slice figures of one attribute (window as for /stats). */
export function slicesQuery(stats: LiveStats, url: URL, window: number): SlicesSnapshot {
  return slicesOf(stats, window, attributeOf(url, true));
}

/**
 * `GET /api/v1/compare?a_from=&a_to=&b_from=&b_to=[&attribute=]`: period b against period a
 * (differences b − a); times in epoch ms, each `to` exclusive.
 */
export function compareQuery(stats: LiveStats, url: URL): PeriodComparison {
  const a = { from_ms: epochMs(url, 'a_from'), to_ms: epochMs(url, 'a_to') };
  const b = { from_ms: epochMs(url, 'b_from'), to_ms: epochMs(url, 'b_to') };
  return compareOf(stats, a, b, attributeOf(url, false));
}

/** Per slice figures of one attribute over the last `windowS` seconds; what HTTP parsed or IPC was sent, checked once. */
export function slicesOf(stats: LiveStats, windowS: unknown, attribute: unknown): SlicesSnapshot {
  if (!isSliceAttribute(attribute)) throw badRequest(`attribute must be one of ${SLICE_ATTRIBUTES.join(', ')}`);
  if (typeof windowS !== 'number') throw badRequest('window must be a whole number of seconds');
  // Past the retention it is refused (400), as HTTP's ?window= is, not shortened without a word.
  return asBadRequest(() => stats.snapshotSlices(windowS, attribute));
}

/** One side of a comparison: `{from_ms, to_ms}`, whole epoch milliseconds. */
function rangeOf(side: unknown, name: string): { fromMs: number; toMs: number } {
  const { from_ms: fromMs, to_ms: toMs } = (typeof side === 'object' && side !== null ? side : {}) as {
    from_ms?: unknown;
    to_ms?: unknown;
  };
  const valid = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!valid(fromMs) || !valid(toMs)) throw badRequest(`range ${name} needs from_ms and to_ms, times in whole epoch milliseconds`);
  return { fromMs, toMs };
}

/** Period b against period a, optionally per slice of `attribute` (undefined: none). */
export function compareOf(stats: LiveStats, a: unknown, b: unknown, attribute: unknown): PeriodComparison {
  if (attribute !== undefined && !isSliceAttribute(attribute)) throw badRequest(`attribute must be one of ${SLICE_ATTRIBUTES.join(', ')}`);
  const [rangeA, rangeB] = [rangeOf(a, 'a'), rangeOf(b, 'b')];
  return asBadRequest(() => stats.compare(rangeA, rangeB, attribute === undefined ? {} : { attribute }));
}

/** `POST /api/v1/marks` with `{"name": "...", "at": epochMs?}` (default now): the mark as kept. */
export function addMarkFromBody(stats: LiveStats, body: unknown): Mark {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object {"name", "at"?}');
  const { name, at } = body as { name?: unknown; at?: unknown };
  if (typeof name !== 'string') throw badRequest('name must be a string');
  if (at !== undefined && typeof at !== 'number') throw badRequest('at must be a time in epoch milliseconds');
  return asBadRequest(() => stats.addMark(name, at, 'user'));
}

/** Reads a small JSON body (a mark): 413 past `maxBytes`, 400 when it is not UTF-8 JSON. */
export async function readSmallJson(body: AsyncIterable<Uint8Array>, maxBytes = MAX_MARK_BODY_BYTES): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new CheckError('PAYLOAD_TOO_LARGE', `the body is over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  // JSON is UTF-8: a lenient decoding would keep a U+FFFD in a mark's name.
  const text = decodeUtf8(Buffer.concat(chunks));
  if (text === undefined) throw badRequest('the body is not valid UTF-8');
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest('the body is not valid JSON');
  }
}
