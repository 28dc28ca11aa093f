import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { requestTotals, startHarness, type Harness } from '../support/service-harness.ts';

async function photo(seed: number): Promise<Buffer> {
  return sharp({ create: { width: 320 + seed * 16, height: 240, channels: 3, background: { r: (seed * 50) % 255, g: 90, b: 160 } } })
    .png()
    .toBuffer();
}

function form(image: Buffer | undefined, text?: string, premise?: string, filename = 'photo.png'): FormData {
  const body = new FormData();
  if (image) body.append('image', new Blob([new Uint8Array(image)]), filename);
  if (text !== undefined) body.append('text', text);
  if (premise !== undefined) body.append('premise', premise);
  return body;
}

describe('HTTP API (ofa-ve serve) on the demo model', () => {
  let h: Harness;
  let image: Buffer;
  let sent = 0;
  const post = async (body: string | FormData, headers: Record<string, string> = {}) => {
    sent += 1;
    return fetch(`${h.url}/api/v1/check`, { method: 'POST', body, headers });
  };

  before(async () => {
    h = await startHarness({ batching: { maxBatchSize: 4 } });
    image = await photo(1);
  });
  after(async () => h.close());

  it('answers /healthz, /readyz and /api/v1/model with the demo flag', async () => {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 200);
    const model = (await (await fetch(`${h.url}/api/v1/model`)).json()) as {
      ready: boolean;
      model: { demo: boolean; provider: string };
      warning: string;
    };
    assert.equal(model.ready, true);
    assert.equal(model.model.demo, true);
    assert.equal(model.model.provider, 'cpu');
    assert.match(model.warning, /not meaningful/);
  });

  it('checks a multipart upload and returns the documented fields', async () => {
    const res = await post(form(image, 'a blue picture'));
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown> & { stages: Record<string, number>; scores: Record<string, number> };
    for (const key of ['id', 'label', 'score', 'scores', 'latency_ms', 'stages', 'model', 'warnings']) assert.ok(key in body, key);
    assert.deepEqual(body.warnings, [], 'nothing to say about a short English caption');
    assert.match(String(body.label), /^(YES|NO|MAYBE)$/);
    assert.deepEqual(Object.keys(body.stages).sort(), ['decode_image', 'inference', 'postprocess', 'queue', 'tokenize']);
    assert.equal(body.score, body.scores[String(body.label)]);
  });

  it('checks a JSON body with a base64 image, and gives the same answer as multipart', async () => {
    const a = (await (
      await post(JSON.stringify({ image: image.toString('base64'), text: 'a blue picture' }), { 'content-type': 'application/json' })
    ).json()) as { scores: unknown };
    const b = (await (await post(form(image, 'a blue picture'))).json()) as { scores: unknown };
    assert.deepEqual(a.scores, b.scores);
  });

  for (const [name, make, status, code] of [
    ['invalid JSON', () => ['{"image": ', { 'content-type': 'application/json' }], 400, 'BAD_REQUEST'],
    ['JSON without text', () => [JSON.stringify({ image: 'aGVsbG8=' }), { 'content-type': 'application/json' }], 400, 'BAD_REQUEST'],
    ['invalid base64', () => [JSON.stringify({ image: '***', text: 'x' }), { 'content-type': 'application/json' }], 400, 'BAD_REQUEST'],
    ['a wrong content type', () => ['hello', { 'content-type': 'text/plain' }], 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['multipart without boundary', () => ['x', { 'content-type': 'multipart/form-data' }], 400, 'BAD_REQUEST'],
    [
      'malformed multipart',
      () => ['--b\r\nContent-Disposition: form-data; name="text"\r\n\r\nabc', { 'content-type': 'multipart/form-data; boundary=b' }],
      400,
      'BAD_REQUEST',
    ],
  ] as [string, () => [string, Record<string, string>], number, string][]) {
    it(`answers ${status} ${code} for ${name}`, async () => {
      const [body, headers] = make();
      const res = await post(body, headers);
      assert.equal(res.status, status);
      const json = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(json.error.code, code);
      assert.doesNotMatch(json.error.message, /\n\s+at /);
    });
  }

  it('answers 400 INVALID_IMAGE, 415 for SVG, 400 EMPTY_TEXT and 400 for a missing image', async () => {
    const cases: [FormData, number, string][] = [
      [form(Buffer.from('just some text'), 'a dog', undefined, 'x.png'), 400, 'INVALID_IMAGE'],
      [
        form(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), 'a dog', undefined, 'x.svg'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [form(image, '   '), 400, 'EMPTY_TEXT'],
      [form(undefined, 'a dog'), 400, 'BAD_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      const res = await post(body);
      assert.equal(res.status, status, code);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
  });

  it('answers 413 for an image over the byte limit', async () => {
    const big = Buffer.alloc(h.runtime.limits.maxImageBytes + 1024, 7);
    const res = await post(form(big, 'a dog'));
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: { code: string } }).error.code, /^(IMAGE_TOO_LARGE|PAYLOAD_TOO_LARGE)$/);
  });

  it('batches concurrent checks and keeps every answer right', async () => {
    const images = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(photo));
    const alone: Record<string, number>[] = [];
    for (const img of images)
      alone.push(((await (await post(form(img, 'a colour field'))).json()) as { scores: Record<string, number> }).scores);
    const together = await Promise.all(
      images.map(async (img) => ((await (await post(form(img, 'a colour field'))).json()) as { scores: Record<string, number> }).scores),
    );
    together.forEach((scores, i) => {
      for (const label of ['YES', 'NO', 'MAYBE']) assert.ok(Math.abs((scores[label] ?? 0) - (alone[i]?.[label] ?? 0)) < 1e-4);
    });
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    const batches = /^ofa_ve_batch_size_sum (\S+)/m.exec(metrics);
    const count = /^ofa_ve_batch_size_count (\S+)/m.exec(metrics);
    assert.ok(Number(batches?.[1]) > Number(count?.[1]), 'some batch held more than one pair');
  });

  it('serves /metrics as Prometheus text, and OpenMetrics with exemplars on request', async () => {
    const plain = await fetch(`${h.url}/metrics`);
    assert.match(plain.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await plain.text();
    for (const name of [
      'ofa_ve_request_total',
      'ofa_ve_request_latency_seconds_bucket',
      'ofa_ve_stage_latency_seconds_bucket',
      'ofa_ve_batch_size_bucket',
      'ofa_ve_queue_depth',
      'ofa_ve_inflight_requests',
      'ofa_ve_model_info',
      'ofa_ve_build_info',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(text.includes(name), name);
    }
    assert.ok(!text.includes('ofa_ve_gpu_memory_mb'), 'no GPU gauge on CPU');
    assert.match(text, /ofa_ve_model_info\{model="ofa-ve-demo",version="1\.0\.0",provider="cpu",demo="true"\} 1/);
    assert.match(text, /ofa_ve_request_latency_seconds_bucket\{le="2"\}/);
    const om = await fetch(`${h.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    assert.match(om.headers.get('content-type') ?? '', /^application\/openmetrics-text/);
    const omText = await om.text();
    assert.match(omText, /ofa_ve_request_latency_seconds_bucket\{le="[^"]+"\} \d+ # \{request_id="[0-9a-f-]{36}"\}/);
    assert.match(omText, /# EOF\n$/);
    const again = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(again, /^ofa_ve_request_total\{/m, 'counter keeps its _total name after an OpenMetrics scrape');
  });

  it('counts every check request exactly once under its status code', async () => {
    const { total, series } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
    assert.equal(total, sent);
    assert.ok((series.get('status_code="415",result_type="ERROR"') ?? 0) >= 2);
    assert.ok((series.get('status_code="413",result_type="ERROR"') ?? 0) >= 1);
    const stats = (await (await fetch(`${h.url}/api/v1/stats?window=60`)).json()) as {
      totals: { requests: number };
      qps: number;
      p90_ms: number;
      error_rate: number;
      client_error_rate: number;
      series: unknown[];
    };
    assert.equal(stats.totals.requests, sent);
    assert.ok(stats.qps > 0);
    assert.ok(stats.p90_ms > 0);
    // Only the client's mistakes so far (4xx): they are not server errors.
    assert.equal(stats.error_rate, 0);
    assert.ok(stats.client_error_rate > 0 && stats.client_error_rate < 1);
    assert.equal(stats.series.length, 60);
  });

  it('rejects a bad stats window, and streams stats as server-sent events', async () => {
    assert.equal((await fetch(`${h.url}/api/v1/stats?window=0`)).status, 400);
    const controller = new AbortController();
    const res = await fetch(`${h.url}/api/v1/events?window=60`, { signal: controller.signal });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    assert.match(new TextDecoder().decode(value), /^event: stats\ndata: \{.*"qps"/);
  });

  it('lists the slowest requests with their stages', async () => {
    const body = (await (await fetch(`${h.url}/api/v1/requests/slowest`)).json()) as {
      requests: { latencyMs?: number; latency_ms?: number; stages: unknown }[];
    };
    assert.ok(body.requests.length > 0);
    assert.ok(body.requests[0]?.stages);
  });

  it('answers /metrics promptly while the model is saturated', async (t) => {
    const load = Array.from({ length: 24 }, (_, i) => post(form(image, `load ${i}`)));
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      assert.equal((await fetch(`${h.url}/metrics`)).status, 200);
      times.push(performance.now() - t0);
    }
    await Promise.all(load);
    t.diagnostic(`/metrics under load: ${times.map((x) => x.toFixed(1)).join(', ')} ms`);
  });

  it('fails the batch in flight with 500 INTERNAL when the worker dies, then recovers', async () => {
    const inflight = Array.from({ length: 4 }, (_, i) => post(form(image, `crash ${i}`)));
    await new Promise((r) => setTimeout(r, 30));
    await h.runtime.workerHost.recycle('killed by the test, as a crash would');
    const statuses = (await Promise.all(inflight)).map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 200 || s === 500 || s === 503),
      statuses.join(','),
    );
    assert.ok(statuses.includes(500) || statuses.includes(503), `some request failed: ${statuses.join(',')}`);
    for (let i = 0; i < 50 && !h.runtime.workerHost.isReady; i++) await new Promise((r) => setTimeout(r, 100));
    const res = await post(form(image, 'after the crash'));
    assert.equal(res.status, 200);
    const { total } = requestTotals(await (await fetch(`${h.url}/metrics`)).text());
    assert.equal(total, sent, 'no request lost from the counts');
  });
});

describe('HTTP API with a bearer token', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ token: 's3cret-token' });
  });
  after(async () => h.close());

  it('requires the token everywhere but /healthz, and counts 401 checks', async () => {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const denied = await fetch(`${h.url}/metrics`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const check = await fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form(await photo(2), 'x') });
    assert.equal(check.status, 401);
    assert.deepEqual(((await check.json()) as { error: { code: string } }).error.code, 'UNAUTHORIZED');
    const metrics = await (await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer s3cret-token' } })).text();
    assert.match(metrics, /ofa_ve_request_total\{status_code="401",result_type="ERROR"\} 1/);
  });
});

describe('a model directory that does not load', () => {
  it('keeps serving: /healthz 200, /readyz 503 with the reason, checks 503 NOT_READY', async () => {
    const h = await startHarness({ modelDir: '/nonexistent/model' });
    try {
      assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
      const ready = await fetch(`${h.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(JSON.stringify(await ready.json()), /model\.json: not found/);
      const res = await fetch(`${h.url}/api/v1/check`, { method: 'POST', body: form(await photo(3), 'x') });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
    } finally {
      await h.close();
    }
  });
});
