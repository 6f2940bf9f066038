// The ext2/3/4 map against e2fsprogs: for file systems made with many feature combinations, the
// blocks we call used must be exactly the blocks dumpe2fs does not list as free. Damaged or
// unclean file systems must be refused with a reason (the caller then copies them in full).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { makeTree, MiB } from '../helpers/used-card.js';
import {
  bufferReader,
  handleReader,
  type ByteReader,
} from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { parseSuperblock } from '../../src-main/core/rawio/used-blocks/ext4-layout.js';
import { looksLikeExt, mapExt4 } from '../../src-main/core/rawio/used-blocks/ext4-map.js';
import { UsedMapError } from '../../src-main/core/rawio/used-blocks/map-error.js';

let dir: string;
let tree: string;

beforeAll(() => {
  dir = scratch('ext4map');
  tree = join(dir, 'tree');
  makeTree(tree, 'ext4map', 12);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mkfs(name: string, mib: number, args: string[], blocks?: number): string {
  const p = join(dir, `${name}.fs`);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(mib * MiB), p]);
  const extra = blocks ? [String(blocks)] : [];
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'root_owner=0:0', ...args, '-d', tree, p, ...extra], {
    stdio: 'pipe',
  });
  return p;
}

function dumpe2fs(path: string, header = false): string {
  return execFileSync('dumpe2fs', [...(header ? ['-h'] : []), path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 256 * MiB,
  });
}

function field(text: string, name: string): string {
  const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`dumpe2fs has no ${name}`);
  return m[1]!.trim();
}

/** One flag per block: in use according to dumpe2fs (not listed under "Free blocks"). */
function usedByE2fsprogs(path: string): { used: Uint8Array; blockSize: number; text: string } {
  const text = dumpe2fs(path);
  const count = Number(field(text, 'Block count'));
  const used = new Uint8Array(count).fill(1);
  for (const m of text.matchAll(/^\s+Free blocks: (.+)$/gm)) {
    for (const part of m[1]!.split(', ')) {
      const [a, b] = part.split('-').map(Number);
      used.fill(0, a!, (b ?? a)! + 1);
    }
  }
  return { used, blockSize: Number(field(text, 'Block size')), text };
}

async function mapFile(path: string, size?: number) {
  const fh = await open(path, 'r');
  try {
    return await mapExt4(handleReader(fh, size ?? (await fh.stat()).size));
  } finally {
    await fh.close();
  }
}

async function expectSameAsE2fsprogs(path: string): Promise<string> {
  const { used, blockSize, text } = usedByE2fsprogs(path);
  const m = await mapFile(path);
  const ours = new Uint8Array(used.length);
  for (const r of m.ranges) ours.fill(1, r.start / blockSize, r.end / blockSize);
  const differ: number[] = [];
  for (let b = 0; b < used.length && differ.length < 5; b++) if (used[b] !== ours[b]) differ.push(b);
  expect(differ, `blocks where we and dumpe2fs disagree`).toEqual([]);
  expect(m.usedBytes).toBe(used.reduce((n, x) => n + x, 0) * blockSize);
  expect(m.fsBytes).toBe(used.length * blockSize);
  return text;
}

