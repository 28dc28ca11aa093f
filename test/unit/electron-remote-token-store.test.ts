/**
 * The desktop app's store of remote-service tokens (main/electron/token-store.ts) under plain
 * Node, with a safeStorage-like object doing real AES-256-GCM with its own key (what Electron's
 * safeStorage does with a key from the OS keychain): only ciphertext reaches the disk, each service
 * has its own token, and without a keychain nothing is written at all.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keychainStatus, TokenNotStoredError, TokenStore, type SafeStorageLike } from '../../main/electron/token-store.ts';

/** Encrypts like safeStorage: a key the "keychain" holds, never written beside the data. */
class KeychainCipher implements SafeStorageLike {
  private readonly key = randomBytes(32);
  constructor(
    private readonly available = true,
    private readonly backend?: string,
  ) {}

  isEncryptionAvailable(): boolean {
    return this.available;
  }

  encryptString(plainText: string): Buffer {
    if (!this.available) throw new Error('encryption is not available');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decryptString(encrypted: Buffer): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key, encrypted.subarray(0, 12));
    decipher.setAuthTag(encrypted.subarray(12, 28));
    return Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString('utf8');
  }

  getSelectedStorageBackend(): string {
    return this.backend ?? 'gnome_libsecret';
  }
}

const GPU = 'https://gpu-box.example:7860';
const OTHER = 'http://127.0.0.1:9000';
const TOKEN = 's3cret-token-value-0123456789';

describe('TokenStore (safeStorage ciphertext in userData)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ofa-ve-tokens-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps one token per service, encrypted: the file never holds the token itself', async () => {
    const file = path.join(dir, 'a', 'remote-tokens.json');
    const store = new TokenStore(file, new KeychainCipher(), 'linux');
    await store.save(GPU, TOKEN);
    await store.save(OTHER, 'another-one');
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(TOKEN) && !text.includes('another-one'), 'no token in plain text on disk');
    assert.ok(!text.includes(Buffer.from(TOKEN).toString('base64')), 'nor merely base64-encoded');
    assert.deepEqual(Object.keys(JSON.parse(text).tokens as object).sort(), [OTHER, GPU].sort());
    assert.equal(await store.load(GPU), TOKEN);
    assert.equal(await store.load(OTHER), 'another-one');
    assert.equal(await store.load('https://elsewhere.example'), undefined, 'no token for a service never given one');
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600, 'readable by the user only');
  });

  it('replaces and forgets a service token without touching the others', async () => {
    const store = new TokenStore(path.join(dir, 'b.json'), new KeychainCipher(), 'darwin');
    await store.save(GPU, 'old');
    await store.save(OTHER, 'kept');
    await store.save(GPU, 'new');
    assert.equal(await store.load(GPU), 'new');
    await store.forget(GPU);
    assert.equal(await store.load(GPU), undefined);
    assert.equal(await store.has(GPU), false);
    assert.equal(await store.load(OTHER), 'kept');
  });

  it('refuses to store without encryption, says why, and writes nothing', async () => {
    const file = path.join(dir, 'c.json');
    const store = new TokenStore(file, new KeychainCipher(false), 'win32');
    assert.deepEqual(store.status(), { available: false, reason: 'the system keychain is not available to encrypt it' });
    await assert.rejects(store.save(GPU, TOKEN), (err: unknown) => {
      assert.ok(err instanceof TokenNotStoredError);
      assert.match(err.message, /not stored: the system keychain is not available.*until the app quits/);
      return true;
    });
    await assert.rejects(readFile(file), { code: 'ENOENT' });
  });

  it('treats Linux without a keyring (basic_text: a key built into Chromium) as no encryption', async () => {
    const store = new TokenStore(path.join(dir, 'd.json'), new KeychainCipher(true, 'basic_text'), 'linux');
    assert.equal(store.status().available, false);
    assert.match((store.status() as { reason: string }).reason, /no keyring is running/);
    await assert.rejects(store.save(GPU, TOKEN), TokenNotStoredError);
    // The same backend name elsewhere is not a thing; KWallet on Linux is a keyring.
    assert.equal(keychainStatus(new KeychainCipher(true, 'kwallet5'), 'linux').available, true);
    assert.equal(keychainStatus(new KeychainCipher(true, 'basic_text'), 'darwin').available, true);
  });

  it('reads a token sealed by another keychain (another user, a reset key) as none, not as an error', async () => {
    const file = path.join(dir, 'e.json');
    await new TokenStore(file, new KeychainCipher(), 'darwin').save(GPU, TOKEN);
    const elsewhere = new TokenStore(file, new KeychainCipher(), 'darwin');
    assert.equal(await elsewhere.has(GPU), true);
    assert.equal(await elsewhere.load(GPU), undefined);
  });

  it('survives a damaged file and names that are Object.prototype keys', async () => {
    const file = path.join(dir, 'f.json');
    await writeFile(file, '{"tokens": ');
    const store = new TokenStore(file, new KeychainCipher(), 'darwin');
    assert.equal(await store.load(GPU), undefined);
    assert.equal(await store.has('constructor'), false);
    assert.equal(await store.has('__proto__'), false);
    await store.save(GPU, TOKEN);
    assert.equal(await store.load(GPU), TOKEN);
    await writeFile(file, JSON.stringify({ version: 1, tokens: { [GPU]: 42, __proto__: 'x' } }));
    assert.equal(await store.load(GPU), undefined, 'a value that is not ciphertext text is ignored');
  });
});
