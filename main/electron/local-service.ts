import path from 'node:path';
import { app } from 'electron';
import type { EndpointDocument } from '../../preload/api-contract.ts';
import type { Logger } from '../logging/json-logger.ts';
import { bodyLimitsFor } from '../server/check-body-parser.ts';
import { OfaVeHttpServer } from '../server/http-server.ts';
import { appVersion } from '../config.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';

export interface LocalServiceOptions {
  modelDir: string;
  /** The HTTP endpoint's port on 127.0.0.1 (/metrics for Prometheus, the UI for a browser). */
  port: number;
  logger: Logger;
  /** The built UI, also served to a browser (undefined under `npm run dev`). */
  uiDir: string | undefined;
  onAlertFiring(alert: { name: string; summary: string }): void;
}

/**
 * The desktop app's own model: the same ServiceRuntime and HTTP server as `ofa-ve serve`. Started
 * in local mode only (a remote connection never loads the model), and stopped when the user
 * connects to a remote service.
 */
export class LocalService {
  private constructor(
    readonly runtime: ServiceRuntime,
    private readonly server: OfaVeHttpServer,
    readonly endpoint: EndpointDocument,
  ) {}

  static async start(options: LocalServiceOptions): Promise<LocalService> {
    const { logger } = options;
    // The live stats' 25 h of per-minute history and the marks survive restarts in the app's data folder.
    const historyDir = path.join(app.getPath('userData'), 'stats-history');
    const runtime = new ServiceRuntime({ modelDir: options.modelDir, provider: 'auto', logger, historyDir });
    const server = new OfaVeHttpServer(runtime, { logger, uiDir: options.uiDir, bodyLimits: bodyLimitsFor(runtime.limits) });
    // The HTTP endpoint is for Prometheus and scripts; if its port is taken the app works without it.
    let endpoint: EndpointDocument;
    try {
      const address = await server.listen(options.port, '127.0.0.1');
      endpoint = { metrics_url: `http://127.0.0.1:${address.port}/metrics`, version: appVersion() };
      logger.log('info', 'listening', { url: `http://127.0.0.1:${address.port}`, metrics: endpoint.metrics_url });
    } catch (err) {
      endpoint = { metrics_url: null, error: `no /metrics endpoint: ${(err as Error).message}`, version: appVersion() };
      logger.log('error', 'HTTP server not started', { error: (err as Error).message });
    }
    runtime.alerts.on('firing', options.onAlertFiring);
    void runtime.start();
    return new LocalService(runtime, server, endpoint);
  }

  async close(graceMs = 5000): Promise<void> {
    await Promise.all([this.server.close(), this.runtime.close(graceMs)]);
  }
}