function patch(path: string, offset: number, fn: (b: Buffer) => void, length = 4096): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(length);
    readSync(fd, b, 0, length, offset);
    fn(b);
    writeSync(fd, b, 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

const flip = (b: Buffer, at: number, mask: number): void => {
  b.writeUInt8(b.readUInt8(at) ^ mask, at);
};

const features = (text: string): string[] => field(text, 'Filesystem features').split(/\s+/);
const uninitGroups = (text: string): number => (text.match(/BLOCK_UNINIT/g) ?? []).length;

describe('mapExt4: used blocks equal e2fsprogs’ view', () => {
  const cases: Array<{ name: string; mib: number; args: string[]; check: (t: string) => void }> = [
    {
      name: '4 KiB blocks, mke2fs defaults (flex_bg, 64bit, metadata_csum)',
      mib: 600,
      args: ['-b', '4096'],
      check: (t) =>
        expect(features(t)).toEqual(expect.arrayContaining(['flex_bg', '64bit', 'metadata_csum'])),
    },
    {
      name: '1 KiB blocks, many uninitialised groups',
      mib: 300,
      args: ['-b', '1024'],
      check: (t) => expect(uninitGroups(t)).toBeGreaterThan(10),
    },
    {
      name: '2 KiB blocks without a journal',
      mib: 200,
      args: ['-b', '2048', '-O', '^has_journal'],
      check: (t) => expect(features(t)).not.toContain('has_journal'),
    },
    {
      name: 'without flex_bg (bitmaps inside each group)',
      mib: 600,
      args: ['-b', '4096', '-O', '^flex_bg'],
      check: (t) => expect(features(t)).not.toContain('flex_bg'),
    },
    {
      name: 'meta_bg, 4 KiB blocks',
      mib: 600,
      args: ['-b', '4096', '-O', 'meta_bg,^resize_inode'],
      check: (t) => expect(features(t)).toContain('meta_bg'),
    },
    {
      name: 'meta_bg, 1 KiB blocks, 3 GiB (descriptors spread over many meta groups)',
      mib: 3072,
      args: ['-b', '1024', '-O', 'meta_bg,^resize_inode'],
      check: (t) => expect(Number(field(t, 'Block count')) / 8192).toBeGreaterThan(32 * 4),
    },
    {
      name: '32-bit (32-byte group descriptors)',
      mib: 600,
      args: ['-b', '4096', '-O', '^64bit'],
      check: (t) => expect(t).not.toMatch(/Group descriptor size/),
    },
    {
      name: 'gdt_csum (uninit_bg) instead of metadata_csum',
      mib: 600,
      args: ['-b', '4096', '-O', '^metadata_csum,uninit_bg'],
      check: (t) => expect(features(t)).toContain('uninit_bg'),
    },
    {
      name: 'no group checksums at all',
      mib: 300,
      args: ['-b', '4096', '-O', '^metadata_csum,^uninit_bg'],
      check: (t) => expect(uninitGroups(t)).toBe(0),
    },
    {
      name: 'without sparse_super (a superblock copy in every group)',
      mib: 300,
      args: ['-b', '1024', '-O', '^sparse_super,^resize_inode'],
      check: (t) =>
        expect((t.match(/Backup superblock/g) ?? []).length).toBe(
          (t.match(/^Group \d+:/gm) ?? []).length - 1,
        ),
    },
    {
      name: 'sparse_super2 (two backups at most)',
      mib: 600,
      args: ['-b', '4096', '-O', 'sparse_super2'],
      check: (t) => {
        expect(features(t)).toContain('sparse_super2');
        expect((t.match(/Backup superblock/g) ?? []).length).toBeLessThanOrEqual(2);
      },
    },
    {
      name: 'metadata_csum_seed',
      mib: 300,
      args: ['-b', '4096', '-O', 'metadata_csum_seed'],
      check: (t) => expect(features(t)).toContain('metadata_csum_seed'),
    },
    {
      name: 'ext3 (journal mapped through indirect blocks)',
      mib: 300,
      args: ['-t', 'ext3', '-b', '1024'],
      check: (t) => expect(features(t)).not.toContain('extent'),
    },
    {
      name: 'ext2',
      mib: 200,
      args: ['-t', 'ext2'],
      check: (t) => expect(features(t)).not.toContain('has_journal'),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const p = mkfs(c.name.replace(/\W+/g, '-').slice(0, 40), c.mib, c.args);
      const text = await expectSameAsE2fsprogs(p);
      c.check(text);
    });
  }

  it('a file system grown with resize2fs: the new, uninitialised groups count their metadata only', async () => {
    const p = mkfs('grown', 1024, ['-b', '4096'], (64 * MiB) / 4096);
    execFileSync('resize2fs', [p], { stdio: 'pipe' });
    const text = await expectSameAsE2fsprogs(p);
    expect(uninitGroups(text)).toBeGreaterThan(2);
    expect(Number(field(text, 'Block count'))).toBe((1024 * MiB) / 4096);
  });

  it('needs_recovery with an empty journal (mounted, nothing committed): nothing to replay, mapped as is', async () => {
    const p = mkfs('recover-empty', 300, ['-b', '4096']);
    execFileSync('debugfs', ['-w', '-R', 'feature needs_recovery', p], { stdio: 'pipe' });
    expect(features(dumpe2fs(p, true))).toContain('needs_recovery');
    await expectSameAsE2fsprogs(p);
    expect((await mapFile(p)).details).toMatch(/journal is empty/);
  });

  it('a file system whose UUID changed after mkfs (checksums keyed by s_checksum_seed)', async () => {
    const p = mkfs('reseeded', 300, ['-b', '4096', '-O', 'metadata_csum_seed']);
    execFileSync('tune2fs', ['-U', 'random', p], { stdio: 'pipe' });
    await expectSameAsE2fsprogs(p);
  });
});

