/**
 * `ofa-ve serve --profile-sample-rate 1` (the real CLI, demo model): a check's trace, in both
 * formats, carries onnxruntime's operator events for its batch, nested in its inference span, and
 * still passes the structural checks; the profiler's files are gone once serve has stopped. A rate
 * outside 0..1 is refused as a bad flag. (Rate 0, the default: request-trace.test.ts sees exactly
 * the stage spans; test/unit/inference/ort-profile.test.ts that no profiling session is made.)
 * The answers do not wait for the profile (test/unit/service/batch-pipeline.test.ts): it reaches
 * the trace a moment after them, so the traces are read once their operator events are in.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { ChromeTraceDocument, CheckResult, OtlpSpan, OtlpTraceDocument } from '../../preload/wire-types.ts';
import { cli } from '../support/cli-in-process.ts';
import { startServe, type ServeProcess } from '../../bench/support/serve-process.ts';
import { chromeTraceProblems, otlpTraceProblems } from '../support/trace-format-checks.ts';

/** Microseconds of slack for the nesting checks (both formats are whole microseconds already). */
const TOLERANCE_US = 1;

/**
 * Reads of a trace while its batch's profile may still be on its way (a few ms on the demo model):
 * up to 10 s for the first check's, which the tests below need; 0.5 s a try where the next try may
 * find a profiled batch anyway.
 */
const FIRST_PROFILE_POLLS = 500;
const PROFILE_POLLS = 25;
const POLL_MS = 20;

const profileFolders = async (): Promise<Set<string>> =>
  new Set((await readdir(os.tmpdir())).filter((name) => name.startsWith('ofa-ve-profiles-')));

