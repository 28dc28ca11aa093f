/**
 * The desktop app's choice between its own model and a remote `ofa-ve serve`
 * (main/electron/remote-connection.ts) under plain Node: the address check, the start-up choice
 * (--connect with OFA_VE_TOKEN or the keychain, the saved choice), "Test connection" against a real
 * service (allowed origin, token, CORS, not ofa-ve at all, nothing listening), and the switch:
 * the local model stops only when a remote was reached, and the token goes to the keychain (or,
 * without one, is used for the session and the user is told).
 */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConnectionManager,
  connectRequestOf,
  loadConnectionChoice,
  startupConnection,
  testRemoteService,
  testRequestOf,
} from '../../main/electron/remote-connection.ts';
import { ConnectionError } from '../../main/electron/remote-fetch.ts';
import { TokenStore, type SafeStorageLike } from '../../main/electron/token-store.ts';
import { silentLogger } from '../../main/logging/json-logger.ts';
import { OfaVeHttpServer } from '../../main/server/http-server.ts';
import { ServiceRuntime } from '../../main/service/service-runtime.ts';
import { parseServiceUrl } from '../../preload/service-url.ts';
import { DEMO_MODEL_DIR } from '../support/shared-reference.ts';

const TOKEN = 'remote-test-token';

/** safeStorage's contract with a real cipher; `available` false is a machine without a keychain. */
function safeStorage(available = true): SafeStorageLike {
  const key = randomBytes(32);
  return {
    isEncryptionAvailable: () => available,
    encryptString(text) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    decryptString(data) {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8');
    },
    getSelectedStorageBackend: () => 'gnome_libsecret',
  };
}

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConnectionError, `a ConnectionError, not ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('service addresses (preload/service-url.ts)', () => {
  it('takes scheme, host and port only, and says what is wrong otherwise', () => {
    const loopback = { ok: true, origin: 'http://127.0.0.1:7861', host: '127.0.0.1:7861', insecure: false };
    assert.deepEqual(parseServiceUrl(' http://127.0.0.1:7861/ '), loopback);
    const https = { ok: true, origin: 'https://gpu-box.example', host: 'gpu-box.example', insecure: false };
    assert.deepEqual(parseServiceUrl('HTTPS://GPU-Box.example:443'), https, 'lower case, no default port');
    assert.equal((parseServiceUrl('http://gpu-box:7860') as { insecure: boolean }).insecure, true, 'plain http to another machine');
    assert.equal((parseServiceUrl('http://[::1]:7860') as { insecure: boolean }).insecure, false);
    const reasons: [string, RegExp][] = [
      ['', /give the address/],
      ['gpu-box:7860', /start the address with http:\/\/ or https:\/\/ \(e\.g\. http:\/\/gpu-box:7860\)/],
      ['ftp://gpu-box', /http:\/\/ or https:\/\/ \(e\.g\. http:\/\/gpu-box\)/],
      ['http://user:pw@gpu-box:7860', /no user name or password/],
      ['http://gpu-box:7860/api/v1', /without a path or query: http:\/\/gpu-box:7860/],
      ['http://gpu-box:7860/?token=x', /without a path or query/],
      ['http://gpu box', /not a valid address/],
    ];
    for (const [input, reason] of reasons) {
      const parsed = parseServiceUrl(input);
      assert.equal(parsed.ok, false, input);
      assert.match((parsed as { reason: string }).reason, reason, input);
    }
  });
});

describe('start-up choice: --connect, the saved choice, the local model', () => {
  let dir: string;
  let tokens: TokenStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-connect-'));
    tokens = new TokenStore(path.join(dir, 'remote-tokens.json'), safeStorage(), 'linux');
    await tokens.save('https://gpu-box.example', 'from-keychain');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--connect takes OFA_VE_TOKEN first, then the keychain, and never starts from the saved choice', async () => {
    const saved = { mode: 'local' as const };
    assert.deepEqual(await startupConnection({ connect: 'https://gpu-box.example/', envToken: 'from-env', saved, tokens }), {
      mode: 'remote',
      url: 'https://gpu-box.example',
      host: 'gpu-box.example',
      token: 'from-env',
      tokenSource: 'env',
    });
    const fromKeychain = await startupConnection({ connect: 'https://gpu-box.example', envToken: '  ', saved, tokens });
    assert.equal(fromKeychain.mode === 'remote' && fromKeychain.token, 'from-keychain', 'a blank OFA_VE_TOKEN is no token');
    assert.equal(fromKeychain.mode === 'remote' && fromKeychain.tokenSource, 'keychain');
    const none = await startupConnection({ connect: 'http://127.0.0.1:9', saved, tokens });
    assert.deepEqual(none, { mode: 'remote', url: 'http://127.0.0.1:9', host: '127.0.0.1:9', tokenSource: 'none' });
  });

  it('refuses a bad --connect address rather than quietly loading the local model', async () => {
    const local = { mode: 'local' as const };
    await rejectsWith(startupConnection({ connect: 'gpu-box:7860', saved: local, tokens }), 'BAD_URL', /^--connect gpu-box:7860: start/);
    // The window (app://console) is a secure origin: Chromium would block plain http to another machine.
    await rejectsWith(
      startupConnection({ connect: 'http://gpu-box:7860', saved: local, tokens }),
      'BAD_URL',
      /plain http to another machine.*give its https address.*ssh -L 7860:127\.0\.0\.1:7860 HOST/,
    );
    const tunnel = await startupConnection({ connect: 'http://localhost:7860', saved: local, tokens });
    assert.equal(tunnel.mode, 'remote', 'a tunnel is fine');
  });

  it('without --connect, uses the choice saved from the dialog, else the local model', async () => {
    const file = path.join(dir, 'connection.json');
    assert.deepEqual(await loadConnectionChoice(file), { mode: 'local' }, 'nothing saved yet');
    await writeFile(file, JSON.stringify({ mode: 'remote', url: 'https://gpu-box.example' }));
    const saved = await loadConnectionChoice(file);
    const state = await startupConnection({ saved, tokens });
    assert.equal(state.mode === 'remote' && state.token, 'from-keychain');
    for (const damaged of ['{', JSON.stringify({ mode: 'remote', url: 'ftp://x' }), JSON.stringify({ mode: 'remote' }), 'null']) {
      await writeFile(file, damaged);
      assert.deepEqual(await loadConnectionChoice(file), { mode: 'local' }, damaged);
    }
    await writeFile(file, JSON.stringify({ mode: 'remote', url: 'http://gpu-box:7860' }));
    const unusable = await startupConnection({ saved: await loadConnectionChoice(file), tokens });
    assert.deepEqual(unusable, { mode: 'local' }, 'an address the window cannot use');
    const envOnly = await startupConnection({ saved: { mode: 'local' }, tokens, envToken: 'ignored without --connect' });
    assert.deepEqual(envOnly, { mode: 'local' });
  });
});

describe('Test connection and the switch, against real services', () => {
  let runtime: ServiceRuntime;
  const servers: OfaVeHttpServer[] = [];
  let allowing: string;
  let notAllowing: string;
  let stranger: http.Server;
  let strangerUrl: string;
  let closedUrl: string;
  let dir: string;

  async function serve(corsOrigins: string[]): Promise<string> {
    const limits = runtime.limits;
    const server = new OfaVeHttpServer(runtime, {
      token: TOKEN,
      corsOrigins,
      logger: silentLogger,
      bodyLimits: { maxBodyBytes: 8 * 1024 * 1024, maxImageBytes: limits.maxImageBytes, maxFieldBytes: limits.maxTextBytes },
    });
    servers.push(server);
    return `http://127.0.0.1:${(await server.listen(0, '127.0.0.1')).port}`;
  }

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-switch-'));
    runtime = new ServiceRuntime({ modelDir: DEMO_MODEL_DIR, provider: 'cpu', logger: silentLogger });
    assert.ok(await runtime.start());
    allowing = await serve(['app://console']);
    notAllowing = await serve(['http://127.0.0.1:1']);
    stranger = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>router admin</h1>'));
    await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
    strangerUrl = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}`;
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  after(async () => {
    for (const server of servers) await server.close();
    await runtime?.close(2000);
    await new Promise<void>((resolve) => (stranger ? stranger.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the version and model of a service that allows the window and accepts the token', async () => {
    const info = await testRemoteService(`${allowing}/`, TOKEN);
    assert.equal(info.url, allowing);
    assert.equal(info.host, allowing.slice('http://'.length));
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.equal(info.model.ready, true);
    assert.equal(info.model.model?.demo, true);
    assert.equal(info.model.model_dir, undefined, 'no server path crosses the wire');
  });

  it('tells each way it can fail apart, in words that say what to do', async () => {
    await rejectsWith(testRemoteService(allowing, 'wrong'), 'UNAUTHORIZED', /refused the token/);
    await rejectsWith(testRemoteService(allowing, undefined), 'UNAUTHORIZED', /needs an access token/);
    await rejectsWith(testRemoteService(notAllowing, TOKEN), 'CORS_NOT_ALLOWED', /start it with --cors-origin app:\/\/console/);
    await rejectsWith(testRemoteService(strangerUrl, TOKEN), 'NOT_OFA_VE', /not as ofa-ve serve does/);
    await rejectsWith(testRemoteService(closedUrl, TOKEN), 'SERVICE_UNAVAILABLE', /cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/);
    await rejectsWith(testRemoteService('http://gpu-box:7860/x', TOKEN), 'BAD_URL');
    await rejectsWith(testRemoteService('http://gpu-box:7860', TOKEN), 'BAD_URL', /plain http to another machine/);
  });

  function manager(initial: ConstructorParameters<typeof ConnectionManager>[0], keychain = true) {
    const calls: string[] = [];
    const tokens = new TokenStore(path.join(dir, `tokens-${Math.random()}.json`), safeStorage(keychain), 'darwin');
    const settingsFile = path.join(dir, `connection-${Math.random()}.json`);
    const connection = new ConnectionManager(initial, {
      tokens,
      settingsFile,
      startLocal: async () => void calls.push('startLocal'),
      stopLocal: async () => void calls.push('stopLocal'),
    });
    return { connection, calls, tokens, settingsFile };
  }

  it('local → remote: tests first, keeps the token in the keychain, saves the choice, then stops the local model', async () => {
    const { connection, calls, tokens, settingsFile } = manager({ mode: 'local' });
    assert.deepEqual(connection.connectSources(), []);
    const info = await connection.connect({ mode: 'remote', url: `${allowing}/`, token: ` ${TOKEN} ` });
    assert.deepEqual(calls, ['stopLocal']);
    assert.equal(info.current.mode, 'remote');
    assert.equal(info.current.mode === 'remote' && info.current.token, TOKEN, 'the typed token, trimmed');
    assert.equal(info.current.mode === 'remote' && info.current.tokenSource, 'keychain');
    assert.equal(info.notice, undefined);
    assert.deepEqual(info.keychain, { available: true });
    assert.equal(await tokens.load(allowing), TOKEN);
    const settings: unknown = JSON.parse(await readFile(settingsFile, 'utf8'));
    assert.deepEqual(settings, { mode: 'remote', url: allowing }, 'the token is not in the settings');
    assert.deepEqual(connection.connectSources(), [allowing], 'the window may now fetch that origin, and only it');
    // Testing again needs no token typed: the one in use is used.
    assert.equal((await connection.test({ url: allowing })).model.ready, true);
  });

  it('a service that cannot be used leaves everything as it was', async () => {
    const { connection, calls, tokens, settingsFile } = manager({ mode: 'local' });
    await rejectsWith(connection.connect({ mode: 'remote', url: allowing, token: 'wrong' }), 'UNAUTHORIZED');
    await rejectsWith(connection.connect({ mode: 'remote', url: notAllowing, token: TOKEN }), 'CORS_NOT_ALLOWED');
    await rejectsWith(connection.connect({ mode: 'remote', url: 'not a url' }), 'BAD_URL');
    assert.deepEqual(calls, [], 'the local model keeps running');
    assert.deepEqual(connection.current, { mode: 'local' });
    assert.equal(await tokens.has(allowing), false, 'a refused token is not kept');
    await assert.rejects(readFile(settingsFile), { code: 'ENOENT' });
  });

  it('without a keychain: connects with the token for this run only, stores nothing and says so', async () => {
    const { connection, tokens } = manager({ mode: 'local' }, false);
    const info = await connection.connect({ mode: 'remote', url: allowing, token: TOKEN });
    assert.equal(info.current.mode === 'remote' && info.current.tokenSource, 'session');
    assert.match(info.notice ?? '', /not stored: the system keychain is not available.*until the app quits/);
    assert.equal(info.keychain.available, false);
    assert.equal(await tokens.has(allowing), false);
  });

  it('remote → local starts the local model again; remote → remote uses the keychain token of the new one', async () => {
    const { connection, calls, tokens } = manager({ mode: 'remote', url: notAllowing, host: 'x', tokenSource: 'none' });
    await tokens.save(allowing, TOKEN);
    const info = await connection.connect({ mode: 'remote', url: allowing });
    assert.equal(info.current.mode === 'remote' && info.current.tokenSource, 'keychain');
    assert.deepEqual(calls, [], 'no local model to stop: it was not running');
    await connection.connect({ mode: 'local' });
    assert.deepEqual(calls, ['startLocal']);
    assert.deepEqual(connection.connectSources(), []);
    await connection.connect({ mode: 'local' });
    assert.deepEqual(calls, ['startLocal'], 'local → local starts nothing');
  });
});

describe('Test connection against a service that redirects elsewhere', () => {
  it('A answers 307 to B: NOT_OFA_VE naming B, and B gets no request (so never the token)', async () => {
    const seenByB: string[] = [];
    const b = http.createServer((req, res) => {
      seenByB.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
      res.setHeader('access-control-allow-origin', 'app://console');
      res.end(JSON.stringify(req.url === '/healthz' ? { version: 'evil' } : { ready: true }));
    });
    await new Promise<void>((resolve) => b.listen(0, '127.0.0.1', resolve));
    const originB = `http://localhost:${(b.address() as AddressInfo).port}`;
    const a = http.createServer((req, res) => res.writeHead(307, { location: `${originB}${req.url}` }).end());
    await new Promise<void>((resolve) => a.listen(0, '127.0.0.1', resolve));
    const originA = `http://127.0.0.1:${(a.address() as AddressInfo).port}`;
    try {
      await rejectsWith(testRemoteService(originA, 'SECRET'), 'NOT_OFA_VE', new RegExp(`redirects to ${originB}: connect to that address`));
      assert.deepEqual(seenByB, []);
    } finally {
      await Promise.all([a, b].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    }
  });
});

