/**
 * main/cli/model-notices.ts: the stderr lines `ofa-ve check` and `check --batch` print about the
 * model they loaded (test/unit/cli-check.test.ts and test/integration/cli-batch.test.ts see them
 * printed by each command).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelNotices } from '../../../main/cli/model-notices.ts';
import { DEMO_WARNING } from '../../../main/config.ts';

const FALLBACK = 'no CUDA device';

describe('modelNotices', () => {
  it('the demo model: a warning line naming it, with the "warning: " prefix', () => {
    assert.deepEqual(modelNotices({ demo: true }, 'cpu'), [`warning: ${DEMO_WARNING}`]);
    assert.match(DEMO_WARNING, /demo model/);
  });

  it('--provider auto that fell back: a note with the reason, after the demo warning', () => {
    assert.deepEqual(modelNotices({ demo: true, providerFallbackReason: FALLBACK }, 'auto'), [
      `warning: ${DEMO_WARNING}`,
      `note: running on CPU (${FALLBACK})`,
    ]);
    assert.deepEqual(modelNotices({ demo: false, providerFallbackReason: FALLBACK }, 'auto'), [`note: running on CPU (${FALLBACK})`]);
  });

  it('nothing for a real model on the provider asked for, or for a CPU run that was asked for', () => {
    assert.deepEqual(modelNotices({ demo: false }, 'auto'), []);
    assert.deepEqual(modelNotices({ demo: false, providerFallbackReason: FALLBACK }, 'cpu'), []);
  });
});
