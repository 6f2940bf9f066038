// The app's library view lists the clone sets found elsewhere (tools/ods-sd's clones folder, the
// lab's ~/atlas-build), each with where it lives; the safety-net name follows the newest set of any
// place; an adopt job and a restore of a set by its path are requests main accepts.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryView } from '../../src-main/app/library-view.js';
import { nextSetName } from '../../src-main/app/names.js';
import { validateRequest } from '../../src-main/ipc/validate.js';

const root = mkdtempSync(join(tmpdir(), 'atlas-elsewhere-'));
const home = join(root, 'home');
const library = join(root, 'library');
const theirs = join(home, 'Documents', 'GitHub', 'ods-player-os-atlas', 'clones');
const lab = join(home, 'atlas-build');
let oldHome: string | undefined;

function set(dir: string, files: string[], when: number): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), f);
  utimesSync(dir, when, when);
}

beforeAll(() => {
  oldHome = process.env.HOME;
  process.env.HOME = home;
  const three = ['partition-table.dump', 'sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz'];
  set(join(theirs, 'clone-20260305_101010'), [...three, 'restore.sh'], 1_770_000_000);
  set(join(theirs, 'half-done'), ['partition-table.dump'], 1_770_000_100);
  set(join(lab, 'golden-clone-v8-0-6-FLASH'), [...three, 'restore_golden.sh'], 1_770_000_200);
  set(join(library, 'golden-clone-v8-0-5-FLASH'), [...three, 'restore_golden.sh'], 1_760_000_000);
});
afterAll(() => {
  process.env.HOME = oldHome;
  rmSync(root, { recursive: true, force: true });
});

describe('clone sets elsewhere in the app', () => {
  it('the library view lists them with where they live, apart from its own', async () => {
    const view = await libraryView({
      library,
      archiveDir: join(root, 'vault'),
      stagingDir: join(root, 'Desktop'),
    });
    expect(view.items.map((i) => i.name)).toEqual(['golden-clone-v8-0-5-FLASH']);
    expect(view.elsewhere.map((s) => [s.name, s.place.kind, s.place.path, s.missing, s.checked])).toEqual([
      ['clone-20260305_101010', 'ods-sd', theirs, [], false],
      ['half-done', 'ods-sd', theirs, ['sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz'], false],
      ['golden-clone-v8-0-6-FLASH', 'lab', lab, [], false],
    ]);
  });

  it('suggests the next safety-net name after the newest set of any place', async () => {
    expect(await nextSetName(library, 'FLASH')).toEqual({ previous: 'v8-0-6-FLASH', next: 'v8-0-7-FLASH' });
  });

  it('accepts an adopt job, and a restore of a set elsewhere by its path', () => {
    const path = join(theirs, 'clone-20260305_101010');
    expect(validateRequest('jobs:start', [{ kind: 'adopt', path, name: 'v8-0-7-FLASH' }])).toEqual([
      { kind: 'adopt', path, name: 'v8-0-7-FLASH' },
    ]);
    const card = { path: '/dev/disk4', kind: 'device', bytes: 32e9, node: 1 };
    expect(validateRequest('jobs:start', [{ kind: 'restore', card, set: path }])[0]).toMatchObject({
      set: path,
    });
    expect(() => validateRequest('jobs:start', [{ kind: 'adopt', path: 'relative/x' }])).toThrow();
  });
});
