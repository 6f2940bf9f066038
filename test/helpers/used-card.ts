/**
 * Cards for the used-block tests that look like cards that have been used before: every byte
 * starts as old, non-zero data, and only then are the partition table and file systems made on
 * top (mkfs without discard), so free space still holds the old data. A map that misses a used
 * block then shows up as a wrong checksum or an e2fsck error in the copy, never as a lucky zero.
 * Built with the real tools only (sfdisk, mkfs.vfat, mcopy, mkfs.ext4 -d, resize2fs, dumpe2fs).
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sfdiskJson, withPartition } from './disk-tools.js';

export const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes (AES-CTR keystream of the seed). */
function pattern(seed: string, offset: number, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const block = Math.floor(offset / 16);
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(block), 8);
  const skip = offset - block * 16;
  const c = createCipheriv('aes-128-ctr', key, iv);
  return c.update(Buffer.alloc(length + skip)).subarray(skip);
}

/** Writes old data over [offset, offset+length) of a file. */
export function writePattern(path: string, offset: number, length: number, seed: string): void {
  const fd = openSync(path, 'r+');
  try {
    for (let at = 0; at < length; at += 8 * MiB) {
      const n = Math.min(8 * MiB, length - at);
      writeSync(fd, pattern(seed, offset + at, n), 0, n, offset + at);
    }
  } finally {
    closeSync(fd);
  }
}

export function patternFile(path: string, bytes: number, seed: string): void {
  writeFileSync(path, '');
  execFileSync('truncate', ['-s', String(bytes), path]);
  writePattern(path, 0, bytes, seed);
}

/** A root tree of about `mib` MiB: a few large files, many small ones, links, empty files. */
export function makeTree(dir: string, seed: string, mib: number): void {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'var/cache/old'), { recursive: true });
  mkdirSync(join(dir, 'usr/share/doc'), { recursive: true });
  writeFileSync(join(dir, 'etc/hostname'), `atlas-${seed}\n`);
  writeFileSync(join(dir, 'etc/empty'), '');
  // A file of zeros: its blocks are in use but hold zeros, like an inode table of a fresh group.
  writeFileSync(join(dir, 'var/cache/zeros.bin'), Buffer.alloc(MiB));
  symlinkSync('/etc/hostname', join(dir, 'etc/link'));
  const big = Math.floor((mib * MiB * 0.7) / 4);
  for (let i = 0; i < 4; i++)
    writeFileSync(join(dir, `var/cache/old/blob-${i}.bin`), pattern(`${seed}-blob-${i}`, 0, big));
  const small = Math.max(1, Math.floor((mib * MiB * 0.3) / 300));
  for (let i = 0; i < 300; i++) {
    const sub = join(dir, 'usr/share/doc', `d${i % 17}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f-${i}.txt`), pattern(`${seed}-small-${i}`, 0, small + (i % 7) * 1000));
  }
}

export interface CardSpec {
  name: string;
  label?: 'mbr' | 'gpt';
  bootMiB?: number;
  /** 16 or 32 (FAT type of the boot partition). */
  bootFat?: 16 | 32;
  rootMiB: number;
  /** Extra mkfs.ext4 arguments (-b 1024, -O ^flex_bg…). */
  mkfs: string[];
  /** MiB of files in the root file system. */
  fillMiB: number;
  /** Make the file system this small first, then grow it with resize2fs to the partition. */
  grownFromMiB?: number;
  /** Mount the root once: delete half the small files and write new ones (the kernel allocates). */
  useMounted?: boolean;
  /** Unpartitioned MiB after the last partition. */
  trailingMiB?: number;
}

export interface BuiltCard {
  path: string;
  bytes: number;
  bootStart: number;
  rootStart: number;
  rootBytes: number;
}

