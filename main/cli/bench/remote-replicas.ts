/**
 * The running instances `ofa-ve bench --url` loads (one `--url` per replica; one token for all):
 * their URLs checked on the command line, what each says it serves, and their batch-size
 * histograms summed (the mean batch size of a step over the whole fleet).
 */
import type { ModelDocument } from '../../../preload/wire-types.ts';
import { EXIT, UsageError } from '../exit-codes.ts';
import { histogramSumCount } from './step-report.ts';

/**
 * The --url values as the report names them (no trailing slash). Each must be http(s), and none
 * twice: per-replica figures are keyed by URL, and a replica listed twice would just get twice the load.
 */
export function replicaUrls(given: readonly string[]): string[] {
  const urls = given.map((u) => u.trim().replace(/\/+$/, ''));
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url ${url}: not a URL (http://HOST:PORT)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url ${url}: must be http:// or https://`);
  }
  const twice = urls.find((url, i) => urls.indexOf(url) !== i);
  if (twice !== undefined) throw new UsageError(`--url ${twice} is given more than once`);
  return urls;
}

/** How the report and the text output name a replica: host:port, and the path when there is one. */
export function replicaLabel(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

function authorization(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export interface ReplicaModel {
  name: string;
  version: string;
  provider: string;
  demo: boolean;
}

/** A replica ready to be loaded, or why it is not (with the exit status that says so). */
// Not an Outcome: a failure carries the CLI's exit status, not an API error code.
export type ReplicaDescription =
  { ok: true; url: string; model: ReplicaModel; maxBatchSize: number } | { ok: false; message: string; exit: number };

/** GET /api/v1/model of one replica: the model it serves and its max batch size. */
export async function describeReplica(url: string, token: string | undefined): Promise<ReplicaDescription> {
  let res: Response;
  try {
    res = await fetch(`${url}/api/v1/model`, { headers: authorization(token), signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return { ok: false, message: `${url}: not reachable (${cause})`, exit: EXIT.FAILURE };
  }
  let doc: Partial<ModelDocument> & { error?: unknown };
  try {
    doc = (await res.json()) as typeof doc;
  } catch {
    return { ok: false, message: `${url}: /api/v1/model answered ${res.status} without JSON; is it an ofa-ve serve?`, exit: EXIT.FAILURE };
  }
  if (!res.ok) {
    const code = (doc.error as { code?: string } | undefined)?.code ?? '';
    const hint = res.status === 401 ? ' (--token or OFA_VE_TOKEN)' : '';
    return { ok: false, message: `${url}: /api/v1/model answered ${res.status} ${code}${hint}`.trimEnd(), exit: EXIT.FAILURE };
  }
  if (!doc.model) return { ok: false, message: `${url} has no model loaded`, exit: EXIT.MODEL_ERROR };
  const { name, version, provider, demo } = doc.model;
  return { ok: true, url, model: { name, version, provider, demo }, maxBatchSize: maxBatchSizeOf(doc.batching) };
}

/**
 * A replica's max batch size; 0 when it does not say. Replicas before the document's snake_case
 * keys said maxBatchSize: a fleet mid-upgrade has both.
 */
function maxBatchSizeOf(batching: unknown): number {
  const doc = (batching ?? {}) as { max_batch_size?: unknown; maxBatchSize?: unknown };
  const size = doc.max_batch_size ?? doc.maxBatchSize;
  return typeof size === 'number' && Number.isInteger(size) && size > 0 ? size : 0;
}

/** Sum and count of ofa_ve_batch_size over the replicas' /metrics (NaN if one has none). */
export async function fleetBatchSizes(urls: readonly string[], token: string | undefined): Promise<{ sum: number; count: number }> {
  const expositions = await Promise.all(
    urls.map(async (url) => (await fetch(`${url}/metrics`, { headers: authorization(token), signal: AbortSignal.timeout(10_000) })).text()),
  );
  return expositions
    .map((text) => histogramSumCount(text, 'ofa_ve_batch_size'))
    .reduce((total, one) => ({ sum: total.sum + one.sum, count: total.count + one.count }), { sum: 0, count: 0 });
}
