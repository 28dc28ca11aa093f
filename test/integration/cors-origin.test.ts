/**
 * `ofa-ve serve --cors-origin ORIGIN` against the real runtime and HTTP server: a page of a named
 * origin may use the API with the token (preflight, checks, the 401 it must be able to read),
 * every other origin is refused as before, and the UI page's CSP lets it reach exactly the service
 * named by `?connect=`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { parseCorsOrigin, parseCorsOrigins } from '../../main/server/cors.ts';
import { OfaVeHttpServer } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import { requestTotals } from '../support/service-harness.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

const TOKEN = 'cors-test-token';
const CONSOLE = 'http://127.0.0.1:7860';
const EVIL = 'http://127.0.0.1:6666';

describe('--cors-origin values', () => {
  it('normalises origins as browsers send them and refuses anything that is not one', () => {
    assert.equal(parseCorsOrigin('HTTP://Console-Host:7860/'), 'http://console-host:7860');
    assert.equal(parseCorsOrigin('https://console.example:443'), 'https://console.example');
    assert.equal(parseCorsOrigin('app://console'), 'app://console');
    const bads = ['*', 'null', 'http://console-host:7860/ui', 'http://u:p@console-host', 'console-host:7860', 'http://h/?x'];
    for (const bad of [...bads, 'app://console/x']) {
      assert.throws(() => parseCorsOrigin(bad), /--cors-origin/, bad);
    }
  });

  it('needs a token: without one any page of that origin could use the service', () => {
    assert.deepEqual(parseCorsOrigins([], undefined), []);
    assert.throws(() => parseCorsOrigins([CONSOLE], undefined), /--cors-origin needs --token/);
    assert.deepEqual(parseCorsOrigins([CONSOLE, `${CONSOLE}/`, 'app://console'], TOKEN), [CONSOLE, 'app://console']);
  });
});

describe('CORS for named origins (real server)', () => {
  let runtime: ServiceRuntime;
  let withCors: OfaVeHttpServer;
  let without: OfaVeHttpServer;
  let corsUrl: string;
  let plainUrl: string;
  let uiDir: string;
  let image: Blob;

  before(async () => {
    uiDir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-cors-ui-'));
    await writeFile(path.join(uiDir, 'index.html'), '<!doctype html><title>OFA-VE Console</title>');
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger });
    assert.ok(await runtime.start());
    const { maxImageBytes, maxTextBytes } = runtime.limits;
    const bodyLimits = { maxBodyBytes: 8 * 1024 * 1024, maxImageBytes, maxFieldBytes: maxTextBytes };
    withCors = new OfaVeHttpServer(runtime, { token: TOKEN, corsOrigins: [CONSOLE], logger: silentLogger, bodyLimits, uiDir });
    without = new OfaVeHttpServer(runtime, { token: TOKEN, logger: silentLogger, bodyLimits, uiDir });
    corsUrl = `http://127.0.0.1:${(await withCors.listen(0, '127.0.0.1')).port}`;
    plainUrl = `http://127.0.0.1:${(await without.listen(0, '127.0.0.1')).port}`;
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 20, g: 120, b: 200 } } })
      .png()
      .toBuffer();
    image = new Blob([new Uint8Array(png)], { type: 'image/png' });
  });
  after(async () => {
    await withCors?.close();
    await without?.close();
    await runtime?.close(2000);
    await rm(uiDir, { recursive: true, force: true });
  });

  /** A check as a page of `origin` posts it (Chromium marks a request to another port of the same host same-site). */
  function postCheck(url: string, origin: string, token = TOKEN): Promise<Response> {
    const form = new FormData();
    form.append('image', image, 'blue.png');
    form.append('text', 'a blue square');
    return fetch(`${url}/api/v1/check`, {
      method: 'POST',
      body: form,
      headers: { origin, 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', authorization: `Bearer ${token}` },
    });
  }

  function preflight(url: string, origin: string, method = 'POST'): Promise<Response> {
    return fetch(`${url}/api/v1/check`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization' },
    });
  }

  async function checksCounted(): Promise<number> {
    return requestTotals(await (await fetch(`${corsUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()).total;
  }

  it('answers the preflight of a named origin without a token, and counts it as no check', async () => {
    const before = await checksCounted();
    const res = await preflight(corsUrl, CONSOLE);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET, HEAD, POST');
    assert.match(res.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'never with cookies');
    assert.equal(res.headers.get('vary'), 'Origin');
    assert.equal(await checksCounted(), before);
  });

  it('refuses the preflight of any other origin, or for a method the API does not serve', async () => {
    for (const res of [await preflight(corsUrl, EVIL), await preflight(plainUrl, CONSOLE)]) {
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.notEqual(res.status, 204);
    }
    // A browser needs a 2xx preflight before it sends the request itself.
    const del = await preflight(corsUrl, CONSOLE, 'DELETE');
    assert.ok(del.status >= 400, `DELETE preflight answered ${del.status}`);
    assert.equal(del.headers.get('access-control-allow-methods'), null);
  });

  it('runs a check posted by the named origin with the token, readable by that page', async () => {
    const res = await postCheck(corsUrl, CONSOLE);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE);
    assert.equal(res.headers.get('access-control-expose-headers'), 'Retry-After');
    assert.match(((await res.json()) as { label: string }).label, /^(YES|NO|MAYBE)$/);
  });

  it('still refuses checks from other sites, and from every site without the option', async () => {
    for (const res of [await postCheck(corsUrl, EVIL), await postCheck(plainUrl, CONSOLE)]) {
      assert.equal(res.status, 403);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'FORBIDDEN');
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    }
  });

  it('lets the named page read a 401, so it can say the token was refused', async () => {
    const res = await fetch(`${corsUrl}/api/v1/model`, { headers: { origin: CONSOLE, authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), CONSOLE);
    const wrongToken = await postCheck(corsUrl, CONSOLE, 'wrong');
    assert.equal(wrongToken.status, 401);
  });

  it("puts the ?connect= service, and only a valid one, in the UI page's CSP connect-src", async () => {
    const csp = async (query: string) => {
      const res = await fetch(`${plainUrl}/${query}`);
      assert.equal(res.status, 200);
      return /connect-src ([^;]*);/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
    };
    assert.equal(await csp(''), "'self'");
    assert.equal(await csp('?connect=http://127.0.0.1:7861/'), "'self' http://127.0.0.1:7861");
    assert.equal(await csp(`?connect=${encodeURIComponent('HTTPS://GPU.example:443')}`), "'self' https://gpu.example");
    for (const bad of ['javascript:alert(1)', "http://a;script-src 'unsafe-inline'", 'http://a/b', 'data:,x', '*']) {
      assert.equal(await csp(`?connect=${encodeURIComponent(bad)}`), "'self'", bad);
    }
  });
});
