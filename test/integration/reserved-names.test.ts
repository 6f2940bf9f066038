// Names the library keeps for itself (unfinished output, sidecars, locks) are refused wherever a
// name enters: a clone set named `keep.partial` would be published, hidden by `list`, then
// deleted by the next clone named `keep`.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';

describe('reserved names', () => {
  let dir: string;
  let lib: string;
  let source: string;

  beforeAll(() => {
    dir = scratch('names');
    lib = join(dir, 'atlas-build');
    source = copyFixture(fixture('provisioned'), dir, 'dev-card.img');
  });

  for (const bad of ['keep.partial', 'keep.PARTIAL', 'golden-clone-keep.partial', 'x.lock', 'y.img.bmap']) {
    it(`clone refuses the name ${JSON.stringify(bad)} before reading the card`, async () => {
      const r = await odsSd(['clone', source, bad, '--library', lib]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error?.code).toBe('bad-input');
      expect(r.json.error?.message).toMatch(/keeps for itself/);
      expect(r.json.error?.hint).toMatch(/\.partial/);
      expect(existsSync(lib) ? readdirSync(lib).filter((f) => !f.startsWith('.')) : []).toEqual([]);
    });
  }

  it('restore refuses an unfinished clone set, by name and by path', async () => {
    const card = copyFixture(fixture('base'), dir, 'target.img');
    for (const set of ['keep.partial', join(lib, 'golden-clone-keep.partial')]) {
      const r = await odsSd(['restore', card, set, '--library', lib, '--yes']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json.error?.message).toMatch(/keeps for itself/);
    }
  });

  it('a clone named keep is published and listed', async () => {
    const r = await odsSd(['clone', source, 'keep', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    const list = await odsSd(['list', '--library', lib]);
    expect(list.json.result.entries.map((e: { name: string }) => e.name)).toEqual(['golden-clone-keep']);
  });
});
