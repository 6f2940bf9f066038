// A secrets file that sets ROOT_PASSWORD to nothing is refused when it is imported (in the app's
// vault and by the CLI), not seconds into an Insert; one that leaves it out, or sets it, is taken.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretVault } from '../../src-main/core/secrets/secret-vault.js';
import { importSecrets } from '../../src-main/core/secrets/secrets-file.js';
import { safeStorageCipher } from '../../src-main/electron/secret-cipher.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';
import { scratch } from '../helpers/fixtures.js';

function setup(content: string) {
  const root = scratch('secrets-empty');
  const vault = new SecretVault(
    join(root, 'userData', 'atlas_secrets.vault'),
    safeStorageCipher(new SafeStorageDouble(), 'linux'),
    { tempRoot: join(root, 'tmp') },
  );
  mkdirSync(join(root, 'Downloads'));
  const source = join(root, 'Downloads', 'atlas_secrets.conf');
  writeFileSync(source, content);
  return { root, vault, source };
}

describe('an empty ROOT_PASSWORD', () => {
  for (const line of ['ROOT_PASSWORD=', 'ROOT_PASSWORD=""', "export ROOT_PASSWORD=''  # set later"]) {
    it(`is refused at import: ${line}`, async () => {
      const { vault, source, root } = setup(`WIFI_SSID="atlas"\n${line}\n`);
      await expect(vault.import(source)).rejects.toMatchObject({
        code: 'bad-input',
        message: expect.stringContaining('line 2 sets ROOT_PASSWORD to nothing'),
      });
      expect((await vault.status()).stored).toBe(false);
      await expect(importSecrets(source, join(root, 'library'))).rejects.toMatchObject({ code: 'bad-input' });
    });
  }

  it('a file with a root password, or without one, is imported', async () => {
    const set = setup('ROOT_PASSWORD="pw"\n');
    expect((await set.vault.import(set.source)).hasRootPassword).toBe(true);
    const none = setup('WIFI_SSID="atlas"\n');
    expect((await none.vault.import(none.source)).keys).toEqual(['WIFI_SSID']);
  });
});
