import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { devServerUrlOf, isAppUrl, isTrustedSender } from '../../main/electron/app-origin.ts';

describe('Electron IPC sender check (app-origin)', () => {
  const main = { id: 'main' };
  const iframe = { id: 'iframe' };

  it('accepts only the app page in the main frame', () => {
    assert.equal(isTrustedSender(main, main, 'app://console/index.html', undefined), true);
    assert.equal(isTrustedSender(iframe, main, 'app://console/index.html', undefined), false, 'an iframe of the app');
    assert.equal(isTrustedSender(null, main, 'app://console/index.html', undefined), false, 'a frame already gone');
    assert.equal(isTrustedSender(main, main, 'https://evil.example/', undefined), false, 'the window navigated away');
    assert.equal(isTrustedSender(main, main, 'file:///etc/passwd', undefined), false);
  });

  it('matches origins exactly, not by prefix', () => {
    assert.equal(isAppUrl('app://console/assets/x.js', undefined), true);
    assert.equal(isAppUrl('app://console.evil/index.html', undefined), false);
    assert.equal(isAppUrl('app://other/index.html', undefined), false);
    assert.equal(isAppUrl('http://localhost:5173/', 'http://localhost:5173'), true);
    assert.equal(isAppUrl('http://localhost:5173.evil.example/', 'http://localhost:5173'), false);
    assert.equal(isAppUrl('http://localhost:51730/', 'http://localhost:5173'), false);
    assert.equal(isAppUrl('not a url', undefined), false);
    assert.equal(isAppUrl(undefined, undefined), false);
  });
});

describe('the dev server (ELECTRON_RENDERER_URL)', () => {
  const env = { ELECTRON_RENDERER_URL: 'http://localhost:5173' };

  it('is used only when the app is not packaged: a packaged app loads app://console/ and trusts only it', () => {
    assert.equal(devServerUrlOf(false, env), 'http://localhost:5173', 'npm run dev');
    assert.equal(devServerUrlOf(true, env), undefined, 'a packaged app ignores the variable');
    assert.equal(devServerUrlOf(false, {}), undefined);
    assert.equal(devServerUrlOf(false, { ELECTRON_RENDERER_URL: '' }), undefined);
    // What that means for the sender check of a packaged app started with the variable set.
    const main = { id: 'main' };
    assert.equal(isTrustedSender(main, main, 'http://localhost:5173/', devServerUrlOf(true, env)), false);
    assert.equal(isTrustedSender(main, main, 'app://console/index.html', devServerUrlOf(true, env)), true);
  });
});
