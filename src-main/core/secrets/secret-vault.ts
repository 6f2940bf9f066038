/**
 * atlas_secrets.conf for the desktop app: imported once, kept encrypted at rest (Electron's
 * safeStorage: the macOS Keychain), and turned back into a file only while an Insert job needs
 * it: a 0600 file in a fresh 0700 folder, removed when the job ends, however it ends.
 *
 * The vault file holds the setting names in clear (the app shows them without asking the
 * Keychain) and the content encrypted. Nothing here ever logs or returns a value.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import { SECRETS_NAME, refuseEmptyRootPassword, secretKeysOf } from './secrets-file.js';
import { type VaultStatus } from '../../common/secrets.js';
export { type VaultStatus } from '../../common/secrets.js';

/** What encrypts the vault: Electron's `safeStorage` in the app (src-main/electron/secret-cipher.ts). */
export interface SecretCipher {
  /** The system can encrypt for this user now. */
  available(): boolean;
  /** Where the key lives, for the user: "the macOS Keychain". */
  describe(): string;
  encrypt(plainText: string): Promise<Buffer>;
  /** Throws when the data was not encrypted with this user's key or was changed. */
  decrypt(encrypted: Buffer): Promise<string>;
}

interface VaultFile {
  format: 'atlas-secrets-vault/1';
  importedAt: string;
  importedFrom: string;
  keys: string[];
  /** base64 of the cipher's output. */
  data: string;
}

/** Far larger than any real atlas_secrets.conf: refuses a wrong file picked by mistake. */
const MAX_BYTES = 64 * 1024;
const TEMP_PREFIX = 'atlas-secrets-';

export interface SecretVaultOptions {
  /** Where decrypted copies live while a job runs (default: the user's temp folder). */
  tempRoot?: string;
  now?: () => Date;
}

export class SecretVault {
  private readonly tempRoot: string;
  private readonly now: () => Date;

  constructor(
    /** The vault file, e.g. <userData>/atlas_secrets.vault. */
    readonly file: string,
    private readonly cipher: SecretCipher,
    opts: SecretVaultOptions = {},
  ) {
    this.tempRoot = opts.tempRoot ?? tmpdir();
    this.now = opts.now ?? (() => new Date());
  }

  async status(): Promise<VaultStatus> {
    let v: VaultFile | null = null;
    let damaged = false;
    try {
      v = await this.read();
    } catch {
      damaged = true;
    }
    return {
      stored: v !== null || damaged,
      damaged,
      encryptionAvailable: this.cipher.available(),
      protectedBy: this.cipher.describe(),
      keys: v?.keys ?? [],
      hasRootPassword: v?.keys.includes('ROOT_PASSWORD') ?? false,
      importedAt: v?.importedAt ?? null,
      importedFrom: v?.importedFrom ?? null,
    };
  }

  /** Encrypts a secrets file into the vault, replacing what was there. The source is only read. */
  async import(source: string): Promise<VaultStatus> {
    if (!this.cipher.available()) {
      throw new AtlasError(
        'unsupported',
        'this system offers no encryption for stored secrets',
        'on Linux, unlock or install a keyring (GNOME Keyring or KWallet)',
        { next: [{ do: 'import-secrets' }] },
      );
    }
    const st = await stat(source).catch(() => undefined);
    if (!st) throw new AtlasError('not-found', `no secrets file at ${source}`);
    if (!st.isFile()) throw new AtlasError('bad-input', `${source} is not a file`);
    if (st.size > MAX_BYTES) {
      throw new AtlasError(
        'bad-input',
        `${source} is ${st.size} bytes: too large for atlas_secrets.conf`,
        'pick atlas_secrets.conf, the KEY="value" settings file',
      );
    }
    return this.importText(await readFile(source, 'utf8'), resolve(source));
  }

