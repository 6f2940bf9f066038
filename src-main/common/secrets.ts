/** The secrets vault's status as the app shows it: names, never values. Plain data only. */

export interface VaultStatus {
  stored: boolean;
  /** The system can encrypt (Keychain on macOS; a keyring on Linux). */
  encryptionAvailable: boolean;
  /** Where the key lives: "the macOS Keychain". */
  protectedBy: string;
  /** Setting names, never values. */
  keys: string[];
  hasRootPassword: boolean;
  importedAt: string | null;
  /** The file it was imported from, to remind the user that copy is still in clear. */
  importedFrom: string | null;
  /** The vault file is there but unreadable: import again or forget it. */
  damaged: boolean;
}
