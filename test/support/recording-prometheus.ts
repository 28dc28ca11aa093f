/**
 * A stand-in Prometheus on 127.0.0.1 for counting and cancelling queries: it records every query
 * the service sends (/api/v1/query and /api/v1/query_range, form-encoded as PrometheusClient posts
 * them) and whether its request is still open, and answers what `answer` returns for it:
 * a vector or matrix result, or nothing (never answers: a hung Prometheus). A query `answer`
 * does not know is refused as Prometheus refuses bad PromQL, so an unexpected query fails loudly.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedQuery {
  path: string;
  query: string;
  params: URLSearchParams;
  /** Not yet answered, and the connection not closed. */
  open: boolean;
}

/** `hang`: never answer; an array: the result (vector for /query, matrix for /query_range); undefined: refuse it. */
export type Answer = 'hang' | unknown[] | undefined;

/** A vector sample as Prometheus writes it. */
export const sample = (labels: Record<string, string>, value: number, t = 1000) => ({ metric: labels, value: [t, String(value)] });
/** A matrix series as Prometheus writes it. */
export const series = (labels: Record<string, string>, points: Array<[number, number]>) => ({
  metric: labels,
  values: points.map(([t, v]) => [t, String(v)]),
});

export interface RecordingPrometheus {
  url: string;
  queries: RecordedQuery[];
  /** Resolves once `predicate` holds over the recorded queries (checked at each arrival and each close). */
  /** Resolves once `predicate` holds for the queries so far; rejects after `timeoutMs` (default 10 s). */
  until(predicate: (queries: RecordedQuery[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRecordingPrometheus(answer: (path: string, query: string) => Answer): Promise<RecordingPrometheus> {
  const queries: RecordedQuery[] = [];
  const changed = new EventEmitter();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const recorded: RecordedQuery = { path, query: params.get('query') ?? '', params, open: true };
      queries.push(recorded);
      res.once('close', () => {
        recorded.open = false;
        changed.emit('change');
      });
      changed.emit('change');
      const result = answer(path, recorded.query);
      if (result === 'hang') return;
      const json = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (result === undefined) return json(400, { status: 'error', errorType: 'bad_data', error: `unexpected query ${recorded.query}` });
      json(200, { status: 'success', data: { resultType: path.endsWith('query_range') ? 'matrix' : 'vector', result } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    until: (predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        // A wrong expectation fails, naming what came, instead of leaving the test file hanging.
        const timer = setTimeout(() => {
          changed.off('change', check);
          reject(new Error(`not within ${timeoutMs} ms; ${queries.length} queries so far: ${queries.map((q) => q.query).join(' | ')}`));
        }, timeoutMs);
        const check = () => {
          if (!predicate(queries)) return;
          clearTimeout(timer);
          changed.off('change', check);
          resolve();
        };
        changed.on('change', check);
        check();
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
