/**
 * One recent request's trace document, built from the trace ring when someone asks (nothing is
 * built before): the one builder behind `GET /api/v1/requests/{id}/trace` and the desktop app's
 * `stats:trace` IPC channel, so both answer the same document, operator events included.
 */
import type { TraceDocument, TraceFormat } from '../../preload/wire-types.ts';
import { appVersion } from '../config.ts';
import { CheckError } from '../errors.ts';
import type { RequestTraces } from '../telemetry/request-traces.ts';
import { chromeTrace } from '../telemetry/trace-chrome.ts';
import { otlpTrace } from '../telemetry/trace-otlp.ts';

/** The trace of request `id` in `format`; NOT_FOUND when it is not (or no longer) in the ring. */
export function traceDocument(traces: RequestTraces, id: string, format: TraceFormat): TraceDocument {
  const input = traces.get(id);
  if (!input) {
    const shown = id.length > 100 ? `${id.slice(0, 100)}…` : id;
    throw new CheckError(
      'NOT_FOUND',
      `no trace for request ${JSON.stringify(shown)}: it is not one of the last ${traces.capacity} checks of this instance ` +
        '(unknown, expired, or answered by another instance)',
    );
  }
  return format === 'otlp' ? otlpTrace(input, { serviceVersion: appVersion() }) : chromeTrace(input);
}
