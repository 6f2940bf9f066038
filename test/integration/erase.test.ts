// Erase, run for real: a used Atlas card (a loop device standing in for a card reader) back to one
// FAT32 partition, judged with sfdisk, blkid, fsck.fat and mtools; the flash guards refuse what
// flash refuses.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import {
  attachAsDevice,
  detach,
  makeFile,
  sfdiskJson,
  sha256,
  withPartition,
} from '../helpers/disk-tools.js';

const MiB = 1024 * 1024;

describe('ods-sd erase', () => {
  let dir: string;
  let lib: string;

  beforeAll(() => {
    dir = scratch('erase');
    lib = join(dir, 'atlas-build');
  });

  describe('a used Atlas card in a reader', () => {
    let backing: string;
    let dev: string;
    let bytes: number;
    beforeAll(() => {
      backing = copyFixture(fixture('provisioned'), dir, 'used-card.img');
      dev = attachAsDevice(backing);
      bytes = Number(execFileSync('blockdev', ['--getsize64', dev], { encoding: 'utf8' }));
    });
    afterAll(() => detach(dev));

    it('becomes one FAT32 partition from 4 MiB to its end, clean and empty, the old table gone', async () => {
      expect(sfdiskJson(dev).partitions).toHaveLength(2);
      const r = await odsSd(['erase', dev, '--library', lib, '--yes', '--no-eject']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json.result).toMatchObject({ card: dev, label: 'BOOT', partitionStart: 8192, verified: true });
      // Only what the new file system uses crossed to the card: table, boot sectors, FATs, root.
      expect(r.json.result.writtenBytes).toBeLessThan(bytes / 50);
      const t = sfdiskJson(dev);
      expect(t.label).toBe('dos');
      expect(t.partitions).toEqual([
        expect.objectContaining({ start: 8192, size: bytes / 512 - 8192, type: 'c', bootable: true }),
      ]);
      // The old table's id (0x5eed4a71) and its ext4 root are gone from what the card shows.
      expect(JSON.stringify(t)).not.toMatch(/5eed4a71/);
      expect(
        spawnSync('blkid', ['-p', '-o', 'value', '-s', 'PTTYPE', dev], { encoding: 'utf8' }).stdout.trim(),
      ).toBe('dos');
      withPartition(dev, 1, (p) => {
        expect(spawnSync('fsck.fat', ['-n', p], { encoding: 'utf8' }).status).toBe(0);
        expect(
          execFileSync('blkid', ['-p', '-o', 'value', '-s', 'TYPE', p], { encoding: 'utf8' }).trim(),
        ).toBe('vfat');
        const dirList = execFileSync('mdir', ['-i', p, '::'], { encoding: 'utf8' });
        expect(dirList).toMatch(/Volume in drive : is BOOT/);
        expect(dirList).toMatch(/No files/);
        const info = execFileSync('minfo', ['-i', p, '::'], { encoding: 'utf8' });
        expect(info).toMatch(/hidden sectors: 8192/);
        expect(info).toMatch(/Fat32/i);
      });
    });
  });

  it('needs confirmation: without --yes and without a terminal nothing is written', async () => {
    const card = makeFile(join(dir, 'unconfirmed.img'), 64 * MiB, [[0, 1, 'random']]);
    const before = sha256(card);
    const r = await odsSd(['erase', card, '--library', lib]);
    expect(r.code).toBe(2);
    expect(r.json.error?.message).toMatch(/--yes/);
    expect(sha256(card)).toBe(before);
  });

  it('refuses a card too small for FAT32, and a bad label, before writing', async () => {
    const card = makeFile(join(dir, 'tiny.img'), 16 * MiB, [[0, 1, 'random']]);
    const before = sha256(card);
    const small = await odsSd(['erase', card, '--library', lib, '--yes']);
    expect(small.code).toBe(2);
    expect(small.json.error?.code).toBe('too-small');
    const label = await odsSd(['erase', card, '--library', lib, '--yes', '--label', 'my card']);
    expect(label.code).toBe(2);
    expect(label.json.error?.code).toBe('bad-input');
    expect(sha256(card)).toBe(before);
  });

  it('refuses the system disk', async () => {
    const root = execFileSync('findmnt', ['-n', '-o', 'SOURCE', '/'], { encoding: 'utf8' }).trim();
    expect(root, 'this test needs / on a block device').toMatch(/^\/dev\//);
    const r = await odsSd(['erase', root, '--library', lib, '--yes']);
    expect(r.code).toBe(2);
    expect(r.json.error?.code).toBe('unsafe-target');
  });
});
