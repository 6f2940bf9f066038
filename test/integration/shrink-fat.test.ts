// Shrink never publishes a clone image whose boot FAT is damaged, even with --force.
import { closeSync, existsSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { odsSd } from '../helpers/cli.js';
import { copyFixture, fixture, scratch } from '../helpers/fixtures.js';
import { sfdiskJson } from '../helpers/disk-tools.js';
import { parseFatBootSector } from '../../src-main/core/rawio/used-blocks/fat-map.js';

describe('shrink of a card with a damaged FAT', () => {
  it('is refused with --force too, and leaves nothing in the library', async () => {
    const dir = scratch('shrink-fat');
    const lib = join(dir, 'lib');
    const card = copyFixture(fixture('provisioned'), dir, 'fat.img');
    const p1 = sfdiskJson(card).partitions[0]!.start * 512;
    const fd = openSync(card, 'r+');
    const boot = Buffer.alloc(512);
    readSync(fd, boot, 0, 512, p1);
    const g = parseFatBootSector(boot, 2 ** 40)!;
    // Cluster 2's entry in the second FAT copy points back at cluster 2: the copies disagree.
    const entry = Buffer.alloc(4);
    entry.writeUInt32LE(2);
    writeSync(fd, entry, 0, 4, p1 + (g.reservedSectors + g.fatSectors) * g.bytesPerSector + 8);
    closeSync(fd);

    const r = await odsSd([
      'shrink',
      card,
      '--version',
      '9.1.7',
      '--tag',
      'FAT',
      '--force',
      '--library',
      lib,
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error?.code).toBe('bad-input');
    expect(r.json.error?.message).toMatch(/FAT of partition 1 is damaged: .*FAT copy 2 differs/);
    expect(r.json.error?.hint).toMatch(/fsck\.fat/);
    const left = existsSync(lib) ? readdirSync(lib).filter((f) => !f.startsWith('.')) : [];
    expect(left).toEqual([]);
  });
});