describe('tokens with characters no token has', () => {
  const keeper = { status: () => ({ available: true }) as const, save: async () => {}, load: async () => undefined };
  const connection = () =>
    new ConnectionManager(
      { mode: 'local' },
      { tokens: keeper, settingsFile: '/nonexistent/connection.json', startLocal: async () => {}, stopLocal: async () => {} },
    );

  it('are BAD_TOKEN before anything is sent, not "cannot reach"', async () => {
    // Port 9 (discard) on loopback: nothing is reached, and nothing need be.
    for (const token of ['abc\ndef', 'abc def', 'tökén', 'abc\u00a0def', '\u201cquoted\u201d']) {
      await rejectsWith(connection().test({ url: 'http://127.0.0.1:9', token }), 'BAD_TOKEN', /characters a token cannot have/);
      await rejectsWith(connection().connect({ mode: 'remote', url: 'http://127.0.0.1:9', token }), 'BAD_TOKEN');
    }
    const tokens = { load: async () => undefined };
    await rejectsWith(
      startupConnection({ connect: 'http://127.0.0.1:9', envToken: 'a b', saved: { mode: 'local' }, tokens }),
      'BAD_TOKEN',
      /^OFA_VE_TOKEN: the token has characters/,
    );
  });

  it('surrounding spaces and line breaks are trimmed, as before', async () => {
    const state = await startupConnection({
      connect: 'http://127.0.0.1:9',
      envToken: ' tok-en_1.~+/= \n',
      saved: { mode: 'local' },
      tokens: keeper,
    });
    assert.equal(state.mode === 'remote' && state.token, 'tok-en_1.~+/=');
  });
});

