import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveStats, type RequestSample } from '../../../main/telemetry/live-stats.ts';
import { RequestTraces } from '../../../main/telemetry/request-traces.ts';
import { chromeTrace } from '../../../main/telemetry/trace-chrome.ts';
import { otlpTrace } from '../../../main/telemetry/trace-otlp.ts';
import type { OperatorProfile, TraceInput } from '../../../preload/trace-spans.ts';
import { layoutTrace, traceIdOf } from '../../../main/telemetry/trace-layout.ts';
import { traceInputOfSlowRequest } from '../../support/trace-input.ts';
import type { ChromeTraceDocument, OtlpSpan, OtlpTraceDocument } from '../../../preload/wire-types.ts';
import { chromeTraceProblems, otlpTraceProblems } from '../../support/trace-format-checks.ts';
import { checkMix } from './check-mix.ts';

const T0 = 1_700_000_017_250;
const ID = '3f2b9c1e-7a4d-4e8b-9c0f-1a2b3c4d5e6f';

/** An answered check of a batch of 3: 12.5 ms end to end, 11 ms of it in stages. */
const ANSWERED: TraceInput = {
  id: ID,
  endedAtMs: T0,
  latencyMs: 12.5,
  statusCode: 200,
  resultType: 'YES',
  batchSize: 3,
  batchId: 'b-41',
  stages: { queue: 2, decode_image: 3.25, tokenize: 0.5, inference: 5, postprocess: 0.25 },
};

const sample = (i: number, extra: Partial<RequestSample> = {}): RequestSample => ({
  id: `req-${i}`,
  endedAtMs: T0 + i,
  latencyMs: 10 + i,
  statusCode: 200,
  resultType: 'NO',
  stages: { queue: 1, inference: 5 },
  batchSize: 2,
  ...extra,
});

const clone = <T>(value: T): T => structuredClone(value);
type Json = Record<string, unknown>;

const spansOf = (doc: OtlpTraceDocument): OtlpSpan[] => doc.resourceSpans[0]!.scopeSpans[0]!.spans;

describe('the trace ring', () => {
  it('keeps the last N checks, finds each by id, and forgets the oldest', () => {
    const ring = new RequestTraces(3);
    for (let i = 0; i < 5; i++) ring.record(sample(i), T0 + i, 10 + i);
    assert.equal(ring.size, 3);
    assert.equal(ring.get('req-0'), undefined);
    assert.equal(ring.get('req-1'), undefined);
    for (const i of [2, 3, 4]) assert.equal(ring.get(`req-${i}`)?.latencyMs, 10 + i);
    assert.equal(ring.get('never'), undefined);
  });

  it('gives back what it was given, without the values that are no durations', () => {
    const ring = new RequestTraces(4);
    ring.record({ ...ANSWERED, stages: { ...ANSWERED.stages, tokenize: NaN, postprocess: -1 } }, T0, 12.5);
    ring.record({ id: 'failed', statusCode: 413, resultType: 'ERROR', errorCode: 'IMAGE_TOO_LARGE' }, T0 + 5, 0.75);
    assert.deepEqual(ring.get(ID), {
      id: ID,
      endedAtMs: T0,
      latencyMs: 12.5,
      statusCode: 200,
      resultType: 'YES',
      batchSize: 3,
      batchId: 'b-41',
      stages: { queue: 2, decode_image: 3.25, inference: 5 },
    });
    assert.deepEqual(ring.get('failed'), {
      id: 'failed',
      endedAtMs: T0 + 5,
      latencyMs: 0.75,
      statusCode: 413,
      resultType: 'ERROR',
      errorCode: 'IMAGE_TOO_LARGE',
    });
  });

  it("keeps the newer of two checks with one id, also after the older one's slot is reused", () => {
    const ring = new RequestTraces(2);
    ring.record(sample(0, { id: 'same' }), T0, 1);
    ring.record(sample(1, { id: 'same' }), T0 + 1, 2);
    assert.equal(ring.get('same')?.latencyMs, 2);
    ring.record(sample(2), T0 + 2, 3); // overwrites the first 'same' slot: the newer must stay
    assert.equal(ring.get('same')?.latencyMs, 2);
    assert.equal(ring.size, 2);
  });

  it('keeps nothing with room for none, and refuses a capacity that is no count', () => {
    const ring = new RequestTraces(0);
    ring.record(sample(0), T0, 1);
    assert.equal(ring.get('req-0'), undefined);
    assert.throws(() => new RequestTraces(-1), RangeError);
    assert.throws(() => new RequestTraces(2.5), RangeError);
  });

  it('is fed by LiveStats.record, failed checks included (tracesKept bounds it)', () => {
    const stats = new LiveStats({ now: () => T0 + 100, tracesKept: 50 });
    const next = checkMix(7);
    const ids: string[] = [];
    for (let i = 0; i < 80; i++) {
      const refused = { ...sample(i), id: 'refused', statusCode: 415, resultType: 'ERROR' as const, errorCode: 'UNSUPPORTED_MEDIA_TYPE' };
      const check = i === 70 ? refused : next();
      stats.record({ ...check, endedAtMs: T0 + i });
      ids.push(check.id);
    }
    assert.equal(stats.traces.capacity, 50);
    assert.equal(stats.traces.size, 50);
    assert.equal(stats.traces.get(ids[29]!), undefined, 'the 30 oldest are gone');
    const kept = ids.slice(30).map((id) => stats.traces.get(id));
    assert.ok(kept.every((t) => t !== undefined));
    assert.equal(stats.traces.get('refused')?.errorCode, 'UNSUPPORTED_MEDIA_TYPE', 'a failed check has a trace too');
    assert.equal(new LiveStats().traces.capacity, 2000);
  });

  it('gives a slowest-requests row the trace the API gives for that request (the dashboard builds it from the row)', () => {
    const stats = new LiveStats({ now: () => T0 + 100 });
    const next = checkMix(11);
    for (let i = 0; i < 300; i++) stats.record({ ...next(), endedAtMs: T0 + i * 0.3 });
    const rows = stats.slowest();
    assert.ok(rows.length >= 20 && rows.some((r) => r.result_type === 'ERROR'));
    for (const row of rows) {
      const kept = stats.traces.get(row.id);
      assert.ok(kept, row.id);
      assert.deepEqual(chromeTrace(traceInputOfSlowRequest(row)), chromeTrace(kept), row.id);
      assert.deepEqual(otlpTrace(traceInputOfSlowRequest(row)), otlpTrace(kept), row.id);
    }
  });
});

