/**
 * The routes that read Prometheus (`ofa-ve serve --prometheus-url`): `GET /api/v1/fleet?window=5m`
 * and `GET /api/v1/compare?…&source=prometheus`. Without a Prometheus they answer
 * PROMETHEUS_NOT_CONFIGURED; a Prometheus that fails answers PROMETHEUS_UNAVAILABLE (the client's
 * errors); a bad query is BAD_REQUEST. The computations live in main/telemetry/prometheus-*.ts.
 */
import { PROMETHEUS_SLICE_ATTRIBUTES, type FigureSource, type FleetDocument, type PeriodComparison } from '../../preload/wire-types.ts';
import { CheckError } from '../errors.ts';
import type { PrometheusClient } from '../telemetry/prometheus-client.ts';
import { comparePrometheusRanges } from '../telemetry/prometheus-compare.ts';
import { fleetDocument } from '../telemetry/prometheus-fleet.ts';
import { isPrometheusSliceAttribute } from '../telemetry/prometheus-script-slices.ts';
import { asBadRequest, epochMs, single } from '../service/telemetry-queries.ts';

const SOURCES: readonly FigureSource[] = ['in-app', 'prometheus'];

function configured(prometheus: PrometheusClient | undefined, what: string): PrometheusClient {
  if (prometheus) return prometheus;
  throw new CheckError(
    'PROMETHEUS_NOT_CONFIGURED',
    `${what} need a Prometheus: start ofa-ve serve with --prometheus-url http://PROMETHEUS:9090 (this service shows its own figures only)`,
  );
}

/**
 * `GET /api/v1/fleet?window=5m`. `hungUp`: aborted when the HTTP client hangs up (the handler's
 * context.signal): the queries still outstanding at Prometheus are cancelled with it.
 */
export function fleetQuery(prometheus: PrometheusClient | undefined, url: URL, hungUp?: AbortSignal): Promise<FleetDocument> {
  const client = configured(prometheus, 'fleet figures').cancelledBy(hungUp);
  const window = single(url, 'window');
  return asBadRequest(() => fleetDocument(client, window));
}

/** `?source=in-app|prometheus` of /api/v1/compare (default in-app). */
export function compareSource(url: URL): FigureSource {
  const raw = single(url, 'source');
  if (raw === undefined) return 'in-app';
  const source = SOURCES.find((s) => s === raw);
  if (!source) throw new CheckError('BAD_REQUEST', `source must be one of ${SOURCES.join(', ')}`);
  return source;
}

/**
 * `GET /api/v1/compare?a_from=&a_to=&b_from=&b_to=&source=prometheus[&attribute=caption_script]`: the
 * same comparison, read from Prometheus; `hungUp` cancels its queries as fleetQuery's does.
 */
export function prometheusCompareQuery(
  prometheus: PrometheusClient | undefined,
  url: URL,
  hungUp?: AbortSignal,
): Promise<PeriodComparison> {
  const client = configured(prometheus, 'comparisons read from Prometheus').cancelledBy(hungUp);
  const a = { fromMs: epochMs(url, 'a_from'), toMs: epochMs(url, 'a_to') };
  const b = { fromMs: epochMs(url, 'b_from'), toMs: epochMs(url, 'b_to') };
  const attribute = single(url, 'attribute');
  if (attribute !== undefined && !isPrometheusSliceAttribute(attribute)) {
    throw new CheckError(
      'BAD_REQUEST',
      `only ${PROMETHEUS_SLICE_ATTRIBUTES.join(', ')} is in Prometheus (the stage histogram's script label); ` +
        'the other input slices are compared in-app only: use source=in-app',
    );
  }
  return asBadRequest(() => comparePrometheusRanges(client, a, b, attribute));
}
