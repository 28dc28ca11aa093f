import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_INPUT_LIMITS, DEFAULT_PORT, defaultModelDir, defaultUiDir } from '../config.ts';
import { jsonLogger } from '../logging/json-logger.ts';
import { isLoopbackHost } from '../server/bearer-auth.ts';
import { bodyLimitsFor } from '../server/check-body-parser.ts';
import { parseCorsOrigins } from '../server/cors.ts';
import { OfaVeHttpServer } from '../server/http-server.ts';
import { DEFAULT_ACCESS_LOG_RATE } from '../service/access-log.ts';
import { DEFAULT_BATCHING } from '../service/batching-options.ts';
import { DEFAULT_RESTART_POLICY } from '../service/inference-worker-host.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';
import { parsePrometheusUrl } from '../telemetry/prometheus-client.ts';
import type { CliIo } from './cli-io.ts';
import { EXIT, UsageError } from './exit-codes.ts';
import { parseProvider } from './provider-option.ts';
import { wholeNumberOption, WORKER_FLAGS, WORKER_OPTIONS, workerSettings } from './worker-options.ts';

const B = DEFAULT_BATCHING;
const L = DEFAULT_INPUT_LIMITS;
/** The usage line's defaults come from where the service takes them, so the two cannot differ. */
const flags = (pairs: ReadonlyArray<readonly [string, number]>) => pairs.map(([name, value]) => `[--${name} ${value}]`).join(' ');
const BATCHING_FLAGS = flags([
  ['max-queue-delay-ms', B.maxQueueDelayMs],
  ['max-queue-size', B.maxQueueSize],
  ['request-timeout-ms', B.requestTimeoutMs],
]);
const LIMIT_FLAGS = flags([
  ['max-image-bytes', L.maxImageBytes],
  ['max-image-pixels', L.maxImagePixels],
  ['max-text-bytes', L.maxTextBytes],
]);

export const SERVE_USAGE = `usage: ofa-ve serve [--host 127.0.0.1] [--port ${DEFAULT_PORT}] [--model DIR] [--provider auto|cuda|cpu]
                    [--token T] [--allow-unauthenticated] [--cors-origin ORIGIN]...
                    ${WORKER_FLAGS}
                    ${BATCHING_FLAGS}
                    ${LIMIT_FLAGS}
                    [--access-log-rate ${DEFAULT_ACCESS_LOG_RATE}]
                    [--model-load-timeout-ms ${DEFAULT_RESTART_POLICY.loadTimeoutMs}] [--data-dir DIR|none]
                    [--prometheus-url URL] [--profile-sample-rate 0]

Serves the HTTP API, /metrics, /healthz and /readyz (headless mode). --port 0 picks a free port.
--token (or OFA_VE_TOKEN) requires "Authorization: Bearer T" on everything but /healthz and /readyz; listening
on a non-loopback address needs a token unless --allow-unauthenticated is given.
--cors-origin ORIGIN (repeatable, needs a token) lets pages of that origin use the API with the
token: a console served elsewhere (http://console-host:7860) or the desktop app (app://console).
--worker-nice runs the inference worker that much lower in priority (0..19), so that /metrics and
the API stay quick when the model saturates the CPU. --preprocess-workers N sets the threads in the
inference worker that decode, resize and tokenize ahead of the model, so that a GPU never waits for
the next batch; 0 prepares each batch in the worker, then runs it (the serial design). The default,
auto, is one per core when the model runs on a GPU and 0 when it runs on the CPU, where the threads
would take their cores from the model.
Logs are JSON lines on stdout, with one "check" line per check (id, status, code, label,
latency_ms): --access-log-rate N writes the first N each second in full, then one in N plus every
5xx, and an "access log sampled" line with what was dropped; 0 turns the access log off.
SIGINT/SIGTERM stop it gracefully.
The model runs in a worker process; one that dies is replaced at once, and a replacement that
cannot start is retried (0.1 s doubling to 5 s). --model-load-timeout-ms bounds each model load:
a replacement that has not loaded by then is killed and retried (at start-up, serve stays not
ready and says why). /readyz is 503 while no worker can run a check; /healthz fails once ten
replacements in a row have failed.
--data-dir DIR keeps the live stats' per-minute history (25 h, for comparing "yesterday vs today")
and the marks there across restarts: about 10 MB at 50 checks/s. Default $XDG_STATE_HOME/ofa-ve
(~/.local/state/ofa-ve); --data-dir none keeps them in memory only.
--prometheus-url URL (the Prometheus that scrapes every replica, e.g. http://prometheus:9090) enables
GET /api/v1/fleet (fleet QPS, P50/P90/P99 over all replicas, error rate, per-replica skew) and
GET /api/v1/compare?source=prometheus (two ranges as old as Prometheus keeps), and the dashboard's
Fleet panel; without it those answer PROMETHEUS_NOT_CONFIGURED.
--profile-sample-rate R (0..1, default 0: off, at no cost) runs that fraction of batches with
onnxruntime's profiler: their operator events (node, op type, provider, time) appear under the
inference span of each of the batch's request traces (GET /api/v1/requests/{id}/trace). It keeps a
second session of the model (twice the weights in memory) and writes profiles to the temp folder.`;

