/**
 * One request's trace as OTLP/JSON: an ExportTraceServiceRequest as the OTLP specification's JSON
 * encoding writes it (lowerCamelCase keys, hex trace and span ids, enums as numbers, 64-bit
 * integers and times as decimal strings), which Jaeger UI and Grafana (Tempo) import and any
 * OTLP/HTTP collector accepts at /v1/traces. The check is a server span; each stage an internal
 * span under it; a profiled batch's operator events are internal spans under the inference span.
 * Pure (see preload/trace-spans.ts).
 */
import type { TraceInput } from '../../preload/trace-spans.ts';
import { layoutTrace, spanIdOf, TRACE_SERVICE_NAME, traceIdOf, type TraceSpan } from './trace-layout.ts';
import type { OtlpKeyValue, OtlpSpan, OtlpTraceDocument } from '../../preload/wire-types.ts';

const SPAN_KIND_INTERNAL = 1;
const SPAN_KIND_SERVER = 2;
const STATUS_CODE_UNSET = 0;
const STATUS_CODE_ERROR = 2;
const SCOPE_NAME = 'ofa-ve.request-traces';

export interface OtlpTraceOptions {
  /** `service.version` and the scope's version (the app's version). */
  serviceVersion?: string;
}

const text = (key: string, value: string): OtlpKeyValue => ({ key, value: { stringValue: value } });
const int = (key: string, value: number): OtlpKeyValue => ({ key, value: { intValue: String(Math.trunc(value)) } });
const double = (key: string, value: number): OtlpKeyValue => ({ key, value: { doubleValue: Math.round(value * 1000) / 1000 } });

/** Whole microseconds as a decimal string of nanoseconds (no float can hold epoch nanoseconds exactly). */
function nanos(us: number): string {
  return us > 0 ? `${us}000` : '0';
}

function span(traceId: string, spanId: string, parentSpanId: string | undefined, s: TraceSpan, kind: number): OtlpSpan {
  return {
    traceId,
    spanId,
    ...(parentSpanId === undefined ? {} : { parentSpanId }),
    name: s.name,
    kind,
    startTimeUnixNano: nanos(s.startUs),
    endTimeUnixNano: nanos(s.endUs),
    attributes: [],
    status: { code: STATUS_CODE_UNSET },
  };
}

export function otlpTrace(input: TraceInput, options: OtlpTraceOptions = {}): OtlpTraceDocument {
  const layout = layoutTrace(input);
  const traceId = traceIdOf(input.id);
  const rootId = spanIdOf(traceId, 0);
  const root = span(traceId, rootId, undefined, layout.request, SPAN_KIND_SERVER);
  root.attributes.push(
    text('ofa_ve.request_id', input.id),
    int('ofa_ve.status_code', input.statusCode),
    text('ofa_ve.result', input.resultType),
    double('ofa_ve.untimed_ms', layout.untimedMs),
  );
  if (input.errorCode !== undefined) root.attributes.push(text('error.type', input.errorCode));
  if (input.batchSize !== undefined) root.attributes.push(int('ofa_ve.batch.size', input.batchSize));
  if (input.batchId !== undefined) root.attributes.push(text('ofa_ve.batch.id', input.batchId));
  if (layout.scaled) root.attributes.push({ key: 'ofa_ve.stages_scaled_to_fit', value: { boolValue: true } });
  // OpenTelemetry's HTTP conventions: a server span is an error for a 5xx only; a 4xx is the caller's.
  if (input.statusCode >= 500) root.status = { code: STATUS_CODE_ERROR, message: input.errorCode ?? `status ${input.statusCode}` };

  const spans = [root];
  layout.stages.forEach((s, i) => {
    const childId = spanIdOf(traceId, i + 1);
    const child = span(traceId, childId, rootId, s, SPAN_KIND_INTERNAL);
    child.attributes.push(text('ofa_ve.stage', s.stage), double('ofa_ve.stage_ms', s.ms));
    // The model run is the batch's: every request of the batch shares it.
    if (s.stage === 'inference') {
      if (input.batchSize !== undefined) child.attributes.push(int('ofa_ve.batch.size', input.batchSize));
      if (input.batchId !== undefined) child.attributes.push(text('ofa_ve.batch.id', input.batchId));
    }
    spans.push(child);
    if (s.stage !== 'inference' || !input.operators) return;
    const { runUs, omitted } = input.operators;
    child.attributes.push(int('ofa_ve.operators.count', layout.operators.length), double('ofa_ve.profiled_run_ms', runUs / 1000));
    if (omitted > 0) child.attributes.push(int('ofa_ve.operators.omitted', omitted));
    // Listed right after their parent (spans are in start order); ids after the stages', so a stage's id does not change.
    layout.operators.forEach((op, j) => {
      const opSpan = span(traceId, spanIdOf(traceId, layout.stages.length + 1 + j), childId, op, SPAN_KIND_INTERNAL);
      opSpan.attributes.push(
        text('ofa_ve.operator.type', op.opType),
        text('ofa_ve.operator.provider', op.provider),
        double('ofa_ve.operator_ms', op.ms),
      );
      spans.push(opSpan);
    });
  });

  const resource: OtlpKeyValue[] = [text('service.name', TRACE_SERVICE_NAME)];
  if (options.serviceVersion !== undefined) resource.push(text('service.version', options.serviceVersion));
  const scope = options.serviceVersion === undefined ? { name: SCOPE_NAME } : { name: SCOPE_NAME, version: options.serviceVersion };
  return { resourceSpans: [{ resource: { attributes: resource }, scopeSpans: [{ scope, spans }] }] };
}
