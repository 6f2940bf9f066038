// Restore onto a card smaller than the clone's card, run for real as root: the root is restored
// into the work dir, shrunk to the card (resize2fs), its used blocks written (partclone.ext4 -b)
// and grown to the card's end; a card too small for the data is refused before anything is
// written. Judged with sfdisk, e2fsck, a read-only mount's checksums and mtools.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  bootChecksums,
  detach,
  dumpe2fs,
  e2fsckClean,
  makeFile,
  rootChecksums,
  sfdiskJson,
  sha256,
} from '../helpers/disk-tools.js';

const MiB = 1024 * 1024;

describe('ods-sd restore onto a smaller card', () => {
  let dir: string;
  let lib: string;
  let source: string;
  let set: string;
  let sourceEnd: number;

  beforeAll(async () => {
    dir = scratch('restore-smaller');
    lib = join(dir, 'atlas-build');
    // The clone's card: 4 MiB + 512 MiB boot + 160 MiB root (about 57 MiB of it needed).
    source = copyFixture(fixture('provisioned', { fillMiB: 24 }), dir, 'dev-card.img');
    const r = await odsSd(['clone', source, 'v8-1-0-SMALL', '--library', lib]);
    expect(r.code, r.stderr).toBe(0);
    set = join(lib, 'golden-clone-v8-1-0-SMALL');
    const p2 = sfdiskJson(source).partitions[1]!;
    sourceEnd = (p2.start + p2.size) * 512;
  });

  describe('on a loop device standing in for a 600 MiB card', () => {
    let backing: string;
    let dev: string;
    beforeAll(() => {
      backing = makeFile(join(dir, 'small-card.img'), 600 * MiB, [[0, 2, 0x5a]]);
      dev = attachAsDevice(backing);
    });
    afterAll(() => detach(dev));

    it('shrinks root to fit, writes it, and grows it to the end of the card: same files, clean', async () => {
      expect(600 * MiB).toBeLessThan(sourceEnd);
      const r = await odsSd(['restore', dev, 'v8-1-0-SMALL', '--library', lib, '--yes', '--no-eject']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result).toMatchObject({ shrunkToFit: true, grown: true, neededBytes: sourceEnd });
      expect(r.json.result.minBytes).toBeLessThanOrEqual(600 * MiB);
      expect(r.stdout).toMatch(/smaller than the clone's card: root shrunk to fit/);
      const t = sfdiskJson(dev);
      const s = sfdiskJson(source);
      expect(t.partitions[0]).toMatchObject({ start: s.partitions[0]!.start, size: s.partitions[0]!.size });
      expect(t.partitions[1]!.start).toBe(s.partitions[1]!.start);
      expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe((600 * MiB) / 512);
      expect(e2fsckClean(dev)).toMatchObject({ code: 0 });
      expect(rootChecksums(dev)).toEqual(rootChecksums(source));
      expect(bootChecksums(dev, true)).toEqual(bootChecksums(source));
      // The file system fills its partition.
      const f = dumpe2fs(dev);
      const bs = Number(f['Block size']);
      expect(Number(f['Block count']) * bs).toBe(Math.floor((t.partitions[1]!.size * 512) / bs) * bs);
      // The scratch copy of the root is gone from the library.
      expect(readdirSync(join(lib, '.atlas-tmp'))).toEqual([]);
    });
  });

  it('refuses a card too small for the data before writing anything, saying how much is needed', async () => {
    const card = makeFile(join(dir, 'tiny-card.img'), 560 * MiB, [
      [0, 1, 'random'],
      [520, 4, 'random'],
    ]);
    const before = sha256(card);
    const r = await odsSd(['restore', card, 'v8-1-0-SMALL', '--library', lib, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.code).toBe('too-small');
    expect(r.json.error?.message).toMatch(/has 587 MB, the data needs at least \d+(\.\d)? MB/);
    expect(r.json.error?.message).toMatch(/nothing was written/);
    expect(sha256(card)).toBe(before);
    expect(readdirSync(join(lib, '.atlas-tmp'))).toEqual([]);
  });

  it('the restore_golden.sh of the set fits a smaller card standalone, as the seed runs it', () => {
    const card = makeFile(join(dir, 'standalone.img'), 620 * MiB, []);
    const r = spawnSync('bash', [join(set, 'restore_golden.sh'), card], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const t = sfdiskJson(card);
    expect(t.partitions[1]!.start + t.partitions[1]!.size).toBe((620 * MiB) / 512);
    expect(e2fsckClean(card).code).toBe(0);
    expect(rootChecksums(card)).toEqual(rootChecksums(source));
    // Its work folder (beside the set by default) is removed.
    expect(readdirSync(lib).filter((f) => f.startsWith('.atlas-restore'))).toEqual([]);
    expect(existsSync(join(set, 'root.fs'))).toBe(false);
  });
});
