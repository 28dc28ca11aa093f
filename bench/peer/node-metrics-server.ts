/**
 * "Ours" side of the peer baseline (issue 6): the real ServiceMetrics (prom-client, its own
 * registry, default process/nodejs metrics and our event-loop gauges) populated with the shared
 * synthetic traffic through recordRequest(), served as plain Prometheus text (scrape(false)) from
 * node:http. Run: node --import tsx bench/peer/node-metrics-server.ts [--port 0] [--requests 10000]
 * Prints one line `listening http://127.0.0.1:PORT/metrics` when ready.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ServiceMetrics } from '../../main/telemetry/service-metrics.ts';
import { DEFAULT_REQUESTS, DEFAULT_SEED, syntheticRequests } from './synthetic.ts';

/** The same model/build labels the Python peer sets. */
export const APP_VERSION = '0.1.0';
export const MODEL = { name: 'ofa-ve-demo', version: '1', provider: 'cpu', demo: true };

export function populatedMetrics(requests = DEFAULT_REQUESTS, seed = DEFAULT_SEED): ServiceMetrics {
  const metrics = new ServiceMetrics({ appVersion: APP_VERSION });
  metrics.setModel(MODEL);
  for (const request of syntheticRequests(requests, seed)) {
    metrics.recordRequest(request);
    if (request.batchSize !== undefined) metrics.batchSize.observe(request.batchSize);
  }
  metrics.queueDepth.set(3);
  metrics.inflight.set(5);
  return metrics;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      requests: { type: 'string', default: String(DEFAULT_REQUESTS) },
    },
  });
  const metrics = populatedMetrics(Number(values.requests));
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.scrape(false).then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'Content-Type': contentType });
        res.end(body);
      },
      (error: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(error));
      },
    );
  });
  server.listen(Number(values.port), values.host);
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  console.log(`listening http://${values.host}:${port}/metrics`);
  const stop = () => {
    metrics.close();
    server.close();
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