/** `--profile-sample-rate`: a fraction of batches, 0 to 1. */
export function profileSampleRateOf(flag: string | undefined): number {
  if (flag === undefined) return 0;
  const rate = flag.trim() === '' ? NaN : Number(flag);
  if (!(rate >= 0 && rate <= 1)) {
    throw new UsageError(`--profile-sample-rate must be a number from 0 to 1 (a fraction of batches), got ${JSON.stringify(flag)}`);
  }
  return rate;
}

/** `--data-dir`: the history's folder, or undefined for none. */
export function historyDirOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag === 'none') return undefined;
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--data-dir needs a folder (or none)');
    return path.resolve(flag);
  }
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'ofa-ve');
}

/**
 * The bearer token from --token or OFA_VE_TOKEN (an empty OFA_VE_TOKEN counts as unset). A token
 * that is empty or blank, or starts or ends with whitespace, could never match: HTTP trims header
 * values, so every request would be refused, or an unset variable in `--token "$T"` would
 * silently serve without one.
 */
function bearerToken(flag: string | undefined): string | undefined {
  const token = flag ?? (process.env.OFA_VE_TOKEN || undefined);
  if (token === undefined) return undefined;
  const from = flag !== undefined ? '--token' : 'OFA_VE_TOKEN';
  if (token.trim() === '') throw new UsageError(`${from} is ${token === '' ? 'empty' : 'only whitespace'}: give a real token, or none`);
  if (token.trim() !== token) throw new UsageError(`${from} starts or ends with whitespace, which HTTP clients cannot send: remove it`);
  return token;
}

