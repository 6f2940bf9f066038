// The folders the atlas-build VM shares with the host, and host -> guest path translation
// (mount semantics from lima-vm/lima pkg/limayaml/defaults.go; sample from lima-list.jsonl).
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseListJson, type LimaInstance } from '../../src-main/core/lima/limactl.js';
import { sharedFolders, toGuestPath } from '../../src-main/core/lima/shared-folders.js';
import { ROOT } from '../helpers/fixtures.js';

const recorded = parseListJson(
  readFileSync(join(ROOT, 'test', 'fixtures', 'recorded', 'lima-list.jsonl'), 'utf8'),
);
const atlas = recorded[0]!;

const instance = (
  mounts: NonNullable<LimaInstance['config']>['mounts'],
  param: Record<string, string> = {},
) => ({ name: 'atlas-build', status: 'Running', dir: '/x', config: { mounts, param } }) as LimaInstance;

describe('shared folders of the atlas-build VM', () => {
  it('reads the mounts limactl list --json reports', () => {
    expect(sharedFolders(atlas)).toEqual([
      { host: '/Users/rl/atlas-build', guest: '/mnt/atlas-work', writable: true },
      { host: '/Users/rl', guest: '/Users/rl', writable: false },
    ]);
  });

  it('expands ~ and {{.Param.WORKDIR}} as the template writes them, and defaults the rest', () => {
    const folders = sharedFolders(
      instance(
        [
          { location: '{{.Param.WORKDIR}}', mountPoint: '{{ .Param.WORKDIR }}', writable: true },
          { location: '~', writable: false },
          { location: '~/Desktop' },
        ],
        { WORKDIR: '/tmp/lima-sd-work' },
      ),
      '/Users/someone',
    );
    expect(folders).toEqual([
      { host: '/tmp/lima-sd-work', guest: '/tmp/lima-sd-work', writable: true },
      { host: '/Users/someone', guest: '/Users/someone', writable: false },
      { host: '/Users/someone/Desktop', guest: '/Users/someone/Desktop', writable: false },
    ]);
  });

  it('leaves out a mount whose parameter is unknown or whose path is relative', () => {
    expect(
      sharedFolders(
        instance([{ location: '{{.Param.NOPE}}', writable: true }, { location: 'relative/dir' }]),
      ),
    ).toEqual([]);
  });

  it('prefers the instance-level param, as Lima reports the effective values there', () => {
    const i = instance([{ location: '{{.Param.WORKDIR}}', writable: true }], { WORKDIR: '/old' });
    i.param = { WORKDIR: '/new' };
    expect(sharedFolders(i)[0]?.host).toBe('/new');
  });
});

describe('host path -> guest path', () => {
  const folders = [
    { host: '/Users/rl', guest: '/Users/rl', writable: false },
    { host: '/Users/rl/atlas-build', guest: '/mnt/work', writable: true },
  ];

  it('goes through the deepest folder that contains the path', () => {
    expect(toGuestPath(folders, '/Users/rl/atlas-build/golden-clone-x.partial')).toEqual({
      guest: '/mnt/work/golden-clone-x.partial',
      folder: folders[1],
    });
    expect(toGuestPath(folders, '/Users/rl/Desktop/base.img')?.guest).toBe('/Users/rl/Desktop/base.img');
    expect(toGuestPath(folders, '/Users/rl/atlas-build')?.guest).toBe('/mnt/work');
  });

  it('a folder mounted later over the guest path is what the VM sees there (Lima mounts in list order)', () => {
    // The layout of a VM made from the template before the work folder moved out of ~: the
    // library at its own path, then the read-only home over it.
    const old = [
      { host: '/Users/rl/atlas-build', guest: '/Users/rl/atlas-build', writable: true },
      { host: '/Users/rl', guest: '/Users/rl', writable: false },
    ];
    expect(toGuestPath(old, '/Users/rl/atlas-build/x.img')).toEqual({
      guest: '/Users/rl/atlas-build/x.img',
      folder: old[1],
    });
    // Listed the other way round, the work folder is mounted last and stays writable.
    const reversed = [old[1]!, old[0]!];
    expect(toGuestPath(reversed, '/Users/rl/atlas-build/x.img')?.folder.writable).toBe(true);
    expect(toGuestPath(folders, '/Users/rl/atlas-build/x.img')?.folder.writable).toBe(true);
  });

  it('refuses paths outside every folder, including look-alike prefixes', () => {
    expect(toGuestPath(folders, '/Volumes/card.img')).toBeUndefined();
    expect(toGuestPath(folders, '/Users/rlx/file')).toBeUndefined();
    expect(toGuestPath(folders, '/Users/rl/../other/file')).toBeUndefined();
  });

  it('resolves symlinks on the host side (a path through a link into the shared folder)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-sf-'));
    mkdirSync(join(dir, 'work'));
    symlinkSync(join(dir, 'work'), join(dir, 'alias'));
    const shared = [{ host: join(dir, 'work'), guest: '/guest/work', writable: true }];
    expect(toGuestPath(shared, join(dir, 'alias', 'not-yet', 'out.img'))?.guest).toBe(
      '/guest/work/not-yet/out.img',
    );
    const viaLink = [{ host: join(dir, 'alias'), guest: '/guest/alias', writable: true }];
    expect(toGuestPath(viaLink, join(dir, 'work', 'x.img'))?.guest).toBe('/guest/alias/x.img');
  });
});