describe('the span layout', () => {
  it('lays the stages end to end in pipeline order, the last ending with the check; the time before is untimed', () => {
    const layout = layoutTrace(ANSWERED);
    const end = T0 * 1000;
    assert.deepEqual(layout.request, { name: 'check', startUs: end - 12_500, endUs: end, ms: 12.5 });
    assert.deepEqual(
      layout.stages.map((s) => [s.stage, s.startUs - end, s.endUs - end]),
      [
        ['queue', -11_000, -9000],
        ['decode_image', -9000, -5750],
        ['tokenize', -5750, -5250],
        ['inference', -5250, -250],
        ['postprocess', -250, 0],
      ],
    );
    assert.equal(layout.untimedMs, 1.5);
    assert.equal(layout.scaled, false);
  });

  it('scales stages that add up to more than the latency into it, with no gap or overlap', () => {
    const layout = layoutTrace({ ...ANSWERED, latencyMs: 10, stages: { queue: 3.3333, inference: 8.1111, postprocess: 0.0004 } });
    assert.equal(layout.scaled, true);
    assert.equal(layout.stages[0]!.startUs, layout.request.startUs);
    assert.equal(layout.stages.at(-1)!.endUs, layout.request.endUs);
    for (let i = 1; i < layout.stages.length; i++) assert.equal(layout.stages[i]!.startUs, layout.stages[i - 1]!.endUs);
    assert.equal(layout.untimedMs, 0);
  });

  it('without a latency, spans the stages', () => {
    const layout = layoutTrace({ ...ANSWERED, latencyMs: NaN });
    assert.equal(layout.request.endUs - layout.request.startUs, 11_000);
    assert.equal(layout.stages[0]!.startUs, layout.request.startUs);
  });

  it('takes a UUID request id as the trace id, and hashes any other id to 32 hex digits', () => {
    assert.equal(traceIdOf(ID), '3f2b9c1e7a4d4e8b9c0f1a2b3c4d5e6f');
    assert.match(traceIdOf('req-1'), /^[0-9a-f]{32}$/);
    assert.notEqual(traceIdOf('req-1'), traceIdOf('req-2'));
    assert.equal(traceIdOf('req-1'), traceIdOf('req-1'));
    assert.equal(traceIdOf('00000000-0000-0000-0000-000000000000'), '00000000000000000000000000000001');
  });
});