export function buildCard(dir: string, spec: CardSpec): BuiltCard {
  const seed = spec.name;
  const bootMiB = spec.bootMiB ?? 64;
  const label = spec.label ?? 'mbr';
  const bootStart = 4 * MiB;
  const rootStart = bootStart + bootMiB * MiB;
  const rootBytes = spec.rootMiB * MiB;
  const tail = (label === 'gpt' ? MiB : 0) + (spec.trailingMiB ?? 0) * MiB;
  const bytes = rootStart + rootBytes + tail;
  const path = join(dir, `${spec.name}.img`);
  const work = mkdtempSync(join(tmpdir(), 'atlas-card-'));
  try {
    patternFile(path, bytes, `${seed}-card`);
    const s = (b: number): number => b / 512;
    const table =
      label === 'gpt'
        ? `label: gpt\nfirst-lba: 2048\nstart=${s(bootStart)}, size=${s(bootMiB * MiB)}, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="RPICFG"\nstart=${s(rootStart)}, size=${s(rootBytes)}, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="armbi_root"\n`
        : `label: dos\nlabel-id: 0x5eed4a72\nstart=${s(bootStart)}, size=${s(bootMiB * MiB)}, type=c\nstart=${s(rootStart)}, size=${s(rootBytes)}, type=83\n`;
    execFileSync('sfdisk', ['-q', path], { input: table, stdio: ['pipe', 'ignore', 'pipe'] });

    const boot = join(work, 'boot.fs');
    patternFile(boot, bootMiB * MiB, `${seed}-boot`);
    execFileSync('mkfs.vfat', ['-F', String(spec.bootFat ?? 32), '-n', 'RPICFG', boot], { stdio: 'ignore' });
    const bootTree = join(work, 'boot');
    mkdirSync(join(bootTree, 'overlays'), { recursive: true });
    writeFileSync(join(bootTree, 'cmdline.txt'), 'console=tty1 root=LABEL=armbi_root rootwait\n');
    writeFileSync(join(bootTree, 'Image'), pattern(`${seed}-kernel`, 0, 3 * MiB));
    writeFileSync(join(bootTree, 'overlays/vc4.dtbo'), pattern(`${seed}-dtbo`, 0, 5000));
    execFileSync('mcopy', [
      '-s',
      '-i',
      boot,
      join(bootTree, 'cmdline.txt'),
      join(bootTree, 'Image'),
      join(bootTree, 'overlays'),
      '::/',
    ]);

    const root = join(work, 'root.fs');
    patternFile(root, rootBytes, `${seed}-root`);
    const tree = join(work, 'tree');
    makeTree(tree, seed, spec.fillMiB);
    const args = [
      '-q',
      '-F',
      '-E',
      'nodiscard,root_owner=0:0',
      '-L',
      'armbi_root',
      ...spec.mkfs,
      '-d',
      tree,
      root,
    ];
    if (spec.grownFromMiB) {
      const at = spec.mkfs.indexOf('-b');
      if (at < 0) throw new Error('a grown card needs an explicit -b block size');
      const bs = Number(spec.mkfs[at + 1]);
      args.push(String((spec.grownFromMiB * MiB) / bs));
    }
    execFileSync('mkfs.ext4', args, { stdio: 'pipe' });
    if (spec.grownFromMiB) execFileSync('resize2fs', [root], { stdio: 'pipe' });
    if (spec.useMounted) useMounted(root, work, seed);

    execFileSync('dd', [
      `if=${boot}`,
      `of=${path}`,
      'bs=1M',
      `seek=${bootStart}`,
      'oflag=seek_bytes',
      'conv=notrunc',
      'status=none',
    ]);
    execFileSync('dd', [
      `if=${root}`,
      `of=${path}`,
      'bs=1M',
      `seek=${rootStart}`,
      'oflag=seek_bytes',
      'conv=notrunc',
      'status=none',
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { path, bytes, bootStart, rootStart, rootBytes };
}

function useMounted(fsFile: string, work: string, seed: string): void {
  const mnt = join(work, 'mnt');
  mkdirSync(mnt);
  const dev = execFileSync('losetup', ['--find', '--show', fsFile], { encoding: 'utf8' }).trim();
  try {
    execFileSync('mount', [dev, mnt]);
    try {
      execFileSync('bash', ['-c', 'find "$1/usr/share/doc" -name "f-*[02468].txt" -delete', 'x', mnt]);
      mkdirSync(join(mnt, 'home/signage/ODS'), { recursive: true });
      for (let i = 0; i < 40; i++) {
        writeFileSync(
          join(mnt, `home/signage/ODS/new-${i}.bin`),
          pattern(`${seed}-new-${i}`, 0, 200_000 + i * 3000),
        );
      }
    } finally {
      execFileSync('umount', [mnt]);
    }
  } finally {
    execFileSync('losetup', ['-d', dev]);
  }
  execFileSync('sync');
  // The changes must be in the file now, with a clean superblock: otherwise the card is not what it claims.
  const ls = execFileSync('debugfs', ['-R', 'ls /home/signage/ODS', fsFile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const header = execFileSync('dumpe2fs', ['-h', fsFile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  if (!ls.includes('new-39.bin') || /needs_recovery/.test(header)) {
    throw new Error(`the mounted changes did not reach ${fsFile} after umount`);
  }
}

/** Byte ranges (on the card) of the free blocks of the ext4 in partition n, says dumpe2fs. */
export function ext4FreeRanges(img: string, n = 2): Array<[number, number]> {
  const part = sfdiskJson(img).partitions[n - 1]!;
  const out = withPartition(img, n, (dev) =>
    execFileSync('dumpe2fs', [dev], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * MiB,
    }),
  );
  const bs = Number(/Block size:\s+(\d+)/.exec(out)![1]);
  const ranges: Array<[number, number]> = [];
  for (const m of out.matchAll(/^\s+Free blocks: (.+)$/gm)) {
    for (const part2 of m[1]!.split(', ')) {
      const [a, b] = part2.split('-').map(Number);
      ranges.push([part.start * 512 + a! * bs, part.start * 512 + ((b ?? a)! + 1) * bs]);
    }
  }
  return ranges;
}

/** Old data in every free block of the root file system and in the gap before partition 1. */
export function ageCard(img: string, seed: string): void {
  for (const [start, end] of ext4FreeRanges(img)) writePattern(img, start, end - start, `${seed}-old`);
  const p1 = sfdiskJson(img).partitions[0]!;
  writePattern(img, MiB, p1.start * 512 - MiB, `${seed}-gap`);
}

/** Bytes in use according to the file systems' own tools: dumpe2fs for p2, mdir for the FAT p1. */
export function usedBytesByTools(img: string): number {
  const ext = withPartition(img, 2, (dev) =>
    execFileSync('dumpe2fs', ['-h', dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }),
  );
  const num = (re: RegExp): number => Number(re.exec(ext)![1]);
  const extUsed = (num(/Block count:\s+(\d+)/) - num(/Free blocks:\s+(\d+)/)) * num(/Block size:\s+(\d+)/);
  const p1 = sfdiskJson(img).partitions[0]!;
  const mdir = execFileSync('mdir', ['-i', `${img}@@${p1.start * 512}`, '::/'], { encoding: 'utf8' });
  const free = Number(/([\d ]+) bytes free/.exec(mdir)![1]!.replace(/ /g, ''));
  return extUsed + (p1.size * 512 - free);
}

/** Bytes of disk space a (sparse) file takes. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}

/** sha256 of [start, start+length) of a file or device. */
export function rangeSha256(path: string, start: number, length: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4 * MiB);
    for (let at = 0; at < length;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, length - at), start + at);
      if (n === 0) throw new Error(`${path} ends at ${start + at}`);
      hash.update(buf.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** sha256 of every file of a FAT image file (copied out with mcopy), by path. */
export function bootChecksumsOf(fsImage: string): Map<string, string> {
  const out = new Map<string, string>();
  const dir = mkdtempSync(join(tmpdir(), 'atlas-fat-'));
  try {
    execFileSync('mcopy', ['-s', '-n', '-i', fsImage, '::/*', dir]);
    const list = execFileSync('find', [dir, '-type', 'f', '-print0'], { encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    for (const f of list)
      out.set(f.slice(dir.length + 1), createHash('sha256').update(readFileSync(f)).digest('hex'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * Marks `count` blocks of `file` (from its logical block 2) free in partition `n`'s block bitmap
 * with debugfs freeb, then makes the group's and the superblock's free counts and every checksum
 * agree: a bitmap that lost a file's blocks, which only a check against the files can notice.
 */
export function freeFileBlocks(card: string, file: string, count: number, n = 2): void {
  withPartition(
    card,
    n,
    (dev) => {
      const out = (args: string[]): string =>
        execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const first = Number(out(['debugfs', '-R', `bmap ${file} 2`, dev]).trim());
      const text = out(['dumpe2fs', dev]);
      const group = Math.floor(first / Number(/^Blocks per group:\s+(\d+)/m.exec(text)![1]));
      const groupFree = Number(
        new RegExp(`^Group ${group}:[\\s\\S]*?^\\s+(\\d+) free blocks`, 'm').exec(text)![1],
      );
      const sbFree = Number(/^Free blocks:\s+(\d+)/m.exec(text)![1]);
      out(['debugfs', '-w', '-R', `freeb ${first} ${count}`, dev]);
      execFileSync('debugfs', ['-w', '-f', '-', dev], {
        input:
          `set_bg ${group} free_blocks_count ${groupFree + count}\nset_bg ${group} checksum calc\n` +
          `ssv free_blocks_count ${sbFree + count}\n`,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
    },
    true,
  );
}
