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
>;

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
    encrypt: async (text) => safeStorage.encryptString(text),
    decrypt: async (data) => safeStorage.decryptString(data),
  };
}