describe('serve --profile-sample-rate: operator events in request traces', () => {
  let serve: ServeProcess;
  let foldersBefore: Set<string>;
  let image: Buffer;
  /** The first check: rate 1, and the profiling session made at start-up is ready for it. */
  let first: CheckResult;

  const check = async (text: string): Promise<CheckResult> => {
    const body = new FormData();
    body.append('image', new Blob([new Uint8Array(image)]), 'photo.png');
    body.append('text', text);
    const res = await fetch(`${serve.url}/api/v1/check`, { method: 'POST', body });
    assert.equal(res.status, 200);
    return (await res.json()) as CheckResult;
  };
  const trace = async <T>(id: string, format: 'chrome' | 'otlp'): Promise<T> => {
    const res = await fetch(`${serve.url}/api/v1/requests/${id}/trace?format=${format}`);
    assert.equal(res.status, 200);
    return (await res.json()) as T;
  };
  const hasOperators = (doc: ChromeTraceDocument) => doc.traceEvents.some((e) => e.cat === 'operator');
  /** The Chrome traces of `ids`, read again (bounded) until one of them has operator events; the last read if none has. */
  const tracesOnceProfiled = async (ids: readonly string[], polls = PROFILE_POLLS): Promise<ChromeTraceDocument[]> => {
    for (let poll = 1; ; poll++) {
      const docs = await Promise.all(ids.map((id) => trace<ChromeTraceDocument>(id, 'chrome')));
      if (docs.some(hasOperators) || poll === polls) return docs;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  before(async () => {
    image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 90, b: 160 } } })
      .png()
      .toBuffer();
    foldersBefore = await profileFolders();
    serve = await startServe(['--profile-sample-rate', '1', '--max-batch-size', '4', '--max-queue-delay-ms', '20']);
    first = await check('a blue picture');
    // Its profile follows the answer: the tests below read its traces once it is in.
    const [profiled] = await tracesOnceProfiled([first.id], FIRST_PROFILE_POLLS);
    assert.ok(
      hasOperators(profiled!),
      `the first check's operator events reached its trace within ${(FIRST_PROFILE_POLLS * POLL_MS) / 1000} s`,
    );
  });
  after(async () => serve?.stop());

  it("nests the batch's operator events in the inference event of the Chrome trace", async () => {
    const answer = first;
    const doc = await trace<ChromeTraceDocument>(answer.id, 'chrome');
    assert.deepEqual(chromeTraceProblems(doc), []);
    const events = doc.traceEvents.filter((e) => e.ph === 'X');
    const stages = events.filter((e) => e.cat !== 'operator').map((e) => e.name);
    assert.deepEqual(stages, ['check', 'queue', 'decode_image', 'tokenize', 'inference', 'postprocess'], 'the stages as without profiling');
    const inference = events.find((e) => e.name === 'inference')!;
    const operators = events.filter((e) => e.cat === 'operator');
    assert.ok(operators.length > 10, `rate 1 profiles the first batch: ${operators.length} operator events`);
    assert.equal(inference.args.operators, operators.length);
    assert.ok(Number(inference.args.profiled_run_ms) > 0);
    for (const op of operators) {
      assert.ok(op.ts! >= inference.ts! - TOLERANCE_US, `${op.name} starts within the inference`);
      assert.ok(op.ts! + op.dur! <= inference.ts! + inference.dur! + TOLERANCE_US, `${op.name} ends within the inference`);
      assert.equal(op.args.provider, 'CPUExecutionProvider');
      assert.equal(typeof op.args.op_type, 'string');
      assert.equal(op.args.request_id, answer.id);
    }
    assert.ok(operators.some((e) => e.args.op_type === 'MatMul'));
  });

  it('makes them child spans of the inference span in OTLP/JSON', async () => {
    const doc = await trace<OtlpTraceDocument>(first.id, 'otlp');
    assert.deepEqual(otlpTraceProblems(doc), []);
    const spans = doc.resourceSpans[0]!.scopeSpans[0]!.spans;
    const inference = spans.find((s) => s.name === 'inference')!;
    const children = spans.filter((s) => s.parentSpanId === inference.spanId);
    const ns = (s: OtlpSpan, field: 'startTimeUnixNano' | 'endTimeUnixNano') => BigInt(s[field]);
    assert.ok(children.length > 10);
    const count = inference.attributes.find((a) => a.key === 'ofa_ve.operators.count');
    assert.deepEqual(count?.value, { intValue: String(children.length) });
    for (const op of children) {
      assert.ok(ns(op, 'startTimeUnixNano') >= ns(inference, 'startTimeUnixNano'));
      assert.ok(ns(op, 'endTimeUnixNano') <= ns(inference, 'endTimeUnixNano'));
      assert.ok(op.attributes.some((a) => a.key === 'ofa_ve.operator.type'));
    }
  });

  it('gives every check of a concurrent batch the same operators, in traces that pass both checks', async () => {
    // The profiling session the first check used is replaced in the background: check until a batch finds the new one.
    let answers: CheckResult[] = [];
    let profiled: ChromeTraceDocument[] = [];
    for (let attempt = 0; attempt < 20 && profiled.length === 0; attempt++) {
      answers = await Promise.all(['a red car', 'snow', 'a cat', 'a house'].map(check));
      const docs = await tracesOnceProfiled(answers.map((a) => a.id));
      for (const doc of docs) assert.deepEqual(chromeTraceProblems(doc), []);
      for (const a of answers) assert.deepEqual(otlpTraceProblems(await trace(a.id, 'otlp')), []);
      profiled = docs.filter(hasOperators);
    }
    assert.ok(profiled.length > 0, 'a later batch is profiled too (a fresh profiling session was made)');
    const names = (d: ChromeTraceDocument) =>
      d.traceEvents
        .filter((e) => e.cat === 'operator')
        .map((e) => e.name)
        .join(',');
    const batchSizes = new Set(profiled.map((d) => d.traceEvents.find((e) => e.name === 'inference')!.args.batch_size));
    if (batchSizes.size === 1 && profiled.length > 1) assert.equal(new Set(profiled.map(names)).size, 1, 'one batch, one operator list');
  });

  it('writes its profiles to a temp folder of its own, removed when serve stops', async () => {
    const during = [...(await profileFolders())].filter((name) => !foldersBefore.has(name));
    assert.equal(during.length, 1, `the worker's folder: ${during.join(', ')}`);
    assert.equal(await serve.stop(), 0);
    assert.ok(!(await profileFolders()).has(during[0]!), 'removed at exit');
  });

  it('refuses a rate that is not a number from 0 to 1, as other bad flags (exit 2, the usage)', async () => {
    for (const bad of ['1.5', '-0.1', 'often', '', 'NaN']) {
      const run = await cli(['serve', '--port', '0', `--profile-sample-rate=${bad}`]);
      assert.equal(run.code, 2, bad);
      assert.match(run.err, /--profile-sample-rate must be a number from 0 to 1/, bad);
      assert.match(run.err, /usage: ofa-ve serve/);
    }
  });
});
