/**
 * The spans of one request's trace, laid out from what the live stats keep of a check: when it
 * ended, its latency and the milliseconds of each stage. Shared by the two trace formats
 * (main/telemetry/trace-chrome.ts, trace-otlp.ts), which `GET /api/v1/requests/{id}/trace` builds
 * from the trace ring (main/telemetry/request-traces.ts). Pure: no Node or DOM API.
 *
 * Layout: the request span is [end − latency, end]. The stages ran one after another in
 * STAGE_NAMES order (queue, decode_image, tokenize, inference, postprocess), so they are laid end
 * to end, the last ending when the check ended; the time before the first one (reading and parsing
 * the request) is untimed. The service records durations, not start times: where queueing and
 * preprocessing interleave (a wait for the session after tokenizing), the queue span holds all the
 * waits. The inference span is the batch's model run, shared by every request of the batch.
 * Times are whole microseconds since the Unix epoch, computed once as span boundaries, so every
 * child lies within its parent and siblings never overlap, whatever the rounding.
 *
 * A batch run with onnxruntime's profiler (`serve --profile-sample-rate`) adds its operator events
 * under the inference span: the profile's model run is anchored at the inference span's start (the
 * measured start of that session run), each operator at its offset from there, in start order.
 */
import { STAGE_NAMES, type StageName } from '../../preload/wire-types.ts';
import type { OperatorProfile, TraceInput } from '../../preload/trace-spans.ts';

export interface TraceSpan {
  name: string;
  /** Microseconds since the Unix epoch (whole numbers). */
  startUs: number;
  endUs: number;
  /** The milliseconds recorded for it (stages; the latency for the request). */
  ms: number;
}

export interface OperatorSpan extends TraceSpan {
  opType: string;
  provider: string;
}

export interface TraceLayout {
  request: TraceSpan;
  /** The stages that were timed, in order, end to end within the request. */
  stages: (TraceSpan & { stage: StageName })[];
  /** The profiled batch's operator events, in order within the inference span (none when not profiled). */
  operators: OperatorSpan[];
  /** Latency not covered by a stage (reading the request, handing results between processes). */
  untimedMs: number;
  /** The stages added up to more than the latency (two processes' clocks): scaled down to fit. */
  scaled: boolean;
}

/** The service's name in both formats (OTLP `service.name`, the Chrome trace's process). */
export const TRACE_SERVICE_NAME = 'ofa-ve';

/** A duration in ms: finite and not negative. */
function isDuration(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value < Infinity;
}

export function layoutTrace(input: TraceInput): TraceLayout {
  // The end at whole milliseconds, the resolution of a slowest-requests row's `ended_at`, so the
  // dashboard's document is the API's; spans within the trace keep microseconds.
  const endUs = Math.floor(Number.isFinite(input.endedAtMs) ? input.endedAtMs : 0) * 1000;
  const timed: { stage: StageName; ms: number; us: number }[] = [];
  for (const stage of STAGE_NAMES) {
    const ms = input.stages?.[stage];
    if (isDuration(ms)) timed.push({ stage, ms, us: Math.round(ms * 1000) });
  }
  const stagesUs = timed.reduce((sum, s) => sum + s.us, 0);
  const latencyKnown = isDuration(input.latencyMs);
  const latencyUs = latencyKnown ? Math.round(input.latencyMs * 1000) : stagesUs;
  const startUs = endUs - latencyUs;
  const scaled = stagesUs > latencyUs;
  // Boundaries from cumulative sums: adjacent stages share a boundary, so rounding opens no gap or overlap.
  const factor = scaled && stagesUs > 0 ? latencyUs / stagesUs : 1;
  let at = scaled ? startUs : endUs - stagesUs;
  let cumulative = 0;
  const chainStart = at;
  const stages = timed.map(({ stage, ms, us }) => {
    cumulative += us;
    const next = chainStart + Math.round(cumulative * factor);
    const span = { name: stage, stage, startUs: at, endUs: next, ms };
    at = next;
    return span;
  });
  const latencyMs = latencyKnown ? input.latencyMs : stagesUs / 1000;
  const stagesMs = timed.reduce((sum, s) => sum + s.ms, 0);
  const inference = stages.find((s) => s.stage === 'inference');
  return {
    request: { name: 'check', startUs, endUs, ms: latencyMs },
    stages,
    operators: inference && input.operators ? layoutOperators(input.operators, inference) : [],
    untimedMs: Math.max(0, latencyMs - stagesMs),
    scaled,
  };
}

/**
 * The operators within the inference span, from its start. The span is the run as the service
 * timed it (handing the tensors over included), so the profiler's run normally fits; where it does
 * not (stages scaled to fit, a coarse clock) the offsets are scaled down. Each starts no earlier
 * than the one before it ended, so they nest as siblings whatever the rounding.
 */
function layoutOperators(profile: OperatorProfile, inference: TraceSpan): OperatorSpan[] {
  const spanUs = inference.endUs - inference.startUs;
  const factor = isDuration(profile.runUs) && profile.runUs > spanUs ? spanUs / profile.runUs : 1;
  const at = (us: number) => Math.min(inference.endUs, inference.startUs + Math.round(us * factor));
  let floor = inference.startUs;
  const spans: OperatorSpan[] = [];
  for (const e of profile.events) {
    if (!isDuration(e.startUs) || !isDuration(e.durUs)) continue;
    const start = Math.max(floor, at(e.startUs));
    const end = Math.max(start, at(e.startUs + e.durUs));
    floor = end;
    spans.push({ name: e.name, opType: e.opType, provider: e.provider, startUs: start, endUs: end, ms: e.durUs / 1000 });
  }
  return spans;
}

const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

/** FNV-1a over UTF-16 code units, 32 bits, from a seeded offset basis. */
function fnv1a32(text: string, seed: number): number {
  let hash = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b9)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function hex32(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** An all-zero id is invalid in OTLP and W3C Trace Context. */
function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/**
 * The trace id of a request: its UUID's 32 hex digits (so the id in the slowest list, the access
 * log and the exemplars is the trace id in Jaeger, less its dashes), or a hash of any other id.
 * Deterministic: the same request always gives the same trace, and importing it twice merges.
 */
export function traceIdOf(requestId: string): string {
  const uuid = UUID.exec(requestId);
  if (uuid) return nonZero(uuid.slice(1).join('').toLowerCase());
  return nonZero([1, 2, 3, 4].map((seed) => hex32(fnv1a32(requestId, seed))).join(''));
}

/** The id of span `index` of a trace (16 hex digits, deterministic, distinct within the trace). */
export function spanIdOf(traceId: string, index: number): string {
  return nonZero(hex32(fnv1a32(traceId, 101 + index)) + hex32(fnv1a32(traceId, 201 + index)));
}
