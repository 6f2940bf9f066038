// The FAT map against dosfstools and mtools: on FAT12/16/32 made over old data, a copy of only
// the mapped ranges must pass fsck.fat and hold every file unchanged.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { bootChecksumsOf, MiB, patternFile, writePattern } from '../helpers/used-card.js';
import { bufferReader, handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { looksLikeFat, mapFat, parseFatBootSector } from '../../src-main/core/rawio/used-blocks/fat-map.js';
import { UsedMapError } from '../../src-main/core/rawio/used-blocks/map-error.js';

let dir: string;

beforeAll(() => {
  dir = scratch('fatmap');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A FAT over old data, with files added, some deleted and more added (fragmented chains). */
function makeFat(name: string, mib: number, mkfsArgs: string[]): string {
  const p = join(dir, `${name}.fs`);
  patternFile(p, mib * MiB, `${name}-old`);
  execFileSync('mkfs.vfat', [...mkfsArgs, '-n', 'RPICFG', p], { stdio: 'ignore' });
  const files = mkdtempSync(join(dir, 'files-'));
  mkdirSync(join(files, 'overlays'));
  const room = mib * MiB;
  for (let i = 0; i < 12; i++) {
    const f = join(i % 3 ? files : join(files, 'overlays'), `f${i}.bin`);
    writePatternNew(f, Math.floor(room / 100) + i * 777, `${name}-f${i}`);
  }
  execFileSync('mcopy', [
    '-s',
    '-i',
    p,
    join(files, 'overlays'),
    ...[0, 1, 2, 4, 5, 7, 8, 10, 11].filter((i) => i % 3).map((i) => join(files, `f${i}.bin`)),
    '::/',
  ]);
  execFileSync('mdel', ['-i', p, '::/f1.bin', '::/f4.bin', '::/f7.bin']);
  writePatternNew(join(files, 'late.bin'), Math.floor(room / 20), `${name}-late`);
  execFileSync('mcopy', ['-i', p, join(files, 'late.bin'), '::/']);
  return p;
}

function writePatternNew(path: string, bytes: number, seed: string): void {
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(bytes), path]);
  writePattern(path, 0, bytes, seed);
}

async function mapFile(p: string, size?: number) {
  const fh = await open(p, 'r');
  try {
    return await mapFat(handleReader(fh, size ?? (await fh.stat()).size));
  } finally {
    await fh.close();
  }
}

/** A new sparse file holding only `ranges` of `src`. */
function copyRanges(
  src: string,
  dest: string,
  size: number,
  ranges: Array<{ start: number; end: number }>,
): void {
  writeFileSync(dest, '');
  execFileSync('truncate', ['-s', String(size), dest]);
  const s = openSync(src, 'r');
  const d = openSync(dest, 'r+');
  for (const r of ranges) {
    const b = Buffer.alloc(r.end - r.start);
    readSync(s, b, 0, b.length, r.start);
    writeSync(d, b, 0, b.length, r.start);
  }
  closeSync(s);
  closeSync(d);
}

function fsckUsedClusters(p: string): { code: number; used: number } {
  const r = spawnSync('fsck.fat', ['-n', '-v', p], { encoding: 'utf8' });
  const m = /(\d+)\/(\d+) clusters/.exec(r.stdout);
  return { code: r.status ?? -1, used: Number(m?.[1]) };
}

function patch(path: string, offset: number, fn: (b: Buffer) => void, length = 512): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, offset);
  fn(b);
  writeSync(fd, b, 0, length, offset);
  closeSync(fd);
}

describe('mapFat', () => {
  for (const [type, mib, args] of [
    [12, 8, ['-F', '12']],
    [16, 64, ['-F', '16']],
    [32, 128, ['-F', '32', '-s', '1']],
    [32, 320, ['-F', '32', '-s', '8']],
  ] as const) {
    it(`FAT${type} (${mib} MiB, ${args.join(' ')}): the mapped copy passes fsck.fat and keeps every file`, async () => {
      const p = makeFat(`fat${type}-${mib}`, mib, [...args]);
      const m = await mapFile(p);
      expect(m.fs).toBe(`fat${type}`);
      expect(m.label).toBe('RPICFG');
      const theirs = fsckUsedClusters(p);
      expect(theirs.code).toBe(0);
      expect(m.details).toContain(`${theirs.used} of `);
      const copy = `${p}.copy`;
      copyRanges(p, copy, mib * MiB, m.ranges);
      expect(fsckUsedClusters(copy)).toEqual(theirs);
      expect(bootChecksumsOf(copy)).toEqual(bootChecksumsOf(p));
      // Far less than the whole file system is mapped, and free clusters of old data are left out.
      expect(m.usedBytes).toBeLessThan(mib * MiB * 0.8);
    });
  }

  it('reads the active FAT when FAT32 mirroring is off', async () => {
    const p = makeFat('fat32-mirror-off', 128, ['-F', '32', '-s', '1']);
    const before = await mapFile(p);
    const head = Buffer.alloc(512);
    const fd = openSync(p, 'r');
    readSync(fd, head, 0, 512, 0);
    closeSync(fd);
    const g = parseFatBootSector(head, 128 * MiB)!;
    // FAT 1 becomes the only valid one; FAT 0 is cleared except its media entry.
    patch(p, 0x28, (b) => b.writeUInt16LE(0x80 | 1, 0), 2);
    const fat0 = g.reservedSectors * 512;
    patch(p, fat0 + 8, (b) => b.fill(0), g.fatSectors * 512 - 8);
    const after = await mapFile(p);
    expect(after.ranges).toEqual(before.ranges);
  });

  it('refuses a FAT whose first entry does not match the media byte', async () => {
    const p = makeFat('fat16-media', 64, ['-F', '16']);
    const g = parseFatBootSector(await firstSector(p), 64 * MiB)!;
    patch(p, g.reservedSectors * 512, (b) => (b[0] = 0x00), 1);
    await expect(mapFile(p)).rejects.toThrow(/media byte/);
  });

  it('refuses a FAT entry that points to a cluster that does not exist', async () => {
    const p = makeFat('fat16-link', 64, ['-F', '16']);
    const g = parseFatBootSector(await firstSector(p), 64 * MiB)!;
    patch(p, g.reservedSectors * 512 + 2 * 100, (b) => b.writeUInt16LE(g.clusters + 50, 0), 2);
    const err = await mapFile(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsedMapError);
    expect((err as UsedMapError).message).toMatch(/entry 100 points to cluster/);
  });

  it('refuses a FAT larger than its partition, and does not take other boot sectors for FAT', async () => {
    const p = makeFat('fat32-short', 96, ['-F', '32']);
    await expect(mapFile(p, 64 * MiB)).rejects.toThrow(/larger than its partition/);
    const ntfsLike = Buffer.alloc(4096);
    ntfsLike.write('\xebR\x90NTFS    ', 0, 'latin1');
    ntfsLike.writeUInt16LE(512, 0x0b);
    ntfsLike[0x0d] = 8;
    ntfsLike[510] = 0x55;
    ntfsLike[511] = 0xaa;
    const exfat = Buffer.from(ntfsLike);
    exfat.write('EXFAT   ', 3, 'latin1');
    exfat.fill(0, 0x0b, 0x40);
    expect(await looksLikeFat(bufferReader(ntfsLike))).toBe(false);
    expect(await looksLikeFat(bufferReader(exfat))).toBe(false);
  });
});

async function firstSector(p: string): Promise<Buffer> {
  const fh = await open(p, 'r');
  const b = Buffer.alloc(512);
  await fh.read(b, 0, 512, 0);
  await fh.close();
  return b;
}
