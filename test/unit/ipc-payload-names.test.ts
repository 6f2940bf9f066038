// What Insert will inject (payload folder or checkout, secrets) and the names the app suggests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPayload } from '../../src-main/app/payload.js';
import { SecretVault } from '../../src-main/core/secrets/secret-vault.js';
import { safeStorageCipher } from '../../src-main/electron/secret-cipher.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';
import { bumpVersion, nextSetName, planOutput } from '../../src-main/app/names.js';
import { scratch } from '../helpers/fixtures.js';

function payloadFolder(dir: string, files = ['atlas_firstboot.sh', 'atlas-firstboot.service']): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), f.endsWith('.sh') ? '#!/bin/bash\n' : '[Service]\n');
  return dir;
}

const emptyVault = (root: string) =>
  new SecretVault(join(root, 'none.vault'), safeStorageCipher(new SafeStorageDouble(), 'darwin'));

describe('payload check', () => {
  it('takes a plain payload folder with the secrets beside it', async () => {
    const root = scratch('payload');
    const dir = payloadFolder(join(root, 'payload'));
    writeFileSync(join(dir, 'atlas_secrets.conf'), '# comment\nROOT_PASSWORD="x"\n');
    const s = await checkPayload(dir, emptyVault(root), join(root, 'lib'));
    expect(s).toMatchObject({ layout: 'folder', payloadDir: dir, ready: true, problems: [] });
    expect(s.secrets).toMatchObject({ found: true, where: 'beside the payload', hasRootPassword: true });
    expect(s.files.every((f) => f.found)).toBe(true);
  });

  it('names what is missing and what to do', async () => {
    const root = scratch('payload');
    const dir = payloadFolder(join(root, 'checkout', 'scripts'), ['atlas_firstboot.sh']);
    const s = await checkPayload(join(root, 'checkout'), emptyVault(root), join(root, 'lib'));
    expect(s.ready).toBe(false);
    expect(s.payloadDir).toBeNull();
    expect(s.files).toEqual([
      { name: 'atlas_firstboot.sh', path: join(dir, 'atlas_firstboot.sh'), found: true },
      { name: 'atlas-firstboot.service', path: join(dir, 'atlas-firstboot.service'), found: false },
    ]);
    expect(s.problems.map((p) => p.next)).toEqual([
      [{ do: 'choose-payload' }],
      [{ do: 'give-secrets', path: join(root, 'lib', 'scripts', 'atlas_secrets.conf') }],
    ]);
    expect(s.secrets).toMatchObject({ found: false, where: 'not found' });
  });

  it('prefers the imported (encrypted) secrets, and reports a missing ROOT_PASSWORD without blocking', async () => {
    const root = scratch('payload');
    const dir = payloadFolder(join(root, 'p'));
    writeFileSync(join(dir, 'atlas_secrets.conf'), 'ROOT_PASSWORD="beside"\n');
    const source = join(root, 'my-secrets.conf');
    writeFileSync(source, 'WIFI_PSK=abc\n');
    const vault = emptyVault(root);
    await vault.import(source);
    const s = await checkPayload(dir, vault, join(root, 'lib'));
    expect(s.secrets).toEqual({
      found: true,
      path: null,
      where: 'imported (encrypted)',
      keys: ['WIFI_PSK'],
      hasRootPassword: false,
    });
    expect(s.ready).toBe(true);
  });

  it('a damaged imported copy blocks Insert with what to do, instead of falling back silently', async () => {
    const root = scratch('payload');
    const dir = payloadFolder(join(root, 'p'));
    writeFileSync(join(dir, 'atlas_secrets.conf'), 'ROOT_PASSWORD="beside"\n');
    const vault = emptyVault(root);
    writeFileSync(vault.file, 'not json');
    const s = await checkPayload(dir, vault, join(root, 'lib'));
    expect(s.ready).toBe(false);
    expect(s.problems).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/cannot be read/),
        hint: expect.stringMatching(/Replace secrets/),
      }),
    ]);
  });

  it('names a plain secrets file that is not KEY=value settings as the problem', async () => {
    const root = scratch('payload');
    const dir = payloadFolder(join(root, 'p'));
    writeFileSync(join(dir, 'atlas_secrets.conf'), 'A=1\n  export B="two"\n# C=3\nnot a setting\n');
    const s = await checkPayload(dir, emptyVault(root), join(root, 'lib'));
    expect(s.ready).toBe(false);
    expect(s.secrets.found).toBe(false);
    expect(s.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/line 4/) })]);
  });
});

describe('names', () => {
  it('bumps the last number of a version', () => {
    expect(bumpVersion('9.1.7')).toBe('9.1.8');
    expect(bumpVersion('8')).toBe('9');
  });

  it('suggests the first safety net in an empty library', async () => {
    expect(await nextSetName(join(scratch('names'), 'none'), 'FEATURE')).toEqual({
      previous: null,
      next: 'v1-0-0-FEATURE',
    });
  });

  it('plans a clone set name, refusing a bad one with the hint', async () => {
    const lib = scratch('names');
    expect(await planOutput(lib, { kind: 'clone-set', name: 'v8-1-0-FEATURE' })).toEqual({
      name: 'golden-clone-v8-1-0-FEATURE',
      path: join(lib, 'golden-clone-v8-1-0-FEATURE'),
      exists: false,
    });
    const bad = await planOutput(lib, { kind: 'clone-set', name: '../etc' });
    expect(bad.error?.hint).toMatch(/no spaces, quotes, slashes/);
    expect(bad.field).toBe('name');
  });

  it('says which field of a name is wrong, so the app shows the error under it', async () => {
    const lib = scratch('names-field');
    const plan = (version: string, tag: string) => planOutput(lib, { kind: 'golden-image', version, tag });
    expect((await plan('9.1.x', 'ORIGIN')).field).toBe('version');
    expect((await plan('9.1.8', 'my tag')).field).toBe('tag');
    expect((await plan('9.1.8', 'ORIGIN')).field).toBeUndefined();
  });
});
