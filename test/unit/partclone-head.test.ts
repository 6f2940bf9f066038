// The header of a partclone image, read from the first bytes of its gzip stream: checked against
// images partclone itself writes (ext4 and FAT32 of files, no loop devices), and damaged copies.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fsBytes,
  parsePartcloneHead,
  readPartcloneHead,
  usedBytes,
} from '../../src-main/core/library/partclone-head.js';

const dir = mkdtempSync(join(tmpdir(), 'partclone-head-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file system of `mib` MiB made by `mkfs`, cloned by partclone into a .partclone.gz. */
function image(name: string, mib: number, mkfs: string[], partclone: string): string {
  const fs = join(dir, `${name}.fs`);
  execFileSync('truncate', ['-s', `${mib}M`, fs]);
  execFileSync(mkfs[0]!, [...mkfs.slice(1), fs], { stdio: 'ignore' });
  const raw = join(dir, `${name}.pc`);
  execFileSync(partclone, ['-c', '-q', '-s', fs, '-o', raw], { stdio: 'ignore' });
  const gz = join(dir, `${name}.partclone.gz`);
  writeFileSync(gz, gzipSync(readFileSync(raw)));
  return gz;
}

let ext4: string;
let fat: string;
beforeAll(() => {
  ext4 = image('root', 48, ['mkfs.ext4', '-q', '-F', '-b', '4096'], 'partclone.ext4');
  fat = image('boot', 40, ['mkfs.vfat', '-F', '32'], 'partclone.fat32');
});

describe('partclone image header', () => {
  it("reads an ext4 image's file system size and used blocks", async () => {
    const h = await readPartcloneHead(ext4, 'root image');
    expect(h).toMatchObject({ fs: 'EXTFS', format: '0002', blockSize: 4096, deviceBytes: 48 * 1024 * 1024 });
    expect(fsBytes(h)).toBe(48 * 1024 * 1024);
    const dumpe2fs = execFileSync('dumpe2fs', ['-h', join(dir, 'root.fs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const free = Number(/^Free blocks:\s+(\d+)/m.exec(dumpe2fs)![1]);
    expect(h.usedBlocks).toBe(h.totalBlocks - free);
    expect(usedBytes(h)).toBe(h.usedBlocks * 4096);
  });

  it("reads a FAT32 image's header", async () => {
    const h = await readPartcloneHead(fat, 'boot image');
    expect(h.fs).toMatch(/^FAT/);
    expect(fsBytes(h)).toBeLessThanOrEqual(40 * 1024 * 1024);
    expect(h.usedBlocks).toBeGreaterThan(0);
  });

  it('refuses a header whose checksum does not match, or one that is not partclone', () => {
    const head = gunzipSync(readFileSync(ext4)).subarray(0, 110);
    const bigger = Buffer.from(head);
    bigger.writeBigUInt64LE(10n ** 12n, 68); // used blocks
    expect(() => parsePartcloneHead(bigger, 'root image')).toThrow(/header checksum does not match/);
    expect(() => parsePartcloneHead(Buffer.alloc(110), 'root image')).toThrow(/partclone's magic/);
  });

  it('refuses a link or a pipe instead of reading it', async () => {
    execFileSync('ln', ['-s', ext4, join(dir, 'link.gz')]);
    await expect(readPartcloneHead(join(dir, 'link.gz'), 'root image')).rejects.toThrow(/is a link/);
    execFileSync('mkfifo', [join(dir, 'pipe.gz')]);
    await expect(readPartcloneHead(join(dir, 'pipe.gz'), 'root image')).rejects.toThrow(/is a pipe/);
  });
});