describe('IPC requests to the connection channels', () => {
  it('are checked field by field: an address as text, a token as text if any, a mode', () => {
    assert.deepEqual(testRequestOf({ url: 'https://x', token: 't', extra: 1 }), { url: 'https://x', token: 't' });
    assert.deepEqual(connectRequestOf({ mode: 'local', url: 5 }), { mode: 'local' });
    assert.deepEqual(connectRequestOf({ mode: 'remote', url: 'https://x' }), { mode: 'remote', url: 'https://x' });
    const fails = (run: () => unknown, code: string) =>
      assert.throws(run, (err: unknown) => err instanceof ConnectionError && err.code === code);
    for (const bad of [null, 'https://x', ['https://x'], { url: 5 }, {}]) fails(() => testRequestOf(bad), 'BAD_URL');
    fails(() => testRequestOf({ url: 'https://x', token: 5 }), 'BAD_TOKEN');
    for (const bad of [null, {}, { mode: 'LOCAL' }, { mode: 'remote' }]) fails(() => connectRequestOf(bad), 'BAD_URL');
  });
});

describe('switches one after another', () => {
  it('remote → local while the local model starts, then → remote: the local model ends stopped and the app says remote', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-serial-'));
    // A remote that "Test connection" accepts, answering at once.
    const remote = http.createServer((req, res) => {
      res.setHeader('access-control-allow-origin', 'app://console');
      res.end(JSON.stringify(req.url === '/healthz' ? { version: '1.0.0' } : { ready: true }));
    });
    await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    try {
      let running = false;
      const events: string[] = [];
      let finishStart: () => void = () => {};
      const keeper = { status: () => ({ available: true }) as const, save: async () => {}, load: async () => undefined };
      const connection = new ConnectionManager(
        { mode: 'remote', url, host: 'x', tokenSource: 'none' },
        {
          tokens: keeper,
          settingsFile: path.join(dir, 'connection.json'),
          // Starting takes a while (a model loads): it ends when the test says.
          startLocal: () =>
            new Promise<void>((resolve) => {
              events.push('start begins');
              finishStart = () => {
                running = true;
                events.push('start ends');
                resolve();
              };
            }),
          stopLocal: async () => {
            events.push('stop');
            running = false;
          },
        },
      );
      const toLocal = connection.connect({ mode: 'local' });
      const toRemote = connection.connect({ mode: 'remote', url });
      // Give the remote switch every chance to run while the local model is still starting (unserialised,
      // it tested the remote, "stopped" the local model that was not up yet and finished here).
      await Promise.race([toRemote, new Promise((resolve) => setTimeout(resolve, 200))]);
      assert.deepEqual(events, ['start begins'], 'the second switch waits for the first');
      finishStart();
      await toLocal;
      const info = await toRemote;
      assert.deepEqual(events, ['start begins', 'start ends', 'stop']);
      assert.equal(info.current.mode, 'remote');
      assert.equal(running, false, 'no local model left running behind a remote connection');
      // A failed switch does not block the ones after it.
      await rejectsWith(connection.connect({ mode: 'remote', url: 'not a url' }), 'BAD_URL');
      assert.equal((await connection.connect({ mode: 'remote', url })).current.mode, 'remote');
    } finally {
      await new Promise<void>((resolve) => remote.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
