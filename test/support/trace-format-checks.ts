/**
 * Structural checks of the two trace formats `GET /api/v1/requests/{id}/trace` answers, written
 * from the formats' own documents rather than from our formatter: each returns the problems found
 * (empty: the document passes).
 *
 * Trace Event Format (JSON Object Format): `traceEvents` of complete events ("ph": "X": name, cat,
 * ts and dur in microseconds, pid, tid, args) and metadata events ("ph": "M") naming every process
 * and thread used; complete events in time order; on each track every event either lies within
 * the one open around it or starts after it ended (spans nest). Ours also: one request event that
 * holds the others of its track, with the request id, status and result, and the batch size on the
 * inference.
 *
 * OTLP/JSON (opentelemetry-proto docs/specification.md, "JSON Protobuf Encoding"): lowerCamelCase
 * keys only, trace and span ids as hex (32 and 16 digits, not all zero), enums (kind, status code)
 * as integers, 64-bit integers (times, intValue) as decimal strings; resourceSpans → resource
 * (service.name) → scopeSpans → scope → spans. Ours also: one trace, one root, distinct span ids,
 * every parent present, children within their parent, spans in start order, siblings in sequence.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

const METADATA_NAMES = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index', 'process_labels']);

interface Complete {
  index: number;
  name: string;
  cat: string;
  ts: number;
  end: number;
  track: string;
  args: Json;
}

export function chromeTraceProblems(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(doc) || !Array.isArray(doc.traceEvents)) return ['not an object with a traceEvents array'];
  if (doc.traceEvents.length === 0) return ['traceEvents is empty'];
  const processes = new Set<number>();
  const threads = new Set<string>();
  const complete: Complete[] = [];
  doc.traceEvents.forEach((event: unknown, index) => {
    const at = `traceEvents[${index}]`;
    if (!isObject(event)) return problems.push(`${at}: not an object`);
    if (typeof event.name !== 'string' || event.name === '') problems.push(`${at}: no name`);
    if (!isInteger(event.pid) || !isInteger(event.tid)) problems.push(`${at}: pid and tid must be integers`);
    if (event.args !== undefined && !isObject(event.args)) problems.push(`${at}: args must be an object`);
    if (isObject(event.args)) {
      for (const [key, value] of Object.entries(event.args)) {
        if (typeof value === 'object' && value !== null) problems.push(`${at}: args.${key} is not a plain value`);
      }
    }
    if (event.ph === 'M') {
      if (!METADATA_NAMES.has(String(event.name))) problems.push(`${at}: unknown metadata event ${String(event.name)}`);
      const named = isObject(event.args) && typeof event.args.name === 'string' && event.args.name !== '';
      if (String(event.name).endsWith('_name') && !named) {
        problems.push(`${at}: ${String(event.name)} without args.name`);
      }
      if (event.name === 'process_name') processes.add(event.pid as number);
      if (event.name === 'thread_name') threads.add(`${String(event.pid)}/${String(event.tid)}`);
      return;
    }
    if (event.ph !== 'X') return problems.push(`${at}: phase ${JSON.stringify(event.ph)}, not "X" or "M"`);
    if (typeof event.cat !== 'string' || event.cat === '') problems.push(`${at}: no cat`);
    if (!isTime(event.ts)) problems.push(`${at}: ts must be microseconds (a number ≥ 0)`);
    if (!isTime(event.dur)) problems.push(`${at}: dur must be microseconds (a number ≥ 0)`);
    if (!isObject(event.args)) problems.push(`${at}: no args`);
    if (isTime(event.ts) && isTime(event.dur)) {
      const args = isObject(event.args) ? event.args : {};
      const track = `${String(event.pid)}/${String(event.tid)}`;
      complete.push({ index, name: String(event.name), cat: String(event.cat), ts: event.ts, end: event.ts + event.dur, track, args });
    }
  });
  if (complete.length === 0) problems.push('no complete ("X") event');

  for (const e of complete) {
    if (!processes.has(Number(e.track.split('/')[0]))) problems.push(`traceEvents[${e.index}]: its process has no process_name`);
    if (!threads.has(e.track)) problems.push(`traceEvents[${e.index}]: its thread has no thread_name`);
  }
  // Monotonic: complete events in time order.
  for (let i = 1; i < complete.length; i++) {
    if (complete[i]!.ts < complete[i - 1]!.ts) problems.push(`traceEvents[${complete[i]!.index}]: ts goes back in time`);
  }
  // Nesting, per track: a stack of the events open at each start.
  const open = new Map<string, Complete[]>();
  for (const e of complete) {
    const stack = open.get(e.track) ?? [];
    open.set(e.track, stack);
    while (stack.length > 0 && stack[stack.length - 1]!.end <= e.ts) stack.pop(); // ended before e began
    const parent = stack[stack.length - 1];
    if (parent && e.end > parent.end) {
      problems.push(`traceEvents[${e.index}] (${e.name}) overlaps traceEvents[${parent.index}] (${parent.name}) without nesting in it`);
    }
    stack.push(e);
  }

  // Ours: one request event holding the others of its track (other tracks, such as a batch's
  // operator events, are free), with the request's facts.
  const requests = complete.filter((e) => e.cat === 'request');
  if (requests.length !== 1) return [...problems, `${requests.length} request events, not 1`];
  const request = requests[0]!;
  if (typeof request.args.request_id !== 'string' || request.args.request_id === '') {
    problems.push('the request event has no args.request_id');
  }
  if (!isInteger(request.args.status_code)) problems.push('the request event has no args.status_code');
  if (typeof request.args.result !== 'string') problems.push('the request event has no args.result');
  if (request.args.result === 'ERROR' && typeof request.args.error_code !== 'string') {
    problems.push('a failed request without args.error_code');
  }
  for (const e of complete) {
    if (e === request || e.track !== request.track) continue;
    if (e.ts < request.ts || e.end > request.end) problems.push(`traceEvents[${e.index}] (${e.name}) lies outside the request`);
    if (e.args.request_id !== request.args.request_id) problems.push(`traceEvents[${e.index}] (${e.name}) names another request`);
    if (e.name === 'inference' && request.args.batch_size !== undefined && e.args.batch_size !== request.args.batch_size) {
      problems.push('the inference event does not carry the batch size');
    }
  }
  return problems;
}

const HEX = (digits: number) => new RegExp(`^[0-9a-fA-F]{${digits}}$`);
const TRACE_ID = HEX(32);
const SPAN_ID = HEX(16);
const INT64 = /^-?[0-9]+$/;
const UINT64 = /^[0-9]+$/;
const LOWER_CAMEL = /^[a-z][a-zA-Z0-9]*$/;
const ANY_VALUE_KINDS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'];

/** Every object key in the document, with where it is. */
function keysOf(value: unknown, at: string, out: [string, string][]): [string, string][] {
  if (Array.isArray(value)) value.forEach((item, i) => keysOf(item, `${at}[${i}]`, out));
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      out.push([key, at]);
      keysOf(item, `${at}.${key}`, out);
    }
  }
  return out;
}

