// The card-level map: partitions mapped by their file systems, everything outside them kept,
// unknown or damaged file systems copied in full with a reason, trailing space left out.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { MiB, writePattern } from '../helpers/used-card.js';
import { handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { totalBytes } from '../../src-main/core/rawio/used-blocks/byte-ranges.js';
import { mapCard, type CardMapOptions } from '../../src-main/core/rawio/used-blocks/used-ranges.js';

let dir: string;
beforeAll(() => {
  dir = scratch('cardmap');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function blank(name: string, bytes: number): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  return p;
}

function table(p: string, spec: string): void {
  execFileSync('sfdisk', ['-q', p], { input: spec, stdio: ['pipe', 'ignore', 'pipe'] });
}

function fat(p: string, startSector: number, sectors: number): void {
  execFileSync('mkfs.vfat', ['-F', '16', `--offset=${startSector}`, p, String(sectors / 2)], {
    stdio: 'ignore',
  });
}

function ext4(p: string, start: number, bytes: number): void {
  execFileSync('mkfs.ext4', ['-q', '-F', '-b', '4096', '-E', `offset=${start}`, p, String(bytes / 4096)], {
    stdio: 'pipe',
  });
}

async function map(p: string, opts?: CardMapOptions) {
  const fh = await open(p, 'r');
  try {
    return await mapCard(handleReader(fh, (await fh.stat()).size), opts);
  } finally {
    await fh.close();
  }
}

const covers = (ranges: Array<{ start: number; end: number }>, start: number, end: number): boolean =>
  ranges.some((r) => r.start <= start && r.end >= end);

describe('mapCard', () => {
  it('maps FAT and ext4 partitions by their file systems and keeps every byte before the first', async () => {
    const p = blank('two.img', 200 * MiB);
    table(p, 'label: dos\nstart=8192, size=65536, type=e\nstart=73728, size=327680, type=83\n');
    fat(p, 8192, 65536);
    ext4(p, 73728 * 512, 327680 * 512);
    writePattern(p, MiB, 3 * MiB, 'boot-loader'); // something in the gap (a boot loader)
    const m = await map(p);
    expect(m.scheme).toBe('mbr');
    expect(m.fallbacks).toEqual([]);
    expect(m.partitions.map((q) => q.fs)).toEqual(['fat16', 'ext4']);
    expect(covers(m.ranges, 0, 8192 * 512)).toBe(true);
    expect(m.mappedBytes).toBe(totalBytes(m.ranges));
    expect(m.mappedBytes).toBeLessThan(40 * MiB);
    for (const r of m.ranges) expect([r.start % 4096, r.end % 4096]).toEqual([0, 0]);
  });

  it('copies an unrecognised partition in full and says why', async () => {
    const p = blank('unknown.img', 100 * MiB);
    table(p, 'label: dos\nstart=8192, size=32768, type=e\nstart=40960, size=163840, type=83\n');
    fat(p, 8192, 32768);
    writePattern(p, 40960 * 512, 163840 * 512, 'not-a-file-system');
    const m = await map(p);
    expect(m.fallbacks).toEqual([
      'partition 2 (type 0x83): no ext2/3/4 or FAT file system was recognised; copied in full',
    ]);
    expect(m.partitions[1]).toMatchObject({ fs: 'unknown', mappedBytes: 163840 * 512 });
    expect(covers(m.ranges, 40960 * 512, (40960 + 163840) * 512)).toBe(true);
    expect(m.partitions[0]!.fallback).toBeUndefined();
  });

  it('copies a damaged ext4 in full, with the check that failed as the reason', async () => {
    const p = blank('damaged.img', 100 * MiB);
    table(p, 'label: dos\nstart=8192, size=196608, type=83\n');
    ext4(p, 8192 * 512, 196608 * 512);
    writePattern(p, 8192 * 512 + 1024 + 0x30, 4, 'scribble'); // inside the superblock
    const m = await map(p);
    expect(m.fallbacks).toHaveLength(1);
    expect(m.fallbacks[0]).toMatch(
      /^partition 1 \(type 0x83\): the superblock checksum is wrong.*; copied in full$/,
    );
  });

  it('leaves free space after the last partition out (unless asked), but keeps the backup GPT there', async () => {
    const p = blank('trailing.img', 100 * MiB);
    table(p, 'label: gpt\nstart=2048, size=40960, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n');
    ext4(p, 2048 * 512, 40960 * 512);
    const m = await map(p);
    const end = (2048 + 40960) * 512;
    expect(m.notes.join()).toMatch(new RegExp(`${100 * MiB - end} bytes after the last partition`));
    expect(covers(m.ranges, end, end + 4096)).toBe(false);
    expect(covers(m.ranges, 100 * MiB - 33 * 512, 100 * MiB)).toBe(true);
    const all = await map(p, { keepTrailing: true });
    expect(covers(all.ranges, end, 100 * MiB)).toBe(true);
  });

  it('clamps a partition that runs past the end of the card, and copies it in full', async () => {
    const p = blank('short.img', 100 * MiB);
    table(p, 'label: dos\nstart=2048, size=100000, type=83\n');
    ext4(p, 2048 * 512, 48 * MiB);
    // The card turns out smaller than its table says (a truncated image).
    const fh = await open(p, 'r+');
    await fh.truncate(40 * MiB);
    await fh.close();
    const m = await map(p);
    expect(m.notes.join()).toMatch(/partition 1 \(type 0x83\) runs \d+ bytes past the end of the card/);
    expect(m.fallbacks[0]).toMatch(/larger than its partition/);
    expect(m.ranges.at(-1)!.end).toBe(40 * MiB);
  });

  it('maps a file system written to the whole card (no partition table)', async () => {
    const p = blank('superfloppy.img', 64 * MiB);
    ext4(p, 0, 64 * MiB);
    const m = await map(p);
    expect(m.scheme).toBe('none');
    expect(m.partitions).toMatchObject([{ index: 0, fs: 'ext4' }]);
    expect(m.fallbacks).toEqual([]);
    expect(m.mappedBytes).toBeLessThan(16 * MiB);
  });

  it('copies a card with neither a table nor a file system in full', async () => {
    const p = blank('noise.img', 16 * MiB);
    writePattern(p, 0, 16 * MiB, 'noise');
    const m = await map(p);
    expect(m.fallbacks).toEqual([
      'the card (no partition table): no ext2/3/4 or FAT file system was recognised; copied in full',
    ]);
    expect(m.ranges).toEqual([{ start: 0, end: 16 * MiB }]);
  });

  it('copies a card whose protective MBR has no valid GPT behind it in full', async () => {
    const p = blank('gpt-gone.img', 16 * MiB);
    table(p, 'label: gpt\nstart=2048, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n');
    const fh = await open(p, 'r+');
    await fh.write(Buffer.alloc(512), 0, 512, 512);
    await fh.write(Buffer.alloc(512), 0, 512, 16 * MiB - 512);
    await fh.close();
    const m = await map(p);
    expect(m.fallbacks[0]).toMatch(/^the partition table: .*neither GPT.*; the whole card is copied$/);
    expect(m.mappedBytes).toBe(16 * MiB);
  });

  it('aligns to 64 KiB on request, covering everything the 4 KiB map covers', async () => {
    const p = blank('align.img', 100 * MiB);
    table(p, 'label: dos\nstart=8192, size=196608, type=83\n');
    ext4(p, 8192 * 512, 196608 * 512);
    const fine = await map(p);
    const coarse = await map(p, { align: 65536 });
    for (const r of coarse.ranges) expect([r.start % 65536, r.end % 65536]).toEqual([0, 0]);
    for (const r of fine.ranges) expect(covers(coarse.ranges, r.start, r.end)).toBe(true);
    expect(coarse.mappedBytes).toBeGreaterThanOrEqual(fine.mappedBytes);
    await expect(map(p, { align: 3000 })).rejects.toThrow(/power of two/);
  });
});
