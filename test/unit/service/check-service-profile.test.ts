/**
 * The CheckService's operator path (`serve --profile-sample-rate`): a batch's profile comes after
 * its answers (the backend's onProfile hook), and each of its checks' traces gets it, whether it
 * comes after the checks were recorded or before their answers' continuations have run.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OperatorProfile } from '../../../preload/trace-spans.ts';
import { CheckService } from '../../../main/service/check-service.ts';
import type { BatchHooks } from '../../../main/service/inference-backend.ts';
import type { WorkerItem, WorkerOutcome } from '../../../main/service/worker-protocol.ts';
import { LiveStats } from '../../../main/telemetry/live-stats.ts';
import { ServiceMetrics } from '../../../main/telemetry/service-metrics.ts';
import { ScriptedBackend } from './scripted-backend.ts';

const PROFILE: OperatorProfile = {
  runUs: 900,
  events: [{ name: 'Softmax_3', opType: 'Softmax', provider: 'CPUExecutionProvider', startUs: 5, durUs: 40 }],
  omitted: 0,
};

/** The scripted backend, keeping each batch's hooks so the test can deliver its profile. */
class ProfilingBackend extends ScriptedBackend {
  readonly hooks: (BatchHooks | undefined)[] = [];

  override runBatch(items: readonly WorkerItem[], hooks?: BatchHooks): Promise<readonly WorkerOutcome[]> {
    this.hooks.push(hooks);
    return super.runBatch(items, hooks);
  }
}

function setup() {
  const backend = new ProfilingBackend();
  const metrics = new ServiceMetrics({ appVersion: 'test', defaultMetrics: false });
  const stats = new LiveStats();
  // Two checks fill a batch: both go in one, at once (the long delay never runs out).
  const service = new CheckService(backend, metrics, stats, { maxBatchSize: 2, maxQueueDelayMs: 60_000 });
  const check = (id: string) => service.check({ image: new Uint8Array([1, 2, 3]), text: 'a cat' }, { id });
  return { backend, stats, check, close: () => metrics.close() };
}

describe('CheckService: operator profiles that follow the answers', () => {
  it("attaches a profile that comes after the checks were answered to each of the batch's traces", async () => {
    const { backend, stats, check, close } = setup();
    const answers = Promise.all([check('a'), check('b')]);
    const batch = await backend.sent(1);
    assert.deepEqual(
      batch.items.map((i) => i.id),
      ['a', 'b'],
      'one batch',
    );
    batch.start();
    batch.answer();
    await answers;
    assert.equal(stats.traces.get('a')?.operators, undefined, 'answered before the profile came');
    backend.hooks[0]!.onProfile!(PROFILE);
    assert.equal(stats.traces.get('a')?.operators, PROFILE);
    assert.equal(stats.traces.get('b')?.operators, PROFILE);
    close();
  });

  it('keeps a profile that comes before the checks are recorded until they are', async () => {
    const { backend, stats, check, close } = setup();
    const answers = Promise.all([check('c'), check('d')]);
    const batch = await backend.sent(1);
    batch.start();
    batch.answer();
    // As when 'batch-done' and 'batch-profile' arrive together: the answers' continuations have not run yet.
    assert.equal(stats.traces.get('c'), undefined, 'not recorded yet');
    backend.hooks[0]!.onProfile!(PROFILE);
    await answers;
    assert.equal(stats.traces.get('c')?.operators, PROFILE);
    assert.equal(stats.traces.get('d')?.operators, PROFILE);
    close();
  });

  it('leaves the traces of a batch whose profile never comes without operators', async () => {
    const { backend, stats, check, close } = setup();
    const answers = Promise.all([check('e'), check('f')]);
    const batch = await backend.sent(1);
    batch.start();
    batch.answer();
    await answers;
    const trace = stats.traces.get('e');
    assert.equal(trace?.statusCode, 200);
    assert.equal(trace?.operators, undefined);
    close();
  });
});