describe('Chrome Trace Event JSON', () => {
  it('passes the structural check, with the request facts and the batch on the inference', () => {
    const doc = chromeTrace(ANSWERED);
    assert.deepEqual(chromeTraceProblems(doc), []);
    const events = doc.traceEvents.filter((e) => e.ph === 'X');
    assert.deepEqual(
      events.map((e) => e.name),
      ['check', 'queue', 'decode_image', 'tokenize', 'inference', 'postprocess'],
    );
    const [request, ...stages] = events;
    assert.equal(request!.ts, T0 * 1000 - 12_500);
    assert.equal(request!.dur, 12_500);
    assert.deepEqual(request!.args, {
      request_id: ID,
      status_code: 200,
      result: 'YES',
      latency_ms: 12.5,
      untimed_ms: 1.5,
      batch_size: 3,
      batch_id: 'b-41',
    });
    assert.deepEqual(stages.find((e) => e.name === 'inference')!.args, { request_id: ID, stage_ms: 5, batch_size: 3, batch_id: 'b-41' });
    assert.equal(doc.otherData.trace_id, traceIdOf(ID));
    assert.ok(doc.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === `check ${ID}`));
  });

  it('gives a check refused before any stage its request event alone, with the error code', () => {
    const doc = chromeTrace({ id: 'r', endedAtMs: T0, latencyMs: 0.4, statusCode: 401, resultType: 'ERROR', errorCode: 'UNAUTHORIZED' });
    assert.deepEqual(chromeTraceProblems(doc), []);
    assert.deepEqual(
      doc.traceEvents.filter((e) => e.ph === 'X').map((e) => [e.name, e.args.error_code, e.dur]),
      [['check', 'UNAUTHORIZED', 400]],
    );
  });

  it('passes for every check of a realistic mix', () => {
    const next = checkMix(3);
    for (let i = 0; i < 200; i++) {
      const check = next();
      const problems = chromeTraceProblems(chromeTrace({ ...check, endedAtMs: T0 + i }));
      assert.deepEqual(problems, [], check.id);
    }
  });

  it("lets another named track (a batch's operator events) join the timeline, in time order", () => {
    const doc = chromeTrace(ANSWERED);
    const inference = doc.traceEvents[6]!;
    doc.traceEvents.splice(
      6,
      0,
      { name: 'process_name', ph: 'M', pid: 2, tid: 7, args: { name: 'onnxruntime' } },
      { name: 'thread_name', ph: 'M', pid: 2, tid: 7, args: { name: 'session' } },
    );
    doc.traceEvents.splice(9, 0, {
      name: 'MatMul',
      cat: 'Node',
      ph: 'X',
      ts: inference.ts! + 10,
      dur: 100,
      pid: 2,
      tid: 7,
      args: { op: 'MatMul' },
    });
    assert.deepEqual(chromeTraceProblems(doc), []);
  });

  const broken: [string, (doc: ChromeTraceDocument) => unknown, RegExp][] = [
    ['no traceEvents', () => ({ events: [] }), /traceEvents/],
    ['an event without dur', (d) => delete d.traceEvents[3]!.dur, /dur must be/],
    ['ts in a string', (d) => ((d.traceEvents[3] as { ts: unknown }).ts = '1'), /ts must be/],
    ['a stage that outlives the request', (d) => (d.traceEvents[2]!.dur! -= 1000), /overlaps|outside the request/],
    ['two stages that overlap', (d) => (d.traceEvents[3]!.dur! += 1), /overlaps traceEvents\[3\]/],
    ['time going back', (d) => d.traceEvents.splice(3, 2, d.traceEvents[4]!, d.traceEvents[3]!), /goes back in time/],
    ['no thread name', (d) => d.traceEvents.splice(1, 1), /no thread_name/],
    ['an unknown phase', (d) => ((d.traceEvents[4] as { ph: string }).ph = 'Q'), /phase "Q"/],
    ['no request id', (d) => delete d.traceEvents[2]!.args.request_id, /request_id/],
    ['the inference without its batch size', (d) => delete d.traceEvents[6]!.args.batch_size, /batch size/],
    ['a nested args object', (d) => ((d.traceEvents[2]!.args as Record<string, unknown>).extra = { a: 1 }), /not a plain value/],
  ];
  for (const [what, breakIt, expected] of broken) {
    it(`the check catches ${what}`, () => {
      const doc = clone(chromeTrace(ANSWERED));
      const replaced = breakIt(doc);
      const problems = chromeTraceProblems(what === 'no traceEvents' ? replaced : doc);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${what}: ${JSON.stringify(problems)}`,
      );
    });
  }
});

describe('OTLP/JSON', () => {
  it('passes the structural check: a server span for the check, an internal span per stage', () => {
    const doc = otlpTrace(ANSWERED, { serviceVersion: '9.9.9' });
    assert.deepEqual(otlpTraceProblems(doc), []);
    const spans = spansOf(doc);
    assert.deepEqual(
      spans.map((s) => [s.name, s.kind]),
      [
        ['check', 2],
        ['queue', 1],
        ['decode_image', 1],
        ['tokenize', 1],
        ['inference', 1],
        ['postprocess', 1],
      ],
    );
    assert.ok(spans.every((s) => s.traceId === '3f2b9c1e7a4d4e8b9c0f1a2b3c4d5e6f'));
    assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length);
    assert.equal(spans[0]!.parentSpanId, undefined);
    assert.ok(spans.slice(1).every((s) => s.parentSpanId === spans[0]!.spanId));
    assert.equal(spans[0]!.startTimeUnixNano, `${T0 * 1000 - 12_500}000`);
    assert.equal(spans[0]!.endTimeUnixNano, `${T0}000000`);
    assert.deepEqual(spans[0]!.status, { code: 0 });
    const attrs = Object.fromEntries(spans[0]!.attributes.map((a) => [a.key, a.value]));
    assert.deepEqual(attrs['ofa_ve.status_code'], { intValue: '200' });
    assert.deepEqual(attrs['ofa_ve.request_id'], { stringValue: ID });
    assert.deepEqual(attrs['ofa_ve.batch.size'], { intValue: '3' });
    const inference = Object.fromEntries(spans[4]!.attributes.map((a) => [a.key, a.value]));
    assert.deepEqual(inference['ofa_ve.batch.size'], { intValue: '3' });
    assert.deepEqual(inference['ofa_ve.batch.id'], { stringValue: 'b-41' });
    const resource = doc.resourceSpans[0]!.resource.attributes;
    assert.deepEqual(resource, [
      { key: 'service.name', value: { stringValue: 'ofa-ve' } },
      { key: 'service.version', value: { stringValue: '9.9.9' } },
    ]);
    assert.deepEqual(otlpTrace(ANSWERED, { serviceVersion: '9.9.9' }), doc, 'the same request gives the same ids');
  });

  it("marks a 5xx an error and leaves a 4xx unset (the caller's mistake), as OpenTelemetry's HTTP conventions do", () => {
    const failed = (statusCode: number, errorCode: string) =>
      spansOf(otlpTrace({ id: 'f', endedAtMs: T0, latencyMs: 30, statusCode, resultType: 'ERROR', errorCode }))[0]!;
    assert.deepEqual(failed(504, 'TIMEOUT').status, { code: 2, message: 'TIMEOUT' });
    assert.deepEqual(failed(400, 'EMPTY_TEXT').status, { code: 0 });
    assert.ok(failed(400, 'EMPTY_TEXT').attributes.some((a) => a.key === 'error.type'));
    const timedOut = otlpTrace({ id: 'f', endedAtMs: T0, latencyMs: 30, statusCode: 504, resultType: 'ERROR', errorCode: 'TIMEOUT' });
    assert.deepEqual(otlpTraceProblems(timedOut), []);
  });

  it('passes for every check of a realistic mix', () => {
    const next = checkMix(5);
    for (let i = 0; i < 200; i++) {
      const check = next();
      assert.deepEqual(otlpTraceProblems(otlpTrace({ ...check, endedAtMs: T0 + i })), [], check.id);
    }
  });

  const later = (nanos: unknown, by: bigint) => String(BigInt(nanos as string) + by);
  const broken: [string, (spans: Json[], doc: Json) => void, RegExp][] = [
    ['a base64 trace id', (s) => (s[0]!.traceId = 'PyucHnpNTouckBorPE1ebw=='), /traceId must be 32 hex/],
    ['an all-zero span id', (s) => (s[1]!.spanId = '0000000000000000'), /spanId must be 16 hex/],
    ['times as numbers', (s) => (s[2]!.startTimeUnixNano = 1_700_000_000_000_000_000), /decimal string/],
    ['an int attribute as a number', (s) => ((s[0]!.attributes as Json[])[1]!.value = { intValue: 200 }), /intValue holds 200/],
    ['snake_case keys', (s) => ((s[0]!.trace_id = s[0]!.traceId), delete s[0]!.traceId), /trace_id.*not lowerCamelCase/],
    ['kind as its name', (s) => (s[0]!.kind = 'SPAN_KIND_SERVER'), /kind must be/],
    ['a parent that is not in the trace', (s) => (s[3]!.parentSpanId = 'abcdefabcdefabcd'), /names no span/],
    ['a child outside its parent', (s) => (s[5]!.endTimeUnixNano = later(s[0]!.endTimeUnixNano, 1n)), /outside its parent/],
    ['an end before the start', (s) => (s[1]!.endTimeUnixNano = '1'), /ends before it starts/],
    ['two overlapping stages', (s) => (s[2]!.endTimeUnixNano = later(s[2]!.endTimeUnixNano, 1000n)), /overlaps/],
    ['spans out of start order', (s) => s.reverse(), /starts before the span listed before it/],
    ['two roots', (s) => delete s[2]!.parentSpanId, /2 root spans/],
    ['two traces', (s) => (s[4]!.traceId = 'ffffffffffffffffffffffffffffffff'), /2 trace ids/],
    ['no service.name', (_s, d) => ((d.resourceSpans as { resource: Json }[])[0]!.resource.attributes = []), /service\.name/],
    ['a status code out of range', (s) => (s[0]!.status = { code: 7 }), /status.code/],
  ];
  for (const [what, breakIt, expected] of broken) {
    it(`the check catches ${what}`, () => {
      const doc = clone(otlpTrace(ANSWERED)) as unknown as Json;
      breakIt(spansOf(doc as unknown as OtlpTraceDocument) as unknown as Json[], doc);
      const problems = otlpTraceProblems(doc);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${what}: ${JSON.stringify(problems)}`,
      );
    });
  }
});

