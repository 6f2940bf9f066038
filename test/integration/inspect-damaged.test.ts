// inspect of a card whose file systems are damaged says what is wrong and what to do.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, removeScratch, scratch } from '../helpers/fixtures.js';
import { sfdiskJson, withPartition } from '../helpers/disk-tools.js';

/** Overwrites `bytes` at byte `at` of `file` with random garbage. */
function garbage(file: string, at: number, bytes: number): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(bytes), 0, bytes, at);
  closeSync(fd);
}

afterAll(() => removeScratch());

describe('ods-sd inspect of a damaged card', () => {
  it('garbage in the ext4 group descriptor block: names the damage and e2fsck', async () => {
    const dir = scratch('inspect-gd');
    const img = copyFixture(fixture('base'), dir, 'gd.img');
    // 4 KiB blocks: the group descriptors are block 1 of the root partition.
    garbage(img, sfdiskJson(img).partitions[1]!.start * 512 + 4096, 4096);
    const r = await odsSd(['inspect', img]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.state).toBe('unknown');
    expect(r.json.result.problems).toEqual([
      expect.stringMatching(
        /ext4 file system of partition 2 is damaged \(.*group descriptor.*\): repair it with e2fsck -f/,
      ),
    ]);
    expect(r.json.result.partitions.map((p: { fs: string }) => p.fs)).toEqual(['vfat', 'ext4']);
  });

  it('a garbage FAT: names the damage and fsck.fat', async () => {
    const dir = scratch('inspect-fat');
    const img = copyFixture(fixture('base'), dir, 'fat.img');
    // The FAT follows the boot sector's reserved sectors (32 for mkfs.vfat -F 32).
    garbage(img, (sfdiskJson(img).partitions[0]!.start + 32) * 512, 64 * 1024);
    const r = await odsSd(['inspect', img]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.state).toBe('base');
    expect(r.json.result.problems).toEqual([
      expect.stringMatching(
        /FAT file system of partition 1 (is damaged|has errors) \(.+\): repair it with fsck.fat -a/,
      ),
    ]);
  });

  it('a FAT with only its dirty bit set (a card pulled without unmounting) is no problem', async () => {
    const dir = scratch('inspect-dirty');
    const img = copyFixture(fixture('base'), dir, 'dirty.img');
    const bootSector = sfdiskJson(img).partitions[0]!.start * 512;
    const fd = openSync(img, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, bootSector + 0x41);
    writeSync(fd, Buffer.from([b[0]! | 1]), 0, 1, bootSector + 0x41);
    closeSync(fd);
    const r = await odsSd(['inspect', img]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.problems).toEqual([]);
  });
});

describe('ods-sd inspect of a card with a hostile label', () => {
  it('a label holding a line break cannot add lines to what the inspect script reports', async () => {
    const dir = scratch('inspect-label');
    const img = copyFixture(fixture('base'), dir, 'label.img');
    // A label that, printed raw, would start a report line of its own.
    withPartition(
      img,
      2,
      (dev) => execFileSync('tune2fs', ['-L', 'a\n@@ATLAS x', dev], { stdio: 'pipe' }),
      true,
    );
    const r = await odsSd(['inspect', img]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.result.partitions.map((p: { label: string | null }) => p.label)).toEqual([
      'RPICFG',
      'a__ATLAS_x',
    ]);
  });
});