  /**
   * Encrypts a secrets file's content read from elsewhere (inside the VM), checked as `import`
   * checks a file; `source` (where it came from) names it in errors and in the status.
   */
  async importText(text: string, source: string): Promise<VaultStatus> {
    if (!this.cipher.available()) {
      throw new AtlasError(
        'unsupported',
        'this system offers no encryption for stored secrets',
        'on Linux, unlock or install a keyring (GNOME Keyring or KWallet)',
        { next: [{ do: 'import-secrets' }] },
      );
    }
    if (Buffer.byteLength(text) > MAX_BYTES) {
      throw new AtlasError(
        'bad-input',
        `${source} is ${Buffer.byteLength(text)} bytes: too large for atlas_secrets.conf`,
        'pick atlas_secrets.conf, the KEY="value" settings file',
      );
    }
    const keys = [...new Set(secretKeysOf(text, source))].sort();
    refuseEmptyRootPassword(text, source);
    const data = await this.cipher.encrypt(text);
    if ((await this.cipher.decrypt(data)) !== text) {
      throw new AtlasError('tool-failed', 'the system encryption did not give the secrets back unchanged');
    }
    const v: VaultFile = {
      format: 'atlas-secrets-vault/1',
      importedAt: this.now().toISOString(),
      importedFrom: source,
      keys,
      data: data.toString('base64'),
    };
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.partial`;
    await writeFile(tmp, JSON.stringify(v, null, 2), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.file);
    return this.status();
  }

  async forget(): Promise<VaultStatus> {
    await rm(this.file, { force: true });
    return this.status();
  }

  /**
   * Runs `use` with the secrets as a file (0600, in a new 0700 folder) and removes the folder
   * afterwards, also when `use` fails or is cancelled.
   */
  async withFile<T>(use: (path: string) => Promise<T>): Promise<T> {
    const v = await this.read();
    if (!v) {
      throw new AtlasError(
        'not-found',
        'no atlas_secrets.conf has been imported',
        'import it on the Insert screen (Import secrets…)',
      );
    }
    const text = await this.decrypt(v);
    await mkdir(this.tempRoot, { recursive: true });
    const dir = await mkdtemp(join(this.tempRoot, TEMP_PREFIX));
    try {
      await chmod(dir, 0o700);
      const path = join(dir, SECRETS_NAME);
      await writeFile(path, text, { mode: 0o600, flag: 'wx' });
      return await use(path);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Removes decrypted copies left behind by a process that was killed mid-job. */
  async sweep(): Promise<number> {
    const names = await readdir(this.tempRoot).catch(() => [] as string[]);
    const uid = process.getuid?.();
    let removed = 0;
    for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
      const path = join(this.tempRoot, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      try {
        await rm(path, { recursive: true, force: true });
        removed++;
      } catch {
        // Not ours to remove after all: the next start tries again.
      }
    }
    return removed;
  }

  private async decrypt(v: VaultFile): Promise<string> {
    try {
      return await this.cipher.decrypt(Buffer.from(v.data, 'base64'));
    } catch (e) {
      throw new AtlasError(
        'bad-input',
        'the stored atlas_secrets.conf cannot be decrypted',
        'import atlas_secrets.conf again (the key Atlas Imager keeps in the system keychain or keyring was reset, or the vault file is damaged)',
        { cause: e },
      );
    }
  }

  private async read(): Promise<VaultFile | null> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch {
      return null;
    }
    let v: Partial<VaultFile>;
    try {
      v = JSON.parse(raw) as Partial<VaultFile>;
    } catch {
      v = {};
    }
    if (
      v.format !== 'atlas-secrets-vault/1' ||
      typeof v.data !== 'string' ||
      !Array.isArray(v.keys) ||
      !v.keys.every((k) => typeof k === 'string') ||
      typeof v.importedAt !== 'string' ||
      typeof v.importedFrom !== 'string'
    ) {
      throw new AtlasError(
        'bad-input',
        `${this.file} is not an Atlas Imager secrets vault`,
        'import atlas_secrets.conf again',
      );
    }
    return v as VaultFile;
  }
}
