import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { appVersion } from '../../main/config.ts';

describe('appVersion', () => {
  it("is package.json's version (what /healthz, build_info and the bench report say)", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.match(pkg.version, /^\d+\.\d+\.\d+/);
    assert.equal(appVersion(), pkg.version);
  });
});
