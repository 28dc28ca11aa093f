import type { BatchingOptions } from '../../main/service/batching-options.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { bodyLimitsFor } from '../../main/server/check-body-parser.ts';
import { OfaVeHttpServer } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import type { InputLimits } from '../../main/config.ts';
import { DEMO_MODEL_DIR } from './shared-reference.ts';

export interface Harness {
  runtime: ServiceRuntime;
  server: OfaVeHttpServer;
  url: string;
  close(): Promise<void>;
}

/** The real runtime and HTTP server on a free loopback port, as `ofa-ve serve` assembles them. */
export async function startHarness(
  options: {
    token?: string;
    modelDir?: string;
    batching?: Partial<BatchingOptions>;
    limits?: Partial<InputLimits>;
    uiDir?: string;
  } = {},
): Promise<Harness> {
  const runtime = new ServiceRuntime({
    modelDir: options.modelDir ?? DEMO_MODEL_DIR,
    provider: 'cpu',
    batching: options.batching,
    limits: options.limits,
    logger: silentLogger,
  });
  const server = new OfaVeHttpServer(runtime, {
    uiDir: options.uiDir,
    token: options.token,
    logger: silentLogger,
    bodyLimits: bodyLimitsFor(runtime.limits),
  });
  const address = await server.listen(0, '127.0.0.1');
  await runtime.start();
  return {
    runtime,
    server,
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      await server.close();
      await runtime.close(2000);
    },
  };
}

/** Sum of every ofa_ve_request_total series in a Prometheus text exposition, and each series. */
export function requestTotals(exposition: string): { total: number; series: Map<string, number> } {
  const series = new Map<string, number>();
  let total = 0;
  for (const line of exposition.split('\n')) {
    const m = /^ofa_ve_request_total\{([^}]*)\} (\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[2]);
    series.set(m[1] as string, value);
    total += value;
  }
  return { total, series };
}
