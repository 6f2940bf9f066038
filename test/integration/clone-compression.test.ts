// Clone writes the seed's plain-gzip partclone images with a deflate that keeps up with a card
// reader (ISA-L's igzip, level 2 by default; pigz for levels 4-9), checks each image with
// partclone.chkimg from the very stream it compresses, and records codec and level in the
// manifest. The images are judged by gzip -t, pigz -dc | partclone.chkimg and the sizes of both.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { fixture, scratch } from '../helpers/fixtures.js';
import { chkimg } from '../helpers/disk-tools.js';

const manifestOf = (set: string) => JSON.parse(readFileSync(join(set, 'manifest.json'), 'utf8'));
const gzipOk = (gz: string) => spawnSync('gzip', ['-t', gz]).status === 0;

describe('clone compression', () => {
  let dir: string;
  let lib: string;
  let card: string;

  beforeAll(() => {
    dir = scratch('clone-compression');
    lib = join(dir, 'atlas-build');
    card = fixture('provisioned');
  });

  it('by default: igzip level 2, plain gzip that pigz, gzip and partclone.chkimg read', async () => {
    const r = await odsSd(['clone', card, 'fast', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    const set = join(lib, 'golden-clone-fast');
    expect(manifestOf(set).compression).toEqual({ codec: 'igzip', level: 2 });
    for (const f of ['sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz']) {
      expect(gzipOk(join(set, f)), f).toBe(true);
      expect(chkimg(join(set, f)), f).toBe(0);
    }
    // The images were checked while written: no step decompresses them again.
    expect(r.stderr).not.toMatch(/Checking the partclone images/);
  });

  it('--compress-level 9: pigz, a smaller root image than level 2', async () => {
    const r = await odsSd(['clone', card, 'small', '--library', lib, '--compress-level', '9']);
    expect(r.code, r.stderr).toBe(0);
    const set = join(lib, 'golden-clone-small');
    expect(manifestOf(set).compression).toEqual({ codec: 'pigz', level: 9 });
    const root = (name: string) => statSync(join(lib, name, 'sdc2-root.partclone.gz')).size;
    expect(root('golden-clone-small')).toBeLessThan(root('golden-clone-fast'));
    expect(chkimg(join(set, 'sdc2-root.partclone.gz'))).toBe(0);
  });

  it('a level outside 1-9 is a usage error, and nothing is made', async () => {
    for (const level of ['0', '10', 'fast']) {
      const r = await odsSd(['clone', card, `bad-${level}`, '--library', lib, '--compress-level', level]);
      expect(r.code, level).toBe(2);
      expect(r.json.error?.message).toMatch(/level is a whole number from 1 to 9/);
      expect(existsSync(join(lib, `golden-clone-bad-${level}`))).toBe(false);
    }
  });

  it('an image partclone.chkimg refuses fails the clone, and no set is left', async () => {
    // partclone.chkimg that reads the whole stream, then finds it damaged.
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const shim = join(bin, 'partclone.chkimg');
    writeFileSync(shim, '#!/bin/sh\ncat >/dev/null\nexit 1\n');
    chmodSync(shim, 0o755);
    const r = await odsSd(['clone', card, 'damaged', '--library', lib], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    expect(r.code).not.toBe(0);
    expect(r.json.error?.message).toMatch(/failed partclone.chkimg/);
    expect(existsSync(join(lib, 'golden-clone-damaged'))).toBe(false);
    expect(existsSync(join(lib, 'golden-clone-damaged.partial'))).toBe(false);
  });
});
