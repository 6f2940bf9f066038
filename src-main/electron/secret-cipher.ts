/**
 * The secrets vault's cipher in the app: Electron's safeStorage, whose key lives in the macOS
 * Keychain (on Linux: GNOME libsecret or KWallet). Linux without a keyring falls back to a
 * hard-coded password ("basic_text"): that is not encryption, so it counts as unavailable there.
 * safeStorage only works once the app is ready; the vault calls it from IPC handlers, after that.
 */
import type { SafeStorage } from 'electron';
import type { SecretCipher } from '../core/secrets/secret-vault.js';

type SafeStorageApi = Pick<
  SafeStorage,
  'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'
> &
  AsyncSafeStorage;

/**
 * The asynchronous calls of newer Electron releases (docs/api/safe-storage.md: the synchronous
 * isEncryptionAvailable/encryptString/decryptString are deprecated and go in Electron 46; the
 * asynchronous ones do not block the main process while the Keychain answers, and data written by
 * the synchronous ones decrypts with them). Used whenever the running Electron has them.
 */
interface AsyncSafeStorage {
  encryptStringAsync?(plainText: string): Promise<Buffer>;
  decryptStringAsync?(encrypted: Buffer): Promise<{ shouldReEncrypt: boolean; result: string }>;
}

export function safeStorageCipher(safeStorage: SafeStorageApi, platform: string): SecretCipher {
  const backend = () => (platform === 'linux' ? safeStorage.getSelectedStorageBackend() : null);
  return {
    available: () => {
      if (!safeStorage.isEncryptionAvailable()) return false;
      const b = backend();
      return b !== 'basic_text' && b !== 'unknown';
    },
    describe: () => {
      if (platform === 'darwin') return 'the macOS Keychain';
      if (platform === 'win32') return 'Windows DPAPI';
      return `the ${backend() ?? 'system'} keyring`;
    },
    encrypt: async (text) =>
      safeStorage.encryptStringAsync ? safeStorage.encryptStringAsync(text) : safeStorage.encryptString(text),
    decrypt: async (data) =>
      safeStorage.decryptStringAsync
        ? (await safeStorage.decryptStringAsync(data)).result
        : safeStorage.decryptString(data),
  };
}
