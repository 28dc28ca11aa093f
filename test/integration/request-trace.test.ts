/**
 * `GET /api/v1/requests/{id}/trace?format=chrome|otlp` on the real runtime and HTTP server (demo
 * model, token on): the documents pass the structural checks of the Trace Event Format and of
 * OTLP/JSON, the ids the API hands out (the check's `id`, the slowest list's, the exemplars'
 * `request_id`) find their trace, and the errors say what is wrong.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { chromeTrace } from '../../main/telemetry/trace-chrome.ts';
import { otlpTrace } from '../../main/telemetry/trace-otlp.ts';
import { traceInputOfSlowRequest } from '../support/trace-input.ts';
import type { ChromeTraceDocument, CheckResult, OtlpTraceDocument, SlowRequest } from '../../preload/wire-types.ts';
import { startHarness, type Harness } from '../support/service-harness.ts';
import { chromeTraceProblems, otlpTraceProblems } from '../support/trace-format-checks.ts';

const TOKEN = 'trace-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('request traces over HTTP', () => {
  let h: Harness;
  let answers: CheckResult[];
  const get = (path: string, init: RequestInit = {}) => fetch(`${h.url}${path}`, { ...init, headers: { ...auth, ...init.headers } });
  const tracePath = (id: string, format?: string) =>
    `/api/v1/requests/${encodeURIComponent(id)}/trace${format === undefined ? '' : `?format=${format}`}`;

  before(async () => {
    h = await startHarness({ token: TOKEN, batching: { maxBatchSize: 4, maxQueueDelayMs: 20 } });
    const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 90, b: 160 } } })
      .png()
      .toBuffer();
    // Sent together, so that the batcher runs several in one batch.
    answers = await Promise.all(
      ['a blue picture', 'two dogs', 'a red car', 'snow'].map(async (text) => {
        const body = new FormData();
        body.append('image', new Blob([new Uint8Array(image)]), 'photo.png');
        body.append('text', text);
        const res = await fetch(`${h.url}/api/v1/check`, { method: 'POST', body, headers: auth });
        assert.equal(res.status, 200);
        return (await res.json()) as CheckResult;
      }),
    );
  });
  after(async () => h.close());

  it('answers a Chrome trace of a check that passes the Trace Event Format check', async () => {
    const answer = answers[0]!;
    const res = await get(tracePath(answer.id, 'chrome'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`filename="ofa-ve-${answer.id}\\.trace\\.json"`));
    const doc = (await res.json()) as ChromeTraceDocument;
    assert.deepEqual(chromeTraceProblems(doc), []);
    const events = doc.traceEvents.filter((e) => e.ph === 'X');
    assert.deepEqual(
      events.map((e) => e.name),
      ['check', 'queue', 'decode_image', 'tokenize', 'inference', 'postprocess'],
    );
    const request = events[0]!;
    assert.equal(request.args.request_id, answer.id);
    assert.equal(request.args.status_code, 200);
    assert.equal(request.args.result, answer.label);
    assert.ok(Math.abs((request.dur ?? 0) - answer.latency_ms * 1000) <= 1, 'the request span is the check latency');
    const inference = events.find((e) => e.name === 'inference')!;
    assert.ok(Number(inference.args.batch_size) >= 1, 'the inference carries its batch size');
    assert.ok(Math.abs((inference.dur ?? 0) - answer.stages.inference! * 1000) <= 1);
  });

  it('answers the same check as OTLP/JSON that passes the OTLP check, its trace id the request id', async () => {
    const answer = answers[1]!;
    const res = await get(tracePath(answer.id, 'otlp'));
    assert.equal(res.status, 200);
    const doc = (await res.json()) as OtlpTraceDocument;
    assert.deepEqual(otlpTraceProblems(doc), []);
    const spans = doc.resourceSpans[0]!.scopeSpans[0]!.spans;
    assert.equal(spans.length, 6);
    assert.ok(spans.every((s) => s.traceId === answer.id.replaceAll('-', '')));
    assert.ok(doc.resourceSpans[0]!.resource.attributes.some((a) => a.key === 'service.version'));
  });

  it('defaults to chrome, serves HEAD, and refuses a bad or repeated format with 400', async () => {
    const id = answers[2]!.id;
    const plain = (await (await get(tracePath(id))).json()) as ChromeTraceDocument;
    assert.ok(Array.isArray(plain.traceEvents));
    const head = await get(tracePath(id, 'otlp'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    for (const query of ['format=jaeger', 'format=', 'format=chrome&format=otlp']) {
      const res = await get(`/api/v1/requests/${id}/trace?${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'BAD_REQUEST');
      assert.match(body.error.message, /chrome, otlp/);
    }
  });

  it('answers 404 NOT_FOUND for an unknown id, 401 without the token, 405 for another method', async () => {
    const unknown = await get(tracePath('00000000-0000-4000-8000-000000000000', 'chrome'));
    assert.equal(unknown.status, 404);
    const body = (await unknown.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NOT_FOUND');
    assert.match(body.error.message, /no trace for request "00000000-0000-4000-8000-000000000000".*last 2000 checks/);
    assert.equal((await fetch(`${h.url}${tracePath(answers[0]!.id)}`)).status, 401);
    assert.equal((await fetch(`${h.url}${tracePath('nope')}`)).status, 401, 'no caller without the token learns which ids exist');
    const post = await get(tracePath(answers[0]!.id), { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await get('/api/v1/requests//trace')).status, 404);
  });

  it('finds the trace of the request id an OpenMetrics exemplar carries', async () => {
    const res = await get('/metrics', { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    const ids = [...(await res.text()).matchAll(/# \{request_id="([^"]+)"\}/g)].map((m) => m[1]!);
    assert.ok(ids.length > 0, 'exemplars carry request ids');
    for (const id of new Set(ids)) {
      assert.ok(
        answers.some((a) => a.id === id),
        `${id} is a check's id`,
      );
      const trace = await get(tracePath(id, 'otlp'));
      assert.equal(trace.status, 200, id);
      assert.deepEqual(otlpTraceProblems(await trace.json()), []);
    }
  });

  it('traces a refused check too (its id from the slowest list), as its request span alone', async () => {
    const refused = await fetch(`${h.url}/api/v1/check`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'aGVsbG8=' }),
    });
    assert.equal(refused.status, 400);
    const rows = ((await (await get('/api/v1/requests/slowest')).json()) as { requests: SlowRequest[] }).requests;
    const failed = rows.find((r) => r.result_type === 'ERROR');
    assert.ok(failed, 'the refused check is in the slowest list');
    const doc = (await (await get(tracePath(failed.id, 'chrome'))).json()) as ChromeTraceDocument;
    assert.deepEqual(chromeTraceProblems(doc), []);
    assert.deepEqual(
      doc.traceEvents.filter((e) => e.ph === 'X').map((e) => [e.name, e.args.status_code, e.args.error_code]),
      [['check', 400, 'BAD_REQUEST']],
    );
  });

  it("gives the dashboard, which builds the documents from a slowest-requests row, the API's documents", async () => {
    const rows = ((await (await get('/api/v1/requests/slowest')).json()) as { requests: SlowRequest[] }).requests;
    assert.ok(rows.length >= answers.length);
    for (const row of rows) {
      const input = traceInputOfSlowRequest(row);
      assert.deepEqual(chromeTrace(input), await (await get(tracePath(row.id, 'chrome'))).json(), row.id);
      const api = (await (await get(tracePath(row.id, 'otlp'))).json()) as OtlpTraceDocument;
      assert.deepEqual(otlpTrace(input).resourceSpans[0]!.scopeSpans[0]!.spans, api.resourceSpans[0]!.scopeSpans[0]!.spans, row.id);
    }
  });
});
