/**
 * Seeded, bounded fuzzing of POST /api/v1/check against the real `ofa-ve serve` process (a separate
 * process, so a crash shows as a dead server rather than a failed assertion in this one).
 *
 * A few thousand requests from test/support/check-request-fuzzer.ts (valid, mutated and random
 * multipart and JSON, random content types and headers, chunked bodies, other methods; over a raw
 * socket: heads Node's parser refuses, request targets that are not URLs, clients that hang up),
 * eight at a time. Proven:
 * - never a 5xx, and every error body is `{"error":{"code","message"}}` with the status of its code
 *   and no stack trace; other methods than POST get 405 METHOD_NOT_ALLOWED with `Allow: POST`;
 * - never a crash: the server process is alive at the end and /healthz answers;
 * - never a hang: every request is answered within REQUEST_TIMEOUT_MS;
 * - the totals add up: the sum of ofa_ve_request_total equals the POSTs that reached the check
 *   route, per status as the clients saw them (heads Node's parser refuses are answered with the JSON
 *   400, or a bare 431, and not counted, nor are other methods; they are tallied apart; hang-ups count as 499).
 *
 * FUZZ_SEED (default below) and FUZZ_REQUESTS (default 3000) explore further, e.g.
 * `FUZZ_SEED=$RANDOM FUZZ_REQUESTS=20000 node --import tsx --test test/integration/fuzz-http.test.ts`.
 * A failure names the request index: fuzzRequest(seed, index, …) rebuilds that request alone.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ERROR_STATUS, type ErrorCode } from '../../main/errors.ts';
import { buildImageCorpus } from '../fixtures/image-corpus.ts';
import { fuzzRequest, type FuzzMaterial, type FuzzRequest } from '../support/check-request-fuzzer.ts';
import { rawRequest } from '../support/raw-http.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { requestTotals } from '../support/service-harness.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 0x0fa7e5ed);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 15_000;

interface Outcome {
  status: number;
  body: string;
  /** The Allow header (405s must name the methods the route serves). */
  allow?: string;
  error?: string;
}

function sendHttp(url: URL, agent: http.Agent, req: FuzzRequest): Promise<Outcome> {
  // Framing stated explicitly: for GET, DELETE and OPTIONS node:http would otherwise send a body
  // with neither Content-Length nor chunked encoding, which the server reads as the next request.
  const headers: Record<string, string> = { ...req.headers };
  if (req.body.length === 1) headers['content-length'] = String(req.body[0]!.length);
  else headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve) => {
    const outgoing = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), allow: res.headers.allow }),
        );
        res.on('error', (err) => resolve({ status: res.statusCode ?? 0, body: '', error: `response: ${err.message}` }));
      },
    );
    outgoing.on('error', (err) => resolve({ status: 0, body: '', error: `${err.name}: ${err.message}` }));
    if (req.body.length === 1) outgoing.end(req.body[0]);
    else {
      for (const piece of req.body) outgoing.write(piece);
      outgoing.end();
    }
  });
}

async function send(url: URL, agent: http.Agent, req: FuzzRequest): Promise<Outcome> {
  if (req.transport === 'http') return sendHttp(url, agent, req);
  try {
    const res = await rawRequest(Number(url.port), req.raw!, {
      timeoutMs: REQUEST_TIMEOUT_MS,
      abortAfterWrite: req.expect === 'abandoned',
    });
    return { status: res.status, body: res.body };
  } catch (err) {
    return { status: 0, body: '', error: String(err) };
  }
}

/** Why this outcome breaks the contract, or undefined when it keeps it. */
function violation(req: FuzzRequest, out: Outcome): string | undefined {
  if (req.expect === 'abandoned') return undefined;
  if (out.error) return `no answer (${out.error})`;
  if (out.status >= 500) return `status ${out.status}: ${out.body.slice(0, 200)}`;
  if (req.expect === 'node-parser') {
    // A head Node's parser refuses: the JSON 400 BAD_REQUEST (checked below), or Node's bare 431 for an oversized one.
    if (out.status === 431) return out.body === '' ? undefined : `a 431 with a body: ${out.body.slice(0, 100)}`;
    if (out.status !== 400) return `expected 400 BAD_REQUEST (or a bare 431), got ${out.status} ${out.body.slice(0, 100)}`;
  }
  if (out.status === 200) {
    if (req.expect !== 'counted') return `200 for a ${req.expect} request`;
    const answer = JSON.parse(out.body) as { label?: string; scores?: Record<string, number> };
    return /^(YES|NO|MAYBE)$/.test(answer.label ?? '') && answer.scores ? undefined : `a 200 without an answer: ${out.body.slice(0, 200)}`;
  }
  let error: { code?: string; message?: string } | undefined;
  try {
    error = (JSON.parse(out.body) as { error?: { code?: string; message?: string } }).error;
  } catch {
    return `status ${out.status} without a JSON error body: ${JSON.stringify(out.body.slice(0, 100))}`;
  }
  if (!error?.code || typeof error.message !== 'string') return `malformed error body: ${out.body.slice(0, 200)}`;
  if (ERROR_STATUS[error.code as ErrorCode] !== out.status) return `code ${error.code} with status ${out.status}`;
  if (/\n\s+at |node_modules|\.ts:\d+/.test(error.message))
    return `stack trace or source path in the message: ${error.message.slice(0, 200)}`;
  if (req.expect === 'node-parser' && error.code !== 'BAD_REQUEST') return `expected BAD_REQUEST, got ${error.code}`;
  if (req.expect === 'not-a-check') {
    // A request target that is not a URL: 400; another method than POST: 405 with Allow: POST.
    const [status, code] = req.transport === 'raw' ? [400, 'BAD_REQUEST'] : [405, 'METHOD_NOT_ALLOWED'];
    if (out.status !== status || error.code !== code) return `expected ${status} ${code}, got ${out.status} ${error.code}`;
    if (status === 405 && out.allow !== 'POST') return `a 405 with Allow ${JSON.stringify(out.allow)}, not "POST"`;
  }
  return undefined;
}

