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
import { fixture, scratch } from '../helpers/fixtures.js';
import { sfdiskJson } from '../helpers/disk-tools.js';
import { bootChecksumsOf, MiB, patternFile, writePattern } from '../helpers/used-card.js';
import { bufferReader, handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { looksLikeFat, mapFat, parseFatBootSector } from '../../src-main/core/rawio/used-blocks/fat-map.js';
import { UsedMapError } from '../../src-main/core/rawio/used-blocks/map-error.js';
import { checkFat, refuseDamagedFat } from '../../src-main/core/rawio/used-blocks/fat-check.js';

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

describe('checkFat: a FAT is checked before it is trusted', () => {
  /** A FAT16 with two files a (300 kB) and b (200 kB), and where their chains are (mshowfat). */
  function twoFiles(name: string, type: 12 | 16 | 32 = 16, mib = 64) {
    const p = join(dir, `${name}.fs`);
    patternFile(p, mib * MiB, `${name}-old`);
    execFileSync('mkfs.vfat', ['-F', String(type), '-n', 'RPICFG', p], { stdio: 'ignore' });
    const a = join(dir, `${name}-a.bin`);
    const b = join(dir, `${name}-b.bin`);
    writeFileSync(a, '');
    writeFileSync(b, '');
    execFileSync('truncate', ['-s', '300000', a]);
    execFileSync('truncate', ['-s', '200000', b]);
    writePattern(a, 0, 300000, `${name}-a`);
    writePattern(b, 0, 200000, `${name}-b`);
    execFileSync('mcopy', ['-i', p, a, b, '::/']);
    const chain = (f: string): [number, number] => {
      const m = /<(\d+)-(\d+)>/.exec(execFileSync('mshowfat', ['-i', p, f], { encoding: 'utf8' }))!;
      return [Number(m[1]), Number(m[2])];
    };
    return { p, a: chain(`::/${name}-a.bin`), b: chain(`::/${name}-b.bin`) };
  }

  /** Sets FAT16 entry `c` to `v` in the given FAT copies (default: all). */
  async function setEntry(p: string, c: number, v: number, copies?: number[]): Promise<void> {
    const g = parseFatBootSector(await firstSector(p), 2 ** 40)!;
    for (const k of copies ?? [...Array(g.fats).keys()]) {
      patch(p, (g.reservedSectors + k * g.fatSectors) * 512 + c * 2, (b) => b.writeUInt16LE(v, 0), 2);
    }
  }

  async function problems(p: string): Promise<string[]> {
    const fh = await open(p, 'r');
    try {
      return (await checkFat(handleReader(fh, (await fh.stat()).size))).problems;
    } finally {
      await fh.close();
    }
  }

  const fsckFat = (p: string) => spawnSync('fsck.fat', ['-n', p], { encoding: 'utf8' });

  it('finds nothing wrong with FATs that fsck.fat calls clean', async () => {
    for (const type of [12, 16, 32] as const) {
      const { p } = twoFiles(`sound${type}`, type, type === 32 ? 100 : type === 12 ? 4 : 64);
      expect(fsckFat(p).status).toBe(0);
      expect(await problems(p)).toEqual([]);
    }
  });

  it('a chain that loops back to its start: refused, and mapFat copies the partition in full', async () => {
    const { p, a } = twoFiles('loop');
    await setEntry(p, a[1], a[0]);
    expect(fsckFat(p).status).not.toBe(0);
    expect(await problems(p)).toEqual([
      `${a[1] - a[0] + 1} clusters are on cluster chains that loop (first: cluster ${a[0]})`,
    ]);
    const err = await mapFile(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsedMapError);
    expect((err as UsedMapError).message).toMatch(/chains that loop/);
  });

  it('FAT copies that differ', async () => {
    const { p, a } = twoFiles('copies');
    await setEntry(p, a[0] + 5, 0, [1]);
    expect(`${fsckFat(p).stdout}`).toMatch(/FATs differ/);
    expect(await problems(p)).toEqual([
      expect.stringMatching(/^FAT copy 2 differs from FAT copy 1 in 1 entries \(first: cluster \d+\)$/),
    ]);
    await expect(mapFile(p)).rejects.toThrow(/FAT copy 2 differs/);
  });

  it('cross-linked chains, and a chain that runs into a free cluster', async () => {
    const { p, a, b } = twoFiles('crossed');
    await setEntry(p, a[0] + 3, b[0] + 10);
    expect(fsckFat(p).status).not.toBe(0);
    expect((await problems(p)).join('\n')).toMatch(
      new RegExp(
        `cluster ${b[0] + 10} is linked from two chains \\(cross-linked, one of them at cluster \\d+\\)`,
      ),
    );
    const free = twoFiles('tofree');
    await setEntry(free.p, free.b[1], free.b[1] + 50);
    expect(fsckFat(free.p).status).not.toBe(0);
    expect(await problems(free.p)).toEqual([
      `cluster ${free.b[1]} links to cluster ${free.b[1] + 50}, which is free`,
    ]);
  });

  it('refuseDamagedFat: the boot partition of an image, checked where shrink and clone can call it', async () => {
    const card = join(dir, 'card.img');
    execFileSync('cp', ['--sparse=always', fixture('provisioned', { fillMiB: 8 }), card]);
    await expect(refuseDamagedFat(card)).resolves.toBeUndefined();
    const p1 = sfdiskJson(card).partitions[0]!.start * 512;
    const boot = Buffer.alloc(512);
    const fd = openSync(card, 'r+');
    readSync(fd, boot, 0, 512, p1);
    const g = parseFatBootSector(boot, 2 ** 40)!;
    // FAT32: entry 2 is the root directory; make the second copy say it is free.
    writeSync(fd, Buffer.alloc(4), 0, 4, p1 + (g.reservedSectors + g.fatSectors) * g.bytesPerSector + 8);
    closeSync(fd);
    await expect(refuseDamagedFat(card)).rejects.toMatchObject({
      code: 'bad-input',
      message: expect.stringMatching(
        /^the FAT of partition 1 is damaged: FAT copy 2 differs from FAT copy 1/,
      ),
    });
    await expect(refuseDamagedFat(card, 3)).rejects.toMatchObject({ code: 'bad-input' });
  });
});
