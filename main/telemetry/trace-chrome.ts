/**
 * One request's trace as Chrome Trace Event JSON (the JSON Object Format: `traceEvents`), which
 * Perfetto (ui.perfetto.dev) and chrome://tracing open: a complete event ("ph": "X", `ts` and `dur`
 * in microseconds) for the check and one per stage nested in it, on one track named after the
 * request, with metadata events naming the process and the track. Events are in time order, the
 * check first. A profiled batch's operator events (cat "operator") follow the inference event on the
 * same track, nested in it, so Perfetto draws them under it. Pure (see preload/trace-spans.ts).
 */
import type { TraceInput } from '../../preload/trace-spans.ts';
import { layoutTrace, TRACE_SERVICE_NAME, traceIdOf, type TraceSpan } from './trace-layout.ts';
import type { ChromeTraceDocument, ChromeTraceEvent } from '../../preload/wire-types.ts';

const PID = 1;
const TID = 1;

/** Milliseconds as a trace argument: three decimals (microseconds) are all the trace resolves. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function complete(span: TraceSpan, cat: string, args: ChromeTraceEvent['args']): ChromeTraceEvent {
  return { name: span.name, cat, ph: 'X', ts: span.startUs, dur: span.endUs - span.startUs, pid: PID, tid: TID, args };
}

export function chromeTrace(input: TraceInput): ChromeTraceDocument {
  const layout = layoutTrace(input);
  const requestArgs: ChromeTraceEvent['args'] = {
    request_id: input.id,
    status_code: input.statusCode,
    result: input.resultType,
    latency_ms: ms(layout.request.ms),
    untimed_ms: ms(layout.untimedMs),
  };
  if (input.errorCode !== undefined) requestArgs.error_code = input.errorCode;
  if (input.batchSize !== undefined) requestArgs.batch_size = input.batchSize;
  if (input.batchId !== undefined) requestArgs.batch_id = input.batchId;
  if (layout.scaled) requestArgs.stages_scaled_to_fit = true;

  const events: ChromeTraceEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, tid: TID, args: { name: TRACE_SERVICE_NAME } },
    { name: 'thread_name', ph: 'M', pid: PID, tid: TID, args: { name: `check ${input.id}` } },
    complete(layout.request, 'request', requestArgs),
  ];
  for (const span of layout.stages) {
    const args: ChromeTraceEvent['args'] = { request_id: input.id, stage_ms: ms(span.ms) };
    // The model run is the batch's: every request of the batch shares it.
    if (span.stage === 'inference') {
      if (input.batchSize !== undefined) args.batch_size = input.batchSize;
      if (input.batchId !== undefined) args.batch_id = input.batchId;
      if (input.operators) {
        args.operators = layout.operators.length;
        args.profiled_run_ms = ms(input.operators.runUs / 1000);
        if (input.operators.omitted > 0) args.operators_omitted = input.operators.omitted;
      }
    }
    events.push(complete(span, 'stage', args));
    if (span.stage !== 'inference') continue;
    for (const op of layout.operators) {
      events.push(complete(op, 'operator', { request_id: input.id, op_type: op.opType, provider: op.provider, op_ms: ms(op.ms) }));
    }
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: {
      request_id: input.id,
      trace_id: traceIdOf(input.id),
      layout: 'stages laid end to end in pipeline order, the last ending when the check ended; the time before the first is untimed',
    },
  };
}
