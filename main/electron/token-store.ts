import { writeJsonAtomic } from './json-file.ts';
import { readFile } from 'node:fs/promises';

/**
 * What the token store needs of Electron's safeStorage (injected, so the logic runs under plain
 * Node in tests): encryption with a key the OS keychain holds (Keychain on macOS, DPAPI on Windows,
 * the Secret Service or KWallet on Linux).
 */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: which keyring backs the key ('basic_text' means none: a key built into Chromium). */
  getSelectedStorageBackend?(): string;
}

export type KeychainStatus = { available: true } | { available: false; reason: string };

/** Thrown by save() when the token cannot be kept encrypted; it is then never written at all. */
export class TokenNotStoredError extends Error {
  constructor(reason: string) {
    super(`the token is not stored: ${reason}. It is used until the app quits`);
    this.name = 'TokenNotStoredError';
  }
}

/** Whether tokens can be kept encrypted by a key of the OS keychain. */
export function keychainStatus(safe: SafeStorageLike, platform: NodeJS.Platform = process.platform): KeychainStatus {
  if (!safe.isEncryptionAvailable()) return { available: false, reason: 'the system keychain is not available to encrypt it' };
  if (platform === 'linux') {
    const backend = safe.getSelectedStorageBackend?.() ?? 'unknown';
    // Chromium falls back to a fixed, public key when there is no keyring: that is plain text in effect.
    if (backend === 'basic_text' || backend === 'unknown') {
      return { available: false, reason: 'no keyring is running (GNOME Keyring or KWallet), so it could only be stored in plain text' };
    }
  }
  return { available: true };
}

interface TokenFile {
  version: 1;
  /** Service origin → the token encrypted by safeStorage, base64. */
  tokens: Record<string, string>;
}

/**
 * The access tokens of remote services, one per service origin, in a file of the app's userData
 * folder holding only safeStorage ciphertext (mode 0600, replaced atomically). A token is never
 * written in plain text: without the keychain, save() refuses and says why.
 */
export class TokenStore {
  constructor(
    private readonly file: string,
    private readonly safe: SafeStorageLike,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  status(): KeychainStatus {
    return keychainStatus(this.safe, this.platform);
  }

  async save(origin: string, token: string): Promise<void> {
    const status = this.status();
    if (!status.available) throw new TokenNotStoredError(status.reason);
    const data = await this.read();
    data.tokens[origin] = this.safe.encryptString(token).toString('base64');
    await this.write(data);
  }

  /** The token kept for this service; undefined when there is none or it cannot be decrypted here. */
  async load(origin: string): Promise<string | undefined> {
    const sealed = (await this.read()).tokens[origin];
    if (!sealed || !this.status().available) return undefined;
    try {
      return this.safe.decryptString(Buffer.from(sealed, 'base64'));
    } catch {
      return undefined; // another user's or machine's keychain, or a key that was reset
    }
  }

  async has(origin: string): Promise<boolean> {
    return (await this.read()).tokens[origin] !== undefined;
  }

  async forget(origin: string): Promise<void> {
    const data = await this.read();
    if (!(origin in data.tokens)) return;
    delete data.tokens[origin];
    await this.write(data);
  }

  private async read(): Promise<TokenFile> {
    // No prototype: an origin can never read as `constructor` or `__proto__`.
    const tokens = Object.create(null) as Record<string, string>;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return { version: 1, tokens };
    }
    try {
      const parsed = JSON.parse(text) as Partial<TokenFile> | null;
      if (parsed && typeof parsed.tokens === 'object' && parsed.tokens !== null) {
        for (const [origin, sealed] of Object.entries(parsed.tokens)) if (typeof sealed === 'string') tokens[origin] = sealed;
      }
    } catch {
      // A damaged file: its tokens have to be given again.
    }
    return { version: 1, tokens };
  }

  private async write(data: TokenFile): Promise<void> {
    await writeJsonAtomic(this.file, { version: 1, tokens: { ...data.tokens } }, { mode: 0o600, indent: 2 });
  }
}
