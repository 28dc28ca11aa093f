import type { SlowRequest } from '../../preload/wire-types.ts';
import type { TraceInput } from '../../preload/trace-spans.ts';

/**
 * The trace input of a slowest-requests row: the same fields the trace ring keeps. Tests build a
 * trace from a row this way and hold it equal to the service's own trace of that request.
 */
export function traceInputOfSlowRequest(row: SlowRequest): TraceInput {
  const input: TraceInput = {
    id: row.id,
    endedAtMs: Date.parse(row.ended_at),
    latencyMs: row.latency_ms,
    statusCode: row.status_code,
    resultType: row.result_type,
    stages: row.stages,
  };
  if (row.error_code !== undefined) input.errorCode = row.error_code;
  if (row.batch_size !== null) input.batchSize = row.batch_size;
  return input;
}