function attributeProblems(list: unknown, at: string): string[] {
  if (!Array.isArray(list)) return [`${at}: attributes must be an array of {key, value}`];
  const problems: string[] = [];
  list.forEach((kv: unknown, i) => {
    const here = `${at}[${i}]`;
    if (!isObject(kv) || typeof kv.key !== 'string' || kv.key === '' || !isObject(kv.value)) {
      return problems.push(`${here}: not a {key, value}`);
    }
    const kinds = Object.keys(kv.value);
    if (kinds.length !== 1 || !ANY_VALUE_KINDS.includes(kinds[0]!)) {
      return problems.push(`${here} (${kv.key}): value must hold exactly one of ${ANY_VALUE_KINDS.join(', ')}`);
    }
    const v = kv.value[kinds[0]!];
    const ok =
      (kinds[0] === 'stringValue' && typeof v === 'string') ||
      (kinds[0] === 'boolValue' && typeof v === 'boolean') ||
      (kinds[0] === 'intValue' && typeof v === 'string' && INT64.test(v)) ||
      (kinds[0] === 'doubleValue' && typeof v === 'number' && Number.isFinite(v)) ||
      ['arrayValue', 'kvlistValue', 'bytesValue'].includes(kinds[0]!);
    const hint = kinds[0] === 'intValue' ? ' (64-bit integers are decimal strings)' : '';
    if (!ok) problems.push(`${here} (${kv.key}): ${kinds[0]} holds ${JSON.stringify(v)}${hint}`);
  });
  return problems;
}

interface ParsedSpan {
  at: string;
  spanId: string;
  parent: string | undefined;
  name: string;
  start: bigint;
  end: bigint;
}