describe('mapExt4: what the superblock says', () => {
  it('reads the geometry dumpe2fs reports', async () => {
    const p = mkfs('geometry', 600, ['-b', '4096', '-L', 'armbi_root']);
    const h = dumpe2fs(p, true);
    const fh = await open(p, 'r');
    const sbBuf = Buffer.alloc(1024);
    await fh.read(sbBuf, 0, 1024, 1024);
    await fh.close();
    const sb = parseSuperblock(sbBuf, 600 * MiB);
    expect(sb.blockSize).toBe(Number(field(h, 'Block size')));
    expect(sb.blocksCount).toBe(Number(field(h, 'Block count')));
    expect(sb.inodesPerGroup).toBe(Number(field(h, 'Inodes per group')));
    expect(sb.inodeSize).toBe(Number(field(h, 'Inode size')));
    expect(sb.descSize).toBe(Number(field(h, 'Group descriptor size')));
    expect(sb.reservedGdtBlocks).toBe(Number(field(h, 'Reserved GDT blocks')));
    expect(sb.journalInum).toBe(Number(field(h, 'Journal inode')));
    expect(sb.label).toBe('armbi_root');
    expect(sb.uuid.toString('hex')).toBe(field(h, 'Filesystem UUID').replace(/-/g, ''));
    expect(await looksLikeExt(bufferReader(Buffer.concat([Buffer.alloc(1024), sbBuf])))).toBe(true);
  });
});

async function refusal(p: string, size?: number): Promise<string> {
  const err = await mapFile(p, size).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsedMapError);
  expect((err as UsedMapError).code).toBe('unsupported');
  expect((err as UsedMapError).hint).toMatch(/copied in full/);
  return (err as UsedMapError).message;
}