export async function runServe(argv: string[], io: CliIo, signals: NodeJS.EventEmitter = process): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      model: { type: 'string' },
      provider: { type: 'string' },
      token: { type: 'string' },
      'allow-unauthenticated': { type: 'boolean', default: false },
      'cors-origin': { type: 'string', multiple: true },
      ...WORKER_OPTIONS,
      'max-queue-delay-ms': { type: 'string' },
      'max-queue-size': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      'max-image-bytes': { type: 'string' },
      'max-image-pixels': { type: 'string' },
      'max-text-bytes': { type: 'string' },
      'access-log-rate': { type: 'string' },
      'model-load-timeout-ms': { type: 'string' },
      'data-dir': { type: 'string' },
      'prometheus-url': { type: 'string' },
      'profile-sample-rate': { type: 'string' },
    },
  });
  const provider = parseProvider(values.provider);
  const port = wholeNumberOption('port', values.port, DEFAULT_PORT, 0);
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  const host = values.host as string;
  const token = bearerToken(values.token);
  if (!isLoopbackHost(host) && !token && !values['allow-unauthenticated']) {
    io.stderr(
      `ofa-ve serve: refusing to listen on ${host} without a token: anyone who can reach this address could use the model and read its metrics.\n` +
        'Give --token T (or OFA_VE_TOKEN), or --allow-unauthenticated if the network is trusted.',
    );
    return EXIT.BAD_INPUT;
  }
  let corsOrigins: string[];
  try {
    corsOrigins = parseCorsOrigins(values['cors-origin'] ?? [], token);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const limits = {
    maxImageBytes: wholeNumberOption('max-image-bytes', values['max-image-bytes'], L.maxImageBytes),
    maxImagePixels: wholeNumberOption('max-image-pixels', values['max-image-pixels'], L.maxImagePixels),
    maxTextBytes: wholeNumberOption('max-text-bytes', values['max-text-bytes'], L.maxTextBytes),
  };
  const worker = workerSettings(values);
  const batching = {
    maxBatchSize: worker.maxBatchSize,
    maxQueueDelayMs: wholeNumberOption('max-queue-delay-ms', values['max-queue-delay-ms'], B.maxQueueDelayMs, 0),
    maxQueueSize: wholeNumberOption('max-queue-size', values['max-queue-size'], B.maxQueueSize),
    requestTimeoutMs: wholeNumberOption('request-timeout-ms', values['request-timeout-ms'], B.requestTimeoutMs),
  };
  let prometheusUrl: string | undefined;
  try {
    prometheusUrl = values['prometheus-url'] === undefined ? undefined : parsePrometheusUrl(values['prometheus-url']);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const logger = jsonLogger((line) => io.stdout(line.trimEnd()));
  const runtime = new ServiceRuntime({
    modelDir: values.model ?? defaultModelDir(),
    provider,
    limits,
    batching,
    intraOpThreads: worker.intraOpThreads,
    workerNiceness: worker.workerNiceness,
    preprocessWorkers: worker.preprocessWorkers,
    accessLogRate: wholeNumberOption('access-log-rate', values['access-log-rate'], DEFAULT_ACCESS_LOG_RATE, 0),
    workerRestart: {
      loadTimeoutMs: wholeNumberOption('model-load-timeout-ms', values['model-load-timeout-ms'], DEFAULT_RESTART_POLICY.loadTimeoutMs),
    },
    historyDir: historyDirOf(values['data-dir']),
    prometheusUrl,
    profileSampleRate: profileSampleRateOf(values['profile-sample-rate']),
    logger,
  });
  const server = new OfaVeHttpServer(runtime, {
    token,
    logger,
    uiDir: defaultUiDir(),
    loopbackOnly: isLoopbackHost(host),
    corsOrigins,
    bodyLimits: bodyLimitsFor(limits),
  });

  // The port first (a millisecond): a port in use or a bad host fails at once, before a model
  // load is started for nothing and logged after the failure.
  let address;
  try {
    address = await server.listen(port, host);
  } catch (err) {
    io.stderr(`ofa-ve serve: ${(err as Error).message}`);
    await runtime.close(0);
    return EXIT.FAILURE;
  }
  const starting = runtime.start();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${address.port}`;
  // With a token the UI asks for it; the token itself never goes into a log.
  const ui = token ? `${url}/ (paste the token when asked, or open ${url}/?token=T with T the token)` : `${url}/`;
  logger.log('info', 'listening', { url, ui, metrics: `${url}/metrics`, auth: token ? 'bearer' : 'none' });
  await starting;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      // The server first (it stops taking connections and lets the requests it holds finish, so a
      // body still arriving runs), then the runtime (the worker). close() stops listening before
      // it returns, so by the time "shutting down" is read, a new connection is refused.
      const serverClosed = server.close(10_000);
      logger.log('info', 'shutting down', { signal });
      void serverClosed
        .then(() => runtime.close(10_000))
        .then(() => {
          logger.log('info', 'stopped');
          resolve(EXIT.OK);
        });
    };
    signals.once('SIGINT', () => stop('SIGINT'));
    signals.once('SIGTERM', () => stop('SIGTERM'));
  });
}
