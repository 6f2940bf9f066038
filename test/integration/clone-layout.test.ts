// Clone refuses a card whose partitions a clone set cannot hold (an extended partition with
// logical ones, a third primary), naming them, and publishes nothing. Cards made with sfdisk.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { e2fsckClean, sfdiskJson } from '../helpers/disk-tools.js';
import { freeFileBlocks } from '../helpers/used-card.js';
import { startJob } from '../../src-main/core/jobs/job.js';
import { clone } from '../../src-main/core/phases/clone.js';
import { dumpPartitions } from '../../src-main/core/phases/clone-layout.js';
import { parseFatBootSector } from '../../src-main/core/rawio/used-blocks/fat-map.js';
import { LocalBuilder } from '../../src-main/core/builder/local-builder.js';

const MiB = 1024 * 1024;

let dir: string;
let lib: string;

beforeAll(() => {
  dir = scratch('clone-layout');
  lib = join(dir, 'atlas-build');
});

/**
 * The fixture card with 48 MiB more at its end, holding `extra(end)`: sfdisk --append lines for
 * the space after partition 2, which ends at sector `end`.
 */
function cardWith(name: string, extra: (end: number) => string): string {
  const card = copyFixture(fixture('provisioned', { fillMiB: 8 }), dir, `${name}.img`);
  execFileSync('truncate', ['-s', `+${48 * MiB}`, card]);
  const p2 = sfdiskJson(card).partitions[1]!;
  execFileSync('sfdisk', ['-q', '--append', '--no-reread', '--no-tell-kernel', card], {
    input: extra(p2.start + p2.size),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  return card;
}

function runClone(card: string, name: string) {
  const env = { builder: new LocalBuilder(), library: lib };
  return startJob('clone', (ctx) => clone(env, { card, name }, ctx)).promise;
}

describe('clone: only cards a clone set can hold', () => {
  it('refuses an extended partition with logical partitions, naming them; nothing is published', async () => {
    const card = cardWith(
      'logical',
      (end) =>
        `start=${end}, type=5\nstart=${end + 2048}, size=32768, type=83\nstart=${end + 36864}, type=83\n`,
    );
    const parts = sfdiskJson(card).partitions;
    expect(parts.map((p) => p.node.slice(card.length))).toEqual(['1', '2', '3', '5', '6']);
    await expect(runClone(card, 'logical')).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(
        /^the card has partitions a clone set cannot hold: partition 3 is an extended partition holding logical partitions 5, 6\./,
      ),
    });
    expect(existsSync(join(lib, 'golden-clone-logical'))).toBe(false);
    expect(existsSync(join(lib, 'golden-clone-logical.partial'))).toBe(false);
  });

  it('refuses a third primary partition', async () => {
    const card = cardWith('third', (end) => `start=${end}, type=83\n`);
    await expect(runClone(card, 'third')).rejects.toMatchObject({
      code: 'unsupported',
      message: expect.stringMatching(/partition 3 \(type 83\)/),
    });
  });

  it('refuses a card whose block bitmap lost a file’s blocks (partclone would leave them out)', async () => {
    const card = copyFixture(fixture('provisioned', { fillMiB: 8 }), dir, 'freed.img');
    freeFileBlocks(card, '/var/cache/atlas-fill/blob-1.bin', 8);
    expect(e2fsckClean(card).output).toMatch(/Block bitmap differences/);
    await expect(runClone(card, 'freed')).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(
        /file system maps are damaged, so partclone would leave data out of the clone: partition 2 \(type 0x83\): the block bitmaps mark 8 blocks of inode \d+ as free$/,
      ),
      hint: expect.stringMatching(/e2fsck -f/),
    });
    expect(existsSync(join(lib, 'golden-clone-freed'))).toBe(false);
    expect(existsSync(join(lib, 'golden-clone-freed.partial'))).toBe(false);
  });

  it('refuses a card whose boot partition has FAT copies that differ', async () => {
    const card = copyFixture(fixture('provisioned', { fillMiB: 8 }), dir, 'fat.img');
    const p1 = sfdiskJson(card).partitions[0]!.start * 512;
    const fd = openSync(card, 'r+');
    const boot = Buffer.alloc(512);
    readSync(fd, boot, 0, 512, p1);
    const g = parseFatBootSector(boot, 2 ** 40)!;
    writeSync(fd, Buffer.alloc(4), 0, 4, p1 + (g.reservedSectors + g.fatSectors) * g.bytesPerSector + 8);
    closeSync(fd);
    await expect(runClone(card, 'fat')).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(/partition 1 \(type 0x0c\): FAT copy 2 differs from FAT copy 1/),
    });
  });

  it('reads partitions from sfdisk dumps of images and devices', () => {
    const dump =
      'label: dos\nlabel-id: 0x1234\ndevice: /dev/mmcblk0\nunit: sectors\nsector-size: 512\n\n' +
      '/dev/mmcblk0p1 : start=        8192, size=      524288, type=c, bootable\n' +
      '/dev/mmcblk0p2 : start=      532480, size=     7000000, type=83\n' +
      '/dev/mmcblk0p12 : start=     7600000, size=        2048, type=83\n';
    expect(dumpPartitions(dump)).toEqual([
      { index: 1, start: 8192, size: 524288, type: 'c' },
      { index: 2, start: 532480, size: 7000000, type: '83' },
      { index: 12, start: 7600000, size: 2048, type: '83' },
    ]);
  });
});