const increment = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};
const sorted = (map: Map<string, number>): Record<string, number> => Object.fromEntries([...map].sort(([a], [b]) => a.localeCompare(b)));

describe('fuzzing POST /api/v1/check (seeded, bounded) against ofa-ve serve', () => {
  let server: ServeProcess;
  let material: FuzzMaterial;
  let exited: string | undefined;

  before(async () => {
    const corpus = await buildImageCorpus();
    material = {
      images: corpus.filter((c) => c.expect === 'ok' && c.bytes.length < 16 * 1024).map((c) => c.bytes),
      badImages: corpus.filter((c) => c.expect !== 'ok' && c.bytes.length < 16 * 1024).map((c) => c.bytes),
    };
    server = await startServe([]);
    server.child.once('exit', (code, signal) => {
      exited = `ofa-ve serve exited (${signal ?? `code ${code}`})`;
    });
  });
  after(async () => {
    await server?.stop();
  });

  it(`answers ${REQUESTS} fuzzed requests: no 5xx, no crash, no hang, exact totals`, { timeout: 240_000 }, async (t) => {
    const url = new URL(server.url);
    const host = url.host;
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const clientStatus = new Map<string, number>(); // counted requests, by the status the client saw
    const apart = new Map<string, number>(); // requests that never reach the check route, and abandoned ones
    const byKind = new Map<string, number>();
    const failures: string[] = [];
    let counted = 0;
    let abandoned = 0;
    let next = 0;
    const started = performance.now();

    const client = async (): Promise<void> => {
      while (next < REQUESTS && exited === undefined && failures.length < 20) {
        const req = fuzzRequest(SEED, next++, host, material);
        const out = await send(url, agent, req);
        increment(byKind, `${req.kind.split(/[:+]/)[0]} ${out.status}`);
        const problem = violation(req, out);
        if (problem) failures.push(`request #${req.index} (${req.kind}, ${req.method} ${req.path}): ${problem}`);
        if (req.expect === 'counted') {
          counted += 1;
          increment(clientStatus, String(out.status));
        } else if (req.expect === 'abandoned') {
          abandoned += 1;
          increment(apart, 'abandoned mid-body (counted as 499)');
        } else {
          increment(apart, `${req.expect} ${out.status}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    agent.destroy();
    const seconds = (performance.now() - started) / 1000;

    t.diagnostic(`seed ${SEED} (0x${SEED.toString(16)}), ${next} requests in ${seconds.toFixed(1)} s, concurrency ${CONCURRENCY}`);
    t.diagnostic(`check requests by status (as the clients saw them): ${JSON.stringify(sorted(clientStatus))}`);
    t.diagnostic(`outside the check route or abandoned: ${JSON.stringify(sorted(apart))}`);
    t.diagnostic(`by kind and status: ${JSON.stringify(sorted(byKind))}`);

    assert.equal(exited, undefined, `the server died:\n${server.logs.slice(-30).join('\n')}`);
    assert.deepEqual(failures, [], `seed ${SEED}: requests that broke the contract`);
    assert.equal(next, REQUESTS, 'every request was sent');
    assert.equal((await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status, 200, '/healthz after the run');
    assert.equal(server.child.exitCode, null, 'the server process is still running');
    assert.ok((clientStatus.get('200') ?? 0) > 0, 'some requests were valid and answered');

    // Abandoned requests are counted when the server notices the hang-up: wait for them (bounded).
    const expected = new Map(clientStatus);
    if (abandoned > 0) expected.set('499', (expected.get('499') ?? 0) + abandoned);
    let totals = requestTotals(await (await fetch(`${server.url}/metrics`)).text());
    for (let i = 0; i < 50 && totals.total !== counted + abandoned; i++) {
      await new Promise((r) => setTimeout(r, 100));
      totals = requestTotals(await (await fetch(`${server.url}/metrics`)).text());
    }
    assert.equal(totals.total, counted + abandoned, 'sum of ofa_ve_request_total = requests that reached /api/v1/check');
    const metricStatus = new Map<string, number>();
    for (const [labels, value] of totals.series) {
      const status = /status_code="(\d+)"/.exec(labels)?.[1] ?? '?';
      if (value > 0) metricStatus.set(status, (metricStatus.get(status) ?? 0) + value);
    }
    assert.deepEqual(sorted(metricStatus), sorted(expected), 'per status, the counter agrees with the clients');
  });
});