export function otlpTraceProblems(doc: unknown): string[] {
  if (!isObject(doc) || !Array.isArray(doc.resourceSpans) || doc.resourceSpans.length === 0) return ['no resourceSpans'];
  const problems: string[] = [];
  for (const [key, at] of keysOf(doc, '$', [])) {
    if (!LOWER_CAMEL.test(key)) problems.push(`${at}: key ${JSON.stringify(key)} is not lowerCamelCase`);
  }
  const spans: ParsedSpan[] = [];
  const traceIds = new Set<string>();
  doc.resourceSpans.forEach((rs: unknown, r) => {
    const at = `resourceSpans[${r}]`;
    if (!isObject(rs) || !isObject(rs.resource)) return problems.push(`${at}: no resource`);
    problems.push(...attributeProblems(rs.resource.attributes, `${at}.resource.attributes`));
    const serviceName = Array.isArray(rs.resource.attributes)
      ? (rs.resource.attributes as Json[]).find((kv) => isObject(kv) && kv.key === 'service.name')
      : undefined;
    if (!(isObject(serviceName?.value) && typeof serviceName.value.stringValue === 'string' && serviceName.value.stringValue !== '')) {
      problems.push(`${at}: the resource has no service.name`);
    }
    if (!Array.isArray(rs.scopeSpans) || rs.scopeSpans.length === 0) return problems.push(`${at}: no scopeSpans`);
    rs.scopeSpans.forEach((ss: unknown, s) => {
      const sat = `${at}.scopeSpans[${s}]`;
      if (!isObject(ss)) return problems.push(`${sat}: not an object`);
      if (!isObject(ss.scope) || typeof ss.scope.name !== 'string') problems.push(`${sat}: no scope name`);
      if (!Array.isArray(ss.spans) || ss.spans.length === 0) return problems.push(`${sat}: no spans`);
      ss.spans.forEach((span: unknown, i) => {
        const here = `${sat}.spans[${i}]`;
        if (!isObject(span)) return problems.push(`${here}: not an object`);
        const before = problems.length;
        if (typeof span.traceId !== 'string' || !TRACE_ID.test(span.traceId) || /^0+$/.test(span.traceId)) {
          problems.push(`${here}: traceId must be 32 hex digits, not all zero`);
        } else traceIds.add(span.traceId.toLowerCase());
        if (typeof span.spanId !== 'string' || !SPAN_ID.test(span.spanId) || /^0+$/.test(span.spanId)) {
          problems.push(`${here}: spanId must be 16 hex digits, not all zero`);
        }
        const parent = span.parentSpanId;
        if (parent !== undefined && parent !== '' && !(typeof parent === 'string' && SPAN_ID.test(parent))) {
          problems.push(`${here}: parentSpanId must be 16 hex digits`);
        }
        if (typeof span.name !== 'string' || span.name === '') problems.push(`${here}: no name`);
        if (!isInteger(span.kind) || span.kind < 0 || span.kind > 5) problems.push(`${here}: kind must be a SpanKind number (0..5)`);
        for (const field of ['startTimeUnixNano', 'endTimeUnixNano']) {
          if (typeof span[field] !== 'string' || !UINT64.test(span[field] as string)) {
            problems.push(`${here}: ${field} must be a decimal string of nanoseconds`);
          }
        }
        problems.push(...attributeProblems(span.attributes ?? [], `${here}.attributes`));
        if (span.status !== undefined) {
          const status = span.status;
          if (!isObject(status) || (status.code !== undefined && !(isInteger(status.code) && status.code >= 0 && status.code <= 2))) {
            problems.push(`${here}: status.code must be a StatusCode number (0..2)`);
          } else if (status.message !== undefined && typeof status.message !== 'string') {
            problems.push(`${here}: status.message must be a string`);
          }
        }
        if (problems.length > before) return;
        const start = BigInt(span.startTimeUnixNano as string);
        const end = BigInt(span.endTimeUnixNano as string);
        if (end < start) problems.push(`${here}: ends before it starts`);
        const parentId = parent ? String(parent).toLowerCase() : undefined;
        spans.push({ at: here, spanId: (span.spanId as string).toLowerCase(), parent: parentId, name: span.name as string, start, end });
      });
    });
  });
  if (problems.length > 0) return problems;

  // Ours: one trace, one root, a tree of spans in start order, each within its parent, siblings in sequence.
  if (traceIds.size !== 1) problems.push(`${traceIds.size} trace ids, not 1`);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  if (byId.size !== spans.length) problems.push('span ids are not distinct');
  const roots = spans.filter((s) => s.parent === undefined);
  if (roots.length !== 1) problems.push(`${roots.length} root spans, not 1`);
  spans.forEach((s, i) => {
    if (i > 0 && s.start < spans[i - 1]!.start) problems.push(`${s.at} (${s.name}): starts before the span listed before it`);
    if (s.parent === undefined) return;
    const parent = byId.get(s.parent);
    if (!parent) return problems.push(`${s.at} (${s.name}): parentSpanId names no span of the trace`);
    if (s.start < parent.start || s.end > parent.end) problems.push(`${s.at} (${s.name}): lies outside its parent ${parent.name}`);
  });
  const children = new Map<string, ParsedSpan[]>();
  for (const s of spans) if (s.parent) children.set(s.parent, [...(children.get(s.parent) ?? []), s]);
  for (const siblings of children.values()) {
    for (let i = 1; i < siblings.length; i++) {
      const [before, span] = [siblings[i - 1]!, siblings[i]!];
      if (span.start < before.end) problems.push(`${span.at} (${span.name}): overlaps ${before.name}`);
    }
  }
  return problems;
}
