/**
 * Electron's `safeStorage` (Electron 41, docs/api/safe-storage.md) for tests: the same methods and
 * error texts, with real encryption done here. Where Electron keeps one key per app in the macOS
 * Keychain, this keeps one random AES-256-GCM key per instance ("per Keychain"): data from another
 * instance, or changed data, does not decrypt. Blobs start with "v10" like Chromium's OSCrypt.
 *
 * Knobs, for the cases a real Mac shows: `available = false` (no Keychain, or a locked keyring),
 * `backend` (Linux: "basic_text" when there is no keyring at all).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

type Backend = 'basic_text' | 'gnome_libsecret' | 'kwallet' | 'kwallet5' | 'kwallet6' | 'unknown';

const PREFIX = Buffer.from('v10');

export class SafeStorageDouble {
  available = true;
  backend: Backend = 'gnome_libsecret';
  /** How many times something was encrypted or decrypted (each is a Keychain access on a Mac). */
  calls = { encrypt: 0, decrypt: 0, encryptAsync: 0, decryptAsync: 0 };
  private readonly key = randomBytes(32);

  isEncryptionAvailable(): boolean {
    return this.available;
  }

  getSelectedStorageBackend(): Backend {
    return this.backend;
  }

  setUsePlainTextEncryption(usePlainText: boolean): void {
    if (usePlainText) this.backend = 'basic_text';
  }

  encryptString(plainText: string): Buffer {
    this.calls.encrypt++;
    if (!this.available) {
      throw new Error(
        'Error while encrypting the text provided to safeStorage.encryptString. Encryption is not available.',
      );
    }
    return this.seal(plainText);
  }

  decryptString(encrypted: Buffer): string {
    this.calls.decrypt++;
    if (!this.available) {
      throw new Error(
        'Error while decrypting the ciphertext provided to safeStorage.decryptString. Decryption is not available.',
      );
    }
    return this.unseal(encrypted);
  }

  /** The asynchronous calls (newer Electron; the synchronous ones are deprecated for Electron 46). */
  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return this.available;
  }

  async encryptStringAsync(plainText: string): Promise<Buffer> {
    this.calls.encryptAsync++;
    if (!this.available) throw new Error('Encryption is not available.');
    return this.seal(plainText);
  }

  async decryptStringAsync(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }> {
    this.calls.decryptAsync++;
    if (!this.available) throw new Error('Decryption is not available.');
    return { shouldReEncrypt: false, result: this.unseal(encrypted) };
  }

  private seal(plainText: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([PREFIX, iv, cipher.getAuthTag(), body]);
  }

  private unseal(encrypted: Buffer): string {
    try {
      if (!encrypted.subarray(0, 3).equals(PREFIX)) throw new Error('no v10 prefix');
      const iv = encrypted.subarray(3, 15);
      const tag = encrypted.subarray(15, 31);
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(encrypted.subarray(31)), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
    }
  }
}