describe('mapExt4: refuses what it cannot trust', () => {
  it('a zeroed superblock', async () => {
    const p = mkfs('zeroed', 100, ['-b', '4096']);
    patch(p, 1024, (b) => b.fill(0), 1024);
    expect(await refusal(p)).toMatch(/bad magic/);
    const fh = await open(p, 'r');
    expect(await looksLikeExt(handleReader(fh, 100 * MiB))).toBe(false);
    await fh.close();
  });

  it('a superblock whose checksum does not match', async () => {
    const p = mkfs('sbsum', 100, ['-b', '4096']);
    patch(p, 1024, (b) => flip(b, 0x30, 0xff), 1024); // s_wtime
    expect(await refusal(p)).toMatch(/superblock checksum/);
  });

  it('a group descriptor whose checksum does not match', async () => {
    const p = mkfs('gdsum', 300, ['-b', '4096']);
    patch(p, 4096 + 64 * 1, (b) => flip(b, 0x0e, 0x01), 64); // free inodes count of group 1
    expect(await refusal(p)).toMatch(/descriptor of block group 1 has a wrong checksum/);
  });

  it('a block bitmap whose checksum does not match (metadata_csum)', async () => {
    const p = mkfs('bbsum', 300, ['-b', '4096']);
    const at = Number(/Block bitmap at (\d+)/.exec(dumpe2fs(p))![1]);
    patch(p, at * 4096, (b) => flip(b, 100, 0x10));
    expect(await refusal(p)).toMatch(/block bitmap of group 0 has a wrong checksum/);
  });

  it('a block bitmap that disagrees with its free count (no checksums)', async () => {
    const p = mkfs('bbcount', 300, ['-b', '4096', '-O', '^metadata_csum,^uninit_bg']);
    const at = Number(/Block bitmap at (\d+)/.exec(dumpe2fs(p))![1]);
    patch(p, at * 4096, (b) => flip(b, 2000, 0x10));
    expect(await refusal(p)).toMatch(/disagrees with its free-block count/);
  });

  it('a bitmap that marks journal blocks free, even with a matching free count', async () => {
    const p = mkfs('journalfree', 300, ['-b', '4096', '-O', '^metadata_csum,^uninit_bg']);
    const text = dumpe2fs(p);
    const stat = execFileSync('debugfs', ['-R', 'blocks <8>', p], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const journalBlock = Number(stat.trim().split(/\s+/)[10]);
    const group = Math.floor(journalBlock / 32768);
    const bitmapAt = Number(new RegExp(`Group ${group}:[\\s\\S]*?Block bitmap at (\\d+)`).exec(text)![1]);
    const bit = journalBlock % 32768;
    patch(p, bitmapAt * 4096, (b) => (b[bit >> 3]! &= ~(1 << (bit & 7))));
    // Keep the descriptor's free count consistent, so only the journal check can notice.
    patch(p, 4096 + 64 * group, (b) => b.writeUInt16LE(b.readUInt16LE(0x0c) + 1, 0x0c), 64);
    patch(p, 1024, (b) => b.writeUInt32LE(b.readUInt32LE(0x0c) + 1, 0x0c), 1024);
    expect(await refusal(p)).toMatch(/1 blocks of the journal as free/);
  });

  it('a file system that needs journal recovery (transactions in the journal)', async () => {
    const p = mkfs('recover', 100, ['-b', '4096']);
    execFileSync('debugfs', ['-w', '-R', 'feature needs_recovery', p], { stdio: 'pipe' });
    const first = Number(
      execFileSync('debugfs', ['-R', 'bmap <8> 0', p], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim(),
    );
    patch(p, first * 4096, (b) => b.writeUInt32BE(1, 0x1c), 1024); // journal s_start: a log to replay
    expect(await refusal(p)).toMatch(/needs journal recovery/);
  });

  it('a file system with recorded errors, and one not cleanly unmounted', async () => {
    const p = mkfs('errors', 100, ['-b', '4096']);
    execFileSync('debugfs', ['-w', '-R', 'ssv state 3', p], { stdio: 'pipe' });
    expect(await refusal(p)).toMatch(/recorded errors/);
    execFileSync('debugfs', ['-w', '-R', 'ssv state 0', p], { stdio: 'pipe' });
    expect(await refusal(p)).toMatch(/not cleanly unmounted/);
  });

  it('a file system larger than its partition', async () => {
    const p = mkfs('truncated', 100, ['-b', '4096']);
    expect(await refusal(p, 90 * MiB)).toMatch(/larger than its partition/);
  });

  it('groups smaller than mke2fs makes (which would only multiply the metadata to read)', async () => {
    const p = mkfs('tinygroups', 100, ['-b', '4096']);
    execFileSync('debugfs', ['-w', '-R', 'ssv blocks_per_group 8', p], { stdio: 'pipe' });
    execFileSync('debugfs', ['-w', '-R', 'ssv clusters_per_group 8', p], { stdio: 'pipe' });
    expect(await refusal(p)).toMatch(/impossible blocks per group \(8\)/);
  });

  it('bigalloc', async () => {
    const p = mkfs('bigalloc', 200, ['-b', '4096', '-O', 'bigalloc', '-C', '65536']);
    expect(await refusal(p)).toMatch(/bigalloc/);
  });
});

/**
 * A reader that stops a runaway walk: more reads than the file system has blocks, or one read
 * larger than 16 MiB, is a plain Error (not a map error), so an unbounded mapper fails the test
 * at once instead of running for minutes.
 */
function boundedReader(inner: ByteReader, blocks: number): ByteReader {
  let reads = 0;
  return {
    size: inner.size,
    read(offset, length) {
      if (++reads > blocks) throw new Error(`runaway: more than ${blocks} reads`);
      if (length > 16 * MiB) throw new Error(`runaway: a read of ${length} bytes`);
      return inner.read(offset, length);
    },
  };
}

function debugfs(p: string, request: string, write = false): string {
  return execFileSync('debugfs', [...(write ? ['-w'] : []), '-R', request, p], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** Several debugfs requests in one writing session (so `set_bg … checksum calc` sees the change). */
function debugfsScript(p: string, lines: string[]): void {
  execFileSync('debugfs', ['-w', '-f', '-', p], {
    input: lines.join('\n') + '\n',
    stdio: ['pipe', 'ignore', 'ignore'],
  });
}

const bmap = (p: string, file: string, logical: number): number =>
  Number(debugfs(p, `bmap ${file} ${logical}`).trim());

describe('mapExt4: every walk is bounded by the file system’s own sizes', () => {
  async function boundedRefusal(p: string): Promise<string> {
    const fh = await open(p, 'r');
    try {
      const size = (await fh.stat()).size;
      const err = await mapExt4(boundedReader(handleReader(fh, size), size / 4096)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UsedMapError);
      return (err as UsedMapError).message;
    } finally {
      await fh.close();
    }
  }

  it('a journal whose triple-indirect block points at itself', async () => {
    const p = mkfs('tind-loop', 100, ['-t', 'ext3', '-b', '4096']);
    const n = bmap(p, '<8>', 5); // a block in use (journal data), so only the walk can object
    const self = Buffer.alloc(4096);
    for (let k = 0; k < 1024; k++) self.writeUInt32LE(n, k * 4);
    patch(p, n * 4096, (b) => self.copy(b));
    debugfs(p, `sif <8> block[TIND] ${n}`, true);
    expect(await boundedRefusal(p)).toMatch(
      /inode 8 (visits block \d+ a second time|maps more blocks than its block count \(\d+\) says)/,
    );
  });

  it('a journal extent tree five levels deep whose every node points 340 times at the next', async () => {
    const p = mkfs('extent-fan', 100, ['-b', '4096']);
    const nodes = [10, 11, 12, 13, 14].map((l) => bmap(p, '<8>', l));
    nodes.forEach((at, level) => {
      const depth = 4 - level;
      patch(p, at * 4096, (b) => {
        b.fill(0);
        b.writeUInt16LE(0xf30a, 0);
        b.writeUInt16LE(depth ? 340 : 1, 2);
        b.writeUInt16LE(340, 4);
        b.writeUInt16LE(depth, 6);
        for (let k = 0; k < (depth ? 340 : 1); k++) {
          const e = 12 + k * 12;
          if (depth) b.writeUInt32LE(nodes[level + 1]!, e + 4);
          else {
            b.writeUInt16LE(1, e + 4);
            b.writeUInt32LE(nodes[0]!, e + 8);
          }
        }
      });
    });
    // The inode's root: depth 5, one index entry to the first node.
    const words = [0x0001f30a, 0x00050004, 0, 0, nodes[0]!, 0];
    for (let k = 0; k < 15; k++) debugfs(p, `sif <8> block[${k}] ${words[k] ?? 0}`, true);
    expect(await boundedRefusal(p)).toMatch(/inode 8 visits block \d+ a second time/);
  });

  it('a file (not the journal) whose double-indirect block points at itself, on ext2', async () => {
    const p = mkfs('dind-loop', 100, ['-t', 'ext2', '-b', '4096']);
    const file = '/var/cache/old/blob-0.bin';
    const n = bmap(p, file, 0); // the file's own first data block
    const self = Buffer.alloc(4096);
    for (let k = 0; k < 1024; k++) self.writeUInt32LE(n, k * 4);
    patch(p, n * 4096, (b) => self.copy(b));
    debugfs(p, `sif ${file} block[DIND] ${n}`, true);
    expect(await boundedRefusal(p)).toMatch(
      /inode \d+ (visits block \d+ a second time|maps more blocks than its block count \(\d+\) says)/,
    );
  });

  it('a journal extent tree deeper than ext4 allows, or whose levels do not step down by one', async () => {
    const p = mkfs('extent-deep', 100, ['-b', '4096']);
    const at = bmap(p, '<8>', 10);
    patch(p, at * 4096, (b) => {
      b.fill(0);
      b.writeUInt16LE(0xf30a, 0);
      b.writeUInt16LE(1, 2);
      b.writeUInt16LE(340, 4);
      b.writeUInt16LE(3, 6); // below a root of depth 1: must be 0
      b.writeUInt32LE(at, 12 + 4);
    });
    const words = [0x0001f30a, 0x00010004, 0, 0, at, 0];
    for (let k = 0; k < 15; k++) debugfs(p, `sif <8> block[${k}] ${words[k] ?? 0}`, true);
    expect(await boundedRefusal(p)).toMatch(/damaged extent tree \(depth 3 below a node of depth 1\)/);
    debugfs(p, `sif <8> block[1] ${0x00060004}`, true);
    expect(await boundedRefusal(p)).toMatch(/damaged extent tree \(depth 6\)/);
  });
});

describe('mapExt4: the bitmaps are checked against the files', () => {
  it('blocks of a file marked free (bitmap and checksums rewritten by debugfs freeb) are noticed', async () => {
    const p = mkfs('freeb', 100, ['-b', '4096']);
    const file = '/var/cache/old/blob-1.bin';
    const first = bmap(p, file, 3);
    debugfs(p, `freeb ${first} 4`, true);
    // The group's free count no longer matches its bitmap: the cheap check sees that.
    expect(await refusal(p)).toMatch(/disagrees with its free-block count/);
    // Counts made to agree (checksums recomputed): only the files can tell.
    const group = Math.floor(first / 32768);
    const text = dumpe2fs(p);
    const groupFree = Number(
      new RegExp(`^Group ${group}:[\\s\\S]*?^\\s+(\\d+) free blocks`, 'm').exec(text)![1],
    );
    const sbFree = Number(field(text, 'Free blocks'));
    debugfsScript(p, [
      `set_bg ${group} free_blocks_count ${groupFree + 4}`,
      `set_bg ${group} checksum calc`,
      `ssv free_blocks_count ${sbFree + 4}`,
    ]);
    // e2fsprogs sees it as a fixable error only; every checksum is valid.
    const fsck = (() => {
      try {
        execFileSync('e2fsck', ['-fn', p], { stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stdout: Buffer }).stdout);
      }
    })();
    expect(fsck).toMatch(/Block bitmap differences/);
    expect(fsck).not.toMatch(/checksum/i);
    const ino = debugfs(p, `stat ${file}`).match(/^Inode: (\d+)/)![1];
    expect(await refusal(p)).toMatch(new RegExp(`mark 4 blocks of inode ${ino} as free`));
  });

  it('a block group whose free count disagrees with its bitmap, checksums recomputed', async () => {
    const p = mkfs('bgfree', 300, ['-b', '4096']);
    debugfsScript(p, ['set_bg 1 free_blocks_count 7', 'set_bg 1 checksum calc']);
    expect(await refusal(p)).toMatch(/block bitmap of group 1 disagrees with its free-block count/);
  });

  it('a superblock whose free count disagrees with the groups', async () => {
    const p = mkfs('sbfree', 300, ['-b', '4096']);
    debugfs(p, 'ssv free_blocks_count 1000', true);
    expect(await refusal(p)).toMatch(/the block groups count \d+ free blocks, the superblock 1000/);
  });

  it('a file whose i_blocks says more than its tree maps', async () => {
    const p = mkfs('iblocks', 100, ['-b', '4096']);
    const file = '/var/cache/old/blob-2.bin';
    const blocks = Number(/Blockcount: (\d+)/.exec(debugfs(p, `stat ${file}`))![1]);
    debugfs(p, `sif ${file} blocks ${blocks + 8}`, true);
    expect(await refusal(p)).toMatch(/maps \d+ blocks but its block count says \d+/);
  });
});
