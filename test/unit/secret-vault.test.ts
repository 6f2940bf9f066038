// The app's secrets store: atlas_secrets.conf encrypted at rest through Electron's safeStorage
// (its double: real AES-GCM, one key per "Keychain"), decrypted into a 0600 file only while a job
// needs it.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretVault } from '../../src-main/core/secrets/secret-vault.js';
import { safeStorageCipher } from '../../src-main/electron/secret-cipher.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';
import { scratch } from '../helpers/fixtures.js';

const SECRET = 'pw-Zq9!vault';
const CONTENT = `# Atlas credentials\nROOT_PASSWORD="${SECRET}"\nexport WIFI_PSK="psk-${SECRET}"\n`;

function setup(platform = 'darwin') {
  const root = scratch('vault');
  const storage = new SafeStorageDouble();
  const tempRoot = join(root, 'tmp');
  const vault = new SecretVault(
    join(root, 'userData', 'atlas_secrets.vault'),
    safeStorageCipher(storage, platform),
    { tempRoot, now: () => new Date('2026-11-26T10:00:00Z') },
  );
  const source = join(root, 'Downloads', 'atlas_secrets.conf');
  mkdirSync(join(root, 'Downloads'));
  writeFileSync(source, CONTENT, { mode: 0o644 });
  return { root, storage, tempRoot, vault, source };
}

describe('secrets vault', () => {
  it('imports atlas_secrets.conf encrypted: names in clear, values nowhere, file 0600', async () => {
    const { vault, source, storage } = setup();
    expect(await vault.status()).toMatchObject({ stored: false, keys: [], encryptionAvailable: true });
    const s = await vault.import(source);
    expect(s).toEqual({
      stored: true,
      encryptionAvailable: true,
      protectedBy: 'the macOS Keychain',
      keys: ['ROOT_PASSWORD', 'WIFI_PSK'],
      hasRootPassword: true,
      importedAt: '2026-11-26T10:00:00.000Z',
      importedFrom: source,
      damaged: false,
    });
    const raw = readFileSync(vault.file);
    expect(raw.toString('utf8')).not.toContain(SECRET);
    expect(raw.toString('latin1')).not.toContain(SECRET);
    expect(statSync(vault.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(source, 'utf8')).toBe(CONTENT);
    // The status never needs the Keychain: only import and use decrypt.
    const decrypts = storage.calls.decryptAsync;
    await vault.status();
    expect(storage.calls.decryptAsync).toBe(decrypts);
  });

  it("uses safeStorage's asynchronous calls where Electron has them, and the old ones where it has not", async () => {
    const { storage, vault, source } = setup();
    await vault.import(source);
    expect(await vault.withFile(async (file) => readFileSync(file, 'utf8'))).toBe(CONTENT);
    expect(storage.calls).toMatchObject({ encrypt: 0, decrypt: 0, encryptAsync: 1 });
    expect(storage.calls.decryptAsync).toBeGreaterThan(0);
    // An Electron without them (41): the synchronous calls, and the same vault still opens.
    const old = Object.assign(storage, { encryptStringAsync: undefined, decryptStringAsync: undefined });
    const again = new SecretVault(vault.file, safeStorageCipher(old, 'darwin'), {
      tempRoot: join(dirname(vault.file), 'tmp2'),
    });
    expect(await again.withFile(async (file) => readFileSync(file, 'utf8'))).toBe(CONTENT);
    expect(storage.calls.decrypt).toBeGreaterThan(0);
  });

  it('gives the secrets back as a 0600 file in a 0700 folder only while the job runs', async () => {
    const { vault, source, tempRoot } = setup();
    await vault.import(source);
    let seen = '';
    const out = await vault.withFile(async (path) => {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
      seen = path;
      return readFileSync(path, 'utf8');
    });
    expect(out).toBe(CONTENT);
    expect(seen.startsWith(tempRoot)).toBe(true);
    expect(existsSync(seen)).toBe(false);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('removes the decrypted copy when the job fails, and sweeps copies left by a crash', async () => {
    const { vault, source, tempRoot } = setup();
    await vault.import(source);
    await expect(
      vault.withFile(async () => {
        throw new Error('inject failed');
      }),
    ).rejects.toThrow('inject failed');
    expect(readdirSync(tempRoot)).toEqual([]);
    mkdirSync(join(tempRoot, 'atlas-secrets-abc123'));
    writeFileSync(join(tempRoot, 'atlas-secrets-abc123', 'atlas_secrets.conf'), CONTENT);
    writeFileSync(join(tempRoot, 'unrelated.txt'), 'keep');
    expect(await vault.sweep()).toBe(1);
    expect(readdirSync(tempRoot)).toEqual(['unrelated.txt']);
  });

  it('refuses what is not a secrets file, and keeps what was stored', async () => {
    const { vault, source, root } = setup();
    await vault.import(source);
    const img = join(root, 'base.img');
    writeFileSync(img, Buffer.alloc(70 * 1024, 1));
    await expect(vault.import(img)).rejects.toMatchObject({ code: 'bad-input', hint: /KEY="value"/ });
    const notConf = join(root, 'notes.txt');
    writeFileSync(notConf, 'hello world\n');
    await expect(vault.import(notConf)).rejects.toMatchObject({ code: 'bad-input' });
    await expect(vault.import(join(root, 'missing.conf'))).rejects.toMatchObject({ code: 'not-found' });
    await expect(vault.import(root)).rejects.toMatchObject({ code: 'bad-input' });
    expect((await vault.status()).keys).toEqual(['ROOT_PASSWORD', 'WIFI_PSK']);
  });

  it('says what to do when the Keychain is not available or the vault cannot be decrypted', async () => {
    const { vault, source, storage, root } = setup();
    storage.available = false;
    expect((await vault.status()).encryptionAvailable).toBe(false);
    await expect(vault.import(source)).rejects.toMatchObject({ code: 'unsupported', hint: /keyring/ });
    expect(existsSync(vault.file)).toBe(false);

    storage.available = true;
    await vault.import(source);
    // Another Mac's (or a reset) Keychain key: the stored data no longer decrypts.
    const other = new SecretVault(vault.file, safeStorageCipher(new SafeStorageDouble(), 'darwin'), {
      tempRoot: join(root, 'tmp'),
    });
    await expect(other.withFile(async () => 'never')).rejects.toMatchObject({
      code: 'bad-input',
      hint: /import atlas_secrets.conf again/,
    });
    // A damaged file.
    writeFileSync(vault.file, '{"format":"something else"}');
    expect(await vault.status()).toMatchObject({ stored: true, damaged: true, keys: [] });
    await expect(vault.withFile(async () => 'x')).rejects.toMatchObject({
      hint: /import atlas_secrets.conf again/,
    });
    await vault.forget();
    expect(await vault.status()).toMatchObject({ stored: false });
    await expect(vault.withFile(async () => 'x')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('on Linux, a keyring counts as encryption and the hard-coded "basic_text" fallback does not', async () => {
    const { vault, source, storage } = setup('linux');
    expect((await vault.status()).protectedBy).toBe('the gnome_libsecret keyring');
    storage.setUsePlainTextEncryption(true);
    expect((await vault.status()).encryptionAvailable).toBe(false);
    await expect(vault.import(source)).rejects.toMatchObject({ code: 'unsupported' });
  });
});