describe('operator events of a profiled batch', () => {
  /** The inference span is 5 ms; the profiler's run 4 ms, its third operator starting before the second ended. */
  const operators: OperatorProfile = {
    runUs: 4000,
    events: [
      { name: 'encoder/matmul_1', opType: 'MatMul', provider: 'CPUExecutionProvider', startUs: 100, durUs: 1500 },
      { name: 'encoder/softmax', opType: 'Softmax', provider: 'CPUExecutionProvider', startUs: 1550, durUs: 300 },
      { name: 'lm_head', opType: 'Gemm', provider: 'CPUExecutionProvider', startUs: 1700, durUs: 2000 },
    ],
    omitted: 5,
  };
  const PROFILED: TraceInput = { ...ANSWERED, operators };

  it("keeps one profile per batch for its checks, at most profilesKept, and lets go of a reused slot's", () => {
    const ring = new RequestTraces(4, 2);
    const batch = [0, 1, 2].map((i) => sample(i));
    for (const check of batch) ring.record(check, check.endedAtMs, check.latencyMs);
    for (const check of batch) ring.attachOperators(check.id, operators);
    ring.attachOperators('never-recorded', operators);
    assert.ok(
      batch.every((check) => ring.get(check.id)?.operators === operators),
      'the same object for the whole batch',
    );
    const second = structuredClone(operators);
    const third = structuredClone(operators);
    ring.record(sample(3), T0 + 3, 13);
    ring.attachOperators('req-3', second);
    assert.equal(ring.get('req-0')?.operators, operators);
    ring.attachOperators('req-2', third);
    assert.equal(ring.get('req-0')?.operators, undefined, 'a third profile lets go of the oldest');
    assert.equal(ring.get('req-2')?.operators, third);
    assert.equal(ring.get('req-3')?.operators, second);
    ring.record(sample(4), T0 + 4, 14);
    ring.record(sample(5), T0 + 5, 15);
    ring.record(sample(6), T0 + 6, 16);
    ring.record(sample(7), T0 + 7, 17);
    assert.equal(ring.get('req-7')?.operators, undefined, 'a slot reused by a new check has no profile');
    const none = new RequestTraces(4, 0);
    none.record(sample(0), T0, 10);
    none.attachOperators('req-0', operators);
    assert.equal(none.get('req-0')?.operators, undefined);
    assert.throws(() => new RequestTraces(4, -1), RangeError);
  });

  it('lays the operators in the inference span from its start, each after the one before it', () => {
    const layout = layoutTrace(PROFILED);
    const inference = layout.stages.find((s) => s.stage === 'inference')!;
    assert.deepEqual(
      layout.operators.map((o) => [o.name, o.opType, o.startUs - inference.startUs, o.endUs - inference.startUs]),
      [
        ['encoder/matmul_1', 'MatMul', 100, 1600],
        ['encoder/softmax', 'Softmax', 1600, 1850],
        ['lm_head', 'Gemm', 1850, 3700],
      ],
    );
    assert.deepEqual(layoutTrace(ANSWERED).operators, []);
  });

  it('scales a profiled run longer than the inference span into it', () => {
    const late = { ...operators.events[0]!, startUs: 8000, durUs: 4000 };
    const long: TraceInput = { ...ANSWERED, operators: { runUs: 10_000, events: [late], omitted: 0 } };
    const layout = layoutTrace(long);
    const inference = layout.stages.find((s) => s.stage === 'inference')!;
    const [op] = layout.operators;
    assert.equal(op!.startUs, inference.startUs + 4000);
    assert.equal(op!.endUs, inference.endUs, 'cut at the end of the span');
  });

  it('nests them under the inference event of the Chrome trace, which says how many and how many were left out', () => {
    const doc = chromeTrace(PROFILED);
    assert.deepEqual(chromeTraceProblems(doc), []);
    const events = doc.traceEvents.filter((e) => e.ph === 'X');
    assert.deepEqual(
      events.map((e) => e.name),
      ['check', 'queue', 'decode_image', 'tokenize', 'inference', 'encoder/matmul_1', 'encoder/softmax', 'lm_head', 'postprocess'],
    );
    const inference = events[4]!;
    assert.deepEqual(inference.args, {
      request_id: ID,
      stage_ms: 5,
      batch_size: 3,
      batch_id: 'b-41',
      operators: 3,
      profiled_run_ms: 4,
      operators_omitted: 5,
    });
    for (const op of events.slice(5, 8)) {
      assert.equal(op.cat, 'operator');
      assert.ok(op.ts! >= inference.ts! && op.ts! + op.dur! <= inference.ts! + inference.dur!, op.name);
      assert.equal(op.tid, inference.tid, "on the request's track, so it draws under the inference");
    }
    assert.deepEqual(events[5]!.args, { request_id: ID, op_type: 'MatMul', provider: 'CPUExecutionProvider', op_ms: 1.5 });
  });

  it('makes them internal spans under the inference span in OTLP/JSON', () => {
    const doc = otlpTrace(PROFILED);
    assert.deepEqual(otlpTraceProblems(doc), []);
    const spans = spansOf(doc);
    assert.deepEqual(
      spans.map((s) => s.name),
      ['check', 'queue', 'decode_image', 'tokenize', 'inference', 'encoder/matmul_1', 'encoder/softmax', 'lm_head', 'postprocess'],
    );
    const inference = spans[4]!;
    for (const op of spans.slice(5, 8)) {
      assert.equal(op.parentSpanId, inference.spanId);
      assert.equal(op.kind, 1);
    }
    assert.deepEqual(spans[5]!.attributes.slice(0, 2), [
      { key: 'ofa_ve.operator.type', value: { stringValue: 'MatMul' } },
      { key: 'ofa_ve.operator.provider', value: { stringValue: 'CPUExecutionProvider' } },
    ]);
    assert.ok(inference.attributes.some((a) => a.key === 'ofa_ve.operators.omitted' && 'intValue' in a.value && a.value.intValue === '5'));
    const plain = spansOf(otlpTrace(ANSWERED));
    assert.deepEqual(
      spans.filter((s) => !s.name.includes('/') && s.name !== 'lm_head').map((s) => s.spanId),
      plain.map((s) => s.spanId),
      'the stages keep their span ids',
    );
  });
});
