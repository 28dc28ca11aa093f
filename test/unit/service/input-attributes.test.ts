/**
 * The input slices the service records each check under: what it knows itself (caption script,
 * premise, the image format its bytes say) merged with what the worker reports (caption tokens,
 * decoded size); a check that fails keeps what was known. And `serve --data-dir`'s folder.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { historyDirOf } from '../../../main/cli/serve-command.ts';
import { CheckService, requestFacts } from '../../../main/service/check-service.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { ServiceMetrics } from '../../../main/telemetry/service-metrics.ts';
import { answer, refused, ScriptedBackend } from './scripted-backend.ts';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16]);

function slices(stats: LiveStats, attribute: Parameters<LiveStats['snapshotSlices']>[1]): Record<string, number> {
  return Object.fromEntries(stats.snapshotSlices(60, attribute).slices.map((s) => [s.slice, s.requests]));
}

describe('input attributes of a check', () => {
  it('knows the format from the bytes, and the caption and premise from the request', () => {
    assert.deepEqual(requestFacts({ image: PNG, text: 'a dog', premise: 'a cat' }), {
      text: 'a dog',
      premise: 'a cat',
      imageFormat: 'png',
    });
    assert.equal(requestFacts({ image: new Uint8Array([1, 2, 3]), text: 'x' }).imageFormat, 'unknown');
    assert.deepEqual(requestFacts({ image: new Uint8Array(0) }), {});
  });

  it('records answered checks with the worker facts and failed ones with what was known', async () => {
    const backend = new ScriptedBackend(1);
    const metrics = new ServiceMetrics({ appVersion: 'test', defaultMetrics: false });
    const stats = new LiveStats();
    const service = new CheckService(backend, metrics, stats, { maxBatchSize: 3, maxQueueDelayMs: 10_000 });
    const keepAlive = setInterval(() => {}, 1000);
    const checks = [
      service.check({ image: PNG, text: 'a dog on the grass' }),
      service.check({ image: JPEG, text: '一只狗在草地上奔跑', premise: 'a photo' }),
      service.check({ image: JPEG, text: 'a cat' }).catch(() => 'refused'),
    ];
    const batch = await backend.sent(1);
    batch.answer(0, (_item, i) => {
      if (i === 2) return refused({ code: 'INVALID_IMAGE', message: 'broken' });
      const input =
        i === 0 ? { captionTokens: 6, imageWidth: 640, imageHeight: 480 } : { captionTokens: 20, imageWidth: 3000, imageHeight: 2000 };
      return { ok: true, value: { result: answer(), waitMs: 0, input } };
    });
    await Promise.all(checks);
    assert.deepEqual(slices(stats, 'caption_script'), { english: 2, cjk: 1 });
    assert.deepEqual(slices(stats, 'caption_tokens'), { '0-8': 1, '17-32': 1, unknown: 1 });
    assert.deepEqual(slices(stats, 'image_size'), { '0.25-1MP': 1, '4MP+': 1, unknown: 1 });
    assert.deepEqual(slices(stats, 'image_format'), { jpeg: 2, png: 1 });
    assert.deepEqual(slices(stats, 'premise'), { no: 2, yes: 1 });
    metrics.close();
    clearInterval(keepAlive);
  });
});

describe('serve --data-dir', () => {
  it('defaults to $XDG_STATE_HOME/ofa-ve, takes a folder, or none', () => {
    assert.equal(historyDirOf(undefined, { XDG_STATE_HOME: '/state' }), path.join('/state', 'ofa-ve'));
    assert.match(historyDirOf(undefined, {}) ?? '', /\.local[/\\]state[/\\]ofa-ve$/);
    assert.equal(historyDirOf('none'), undefined);
    assert.equal(historyDirOf('/tmp/x'), path.resolve('/tmp/x'));
    assert.throws(() => historyDirOf(''), /--data-dir/);
  });
});
