/**
 * The documents the service answers with (response-documents.ts), built from plain state: what each
 * says when a model is loaded or not, which fields only appear when asked for, and that a check's
 * answer goes out as plain copies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_INPUT_LIMITS, DEMO_WARNING } from '../../../main/config.ts';
import { DEFAULT_BATCHING } from '../../../main/service/batching-options.ts';
import type { CheckAnswer } from '../../../main/service/check-service.ts';
import {
  checkResultDocument,
  healthDocument,
  modelDocument,
  readinessDocument,
  statsDocument,
} from '../../../main/service/response-documents.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { answer, MODEL } from './scripted-backend.ts';

const REAL_MODEL = { ...MODEL, name: 'ofa-ve-large', demo: false, provider: 'cuda' as const };

describe('modelDocument', () => {
  it("a loaded model: its summary and the batching (in the document's snake_case), no error; the demo model carries the warning", () => {
    const doc = modelDocument({ model: REAL_MODEL, batching: DEFAULT_BATCHING });
    assert.equal(doc.ready, true);
    assert.equal(doc.error, undefined);
    assert.equal(doc.warning, undefined);
    assert.deepEqual(doc.model, {
      name: 'ofa-ve-large',
      version: MODEL.version,
      demo: false,
      provider: 'cuda',
      provider_fallback_reason: undefined,
      image_size: MODEL.imageSize,
      max_words: MODEL.maxWords,
    });
    assert.deepEqual(doc.batching, {
      max_batch_size: DEFAULT_BATCHING.maxBatchSize,
      max_queue_delay_ms: DEFAULT_BATCHING.maxQueueDelayMs,
      max_queue_size: DEFAULT_BATCHING.maxQueueSize,
      request_timeout_ms: DEFAULT_BATCHING.requestTimeoutMs,
    });
    assert.equal(modelDocument({ model: MODEL, batching: DEFAULT_BATCHING }).warning, DEMO_WARNING);
    assert.equal(doc.limits, undefined, 'no limits unless given');
  });

  it("carries the service's input limits, in the document's snake_case, for clients to measure captions against", () => {
    const doc = modelDocument({ model: MODEL, batching: DEFAULT_BATCHING, limits: DEFAULT_INPUT_LIMITS });
    assert.deepEqual(doc.limits, {
      max_text_bytes: DEFAULT_INPUT_LIMITS.maxTextBytes,
      max_image_bytes: DEFAULT_INPUT_LIMITS.maxImageBytes,
      max_image_pixels: DEFAULT_INPUT_LIMITS.maxImagePixels,
    });
  });

  it('no model: not ready, with the load error or "loading"; the directory and Prometheus only when given', () => {
    const failed = modelDocument({ model: undefined, loadError: 'model.json is missing', batching: DEFAULT_BATCHING });
    assert.deepEqual([failed.ready, failed.error, failed.model], [false, 'model.json is missing', undefined]);
    assert.equal(modelDocument({ model: undefined, batching: DEFAULT_BATCHING }).error, 'the model is loading');
    assert.equal('model_dir' in failed, false, 'no server path unless asked for');
    assert.equal('prometheus_url' in failed, false);
    const desktop = modelDocument({
      model: MODEL,
      batching: DEFAULT_BATCHING,
      modelDir: '/models/demo',
      prometheusUrl: 'http://prom:9090',
    });
    assert.equal(desktop.model_dir, '/models/demo');
    assert.equal(desktop.prometheus_url, 'http://prom:9090');
  });
});

describe('healthDocument and readinessDocument', () => {
  it('/healthz: ok, or failing with the reason (a default when none is given)', () => {
    assert.deepEqual(healthDocument({ ok: true }, '1.2.3'), { status: 'ok', version: '1.2.3' });
    assert.deepEqual(healthDocument({ ok: false, reason: 'the worker failed 5 times' }, '1.2.3'), {
      status: 'failing',
      version: '1.2.3',
      reason: 'the worker failed 5 times',
    });
    assert.deepEqual(healthDocument({ ok: false }, '1.2.3'), { status: 'failing', version: '1.2.3', reason: 'the service cannot recover' });
  });

  it('/readyz: ready names the model; not ready (also "ready" without a model) is NOT_READY with why', () => {
    assert.deepEqual(readinessDocument({ ready: true }, REAL_MODEL), { status: 'ready', model: 'ofa-ve-large', provider: 'cuda' });
    assert.deepEqual(readinessDocument({ ready: false, reason: 'shutting down' }, REAL_MODEL), {
      status: 'not ready',
      error: { code: 'NOT_READY', message: 'shutting down' },
    });
    assert.deepEqual(readinessDocument({ ready: true }, undefined), {
      status: 'not ready',
      error: { code: 'NOT_READY', message: 'the model is loading' },
    });
  });
});

describe('checkResultDocument', () => {
  it('copies the answer into plain objects; the demo model adds the warning', () => {
    const result = answer('NO');
    const model = { name: 'demo', version: '1', provider: 'cpu', demo: true };
    const warnings = [{ code: 'NOT_ENGLISH' as const, message: 'not English' }];
    const checked: CheckAnswer = { ...result, id: 'r1', latency_ms: 12, stages: { ...result.stages, queue: 3 }, model, warnings };
    const doc = checkResultDocument(checked);
    assert.deepEqual(doc, {
      id: 'r1',
      label: 'NO',
      score: result.score,
      scores: result.scores,
      latency_ms: 12,
      stages: { ...result.stages, queue: 3 },
      model,
      warning: DEMO_WARNING,
      warnings,
    });
    assert.equal('logits' in doc, false, 'the engine-internal logits never reach the wire');
    assert.notEqual(doc.model, model);
    assert.notEqual(doc.warnings[0], warnings[0]);
    assert.equal('warning' in checkResultDocument({ ...checked, model: { ...model, demo: false } }), false);
  });
});

describe('statsDocument', () => {
  it('adds the queue depth now and per second over exactly the snapshot seconds, the alerts and the process figures', () => {
    const stats = new LiveStats();
    const snapshot = stats.snapshot(60);
    const asked: [number, number][] = [];
    const doc = statsDocument(snapshot, {
      queueDepth: 4,
      queueDepthSeries: (from, to) => {
        asked.push([from, to]);
        return Array.from({ length: to - from + 1 }, () => 2);
      },
      alerts: [],
    });
    assert.equal(doc.queue_depth, 4);
    assert.deepEqual(asked, [[snapshot.series[0]!.t, snapshot.series.at(-1)!.t]]);
    assert.equal(doc.queue_depth_series.length, doc.series.length);
    assert.deepEqual(doc.alerts, []);
    assert.ok(doc.process.uptime_s > 0 && doc.process.rss_bytes > 0 && doc.process.heap_used_bytes > 0);
    assert.equal(doc.window_s, snapshot.window_s);
  });
});
