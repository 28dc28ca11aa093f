import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { secureWebPreferences } from '../../main/electron/web-preferences.ts';

describe('console window webPreferences (Electron security checklist)', () => {
  it('isolates the page from Node and keeps web security on', () => {
    const prefs = secureWebPreferences('/app/out/preload/index.cjs');
    assert.equal(prefs.preload, '/app/out/preload/index.cjs');
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.experimentalFeatures, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.navigateOnDragDrop, false);
  });
});
