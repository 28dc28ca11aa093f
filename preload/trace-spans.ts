/**
 * The contract of a request's trace: what the trace ring keeps of a check (TraceInput), the
 * operator profile of a batch run with onnxruntime's profiler (the worker protocol's
 * OperatorProfile), and the file name the dashboard saves a trace as. The layout and the two
 * formats are built in main/telemetry (trace-layout.ts, trace-chrome.ts, trace-otlp.ts), which
 * `GET /api/v1/requests/{id}/trace` serves. Pure: no Node or DOM API.
 */
import type { ResultType, StageName, TraceFormat } from './wire-types.ts';

/** What a trace is built from: the compact sample the trace ring keeps per check. */
export interface TraceInput {
  /** The request id: the check's `id`, the access log's `id`, the exemplars' `request_id`. */
  id: string;
  /** Epoch ms when the check ended. */
  endedAtMs: number;
  /** End to end; NaN when unknown. */
  latencyMs: number;
  statusCode: number;
  resultType: ResultType;
  errorCode?: string;
  /** Pairs in the model run (batch) that answered this request. */
  batchSize?: number;
  /** The batch's id, where the service reports one: the same on every request of that batch. */
  batchId?: string;
  /** Milliseconds per stage. */
  stages?: Partial<Record<StageName, number>>;
  /** onnxruntime's operator events of the batch's model run, where that batch was profiled. */
  operators?: OperatorProfile;
}

/** One operator (graph node) run of a profiled model run, from onnxruntime's profiler. */
export interface OperatorEvent {
  /** The graph node's name. */
  name: string;
  /** Its operator type (MatMul, Softmax, ...). */
  opType: string;
  /** The execution provider that ran it (CPUExecutionProvider, CUDAExecutionProvider, ...). */
  provider: string;
  /** Microseconds from the start of the model run. */
  startUs: number;
  /** Microseconds. */
  durUs: number;
}

/** onnxruntime's operator events for one batch's model run (main/inference/ort-profile.ts reads them). */
export interface OperatorProfile {
  /** The model run as the profiler measured it (its model_run event), microseconds. */
  runUs: number;
  /** In start order; at most a cap per batch (the longest are kept). */
  events: OperatorEvent[];
  /** Operator events of the run beyond the cap, left out. */
  omitted: number;
}

/** The file a trace is saved as: the request id (kept to safe characters) and the format. */
export function traceFileName(requestId: string, format: TraceFormat): string {
  const safe = requestId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'request';
  return format === 'chrome' ? `ofa-ve-${safe}.trace.json` : `ofa-ve-${safe}.otlp.json`;
}
