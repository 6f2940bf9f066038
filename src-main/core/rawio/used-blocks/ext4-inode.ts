/**
 * Which blocks an inode occupies: its extent tree or its classic (direct, indirect, double- and
 * triple-indirect) block pointers, plus its extended-attribute block. The trees come from the
 * card and are untrusted, so every walk is bounded by the file system's own sizes:
 *   - every tree block (extent index/leaf, indirect block) is visited at most once across all
 *     inodes of one walker: a tree that points back at itself, or into another inode's tree, is
 *     refused at the second visit;
 *   - an extent tree is at most 5 levels deep and every level is exactly one less deep than its
 *     parent; a node holds no more entries than fit in it;
 *   - an inode may not map more blocks than its own i_blocks count, and all inodes together no
 *     more than the file system has (so the work is linear in the file system's size);
 *   - every block lies inside the file system, every logical block number below 2^32.
 * Anything else raises UsedMapError (the caller then copies the partition in full).
 */
import type { ByteReader } from './byte-reader.js';
import { UnitBitmap } from './byte-ranges.js';
import { fail, RO, type Ext4Super } from './ext4-layout.js';

export const EXTENTS_FL = 0x80000;
const HUGE_FILE_FL = 0x40000;
export const INLINE_DATA_FL = 0x10000000;
const EXTENT_MAGIC = 0xf30a;
const MAX_EXTENT_DEPTH = 5;
const LOGICAL_LIMIT = 2 ** 32;

export const S_IFMT = 0xf000;
export const S_IFREG = 0x8000;
export const S_IFDIR = 0x4000;
export const S_IFLNK = 0xa000;

/** The fields of an on-disk inode the walk needs. */
export interface InodeFields {
  mode: number;
  flags: number;
  size: number;
  /** i_blocks in file system blocks (undefined: not a whole number of blocks). */
  blocks: number | undefined;
  fileAcl: number;
  /** The 60 bytes of i_block: extent root or block pointers. */
  iblock: Buffer;
}

export function inodeFields(sb: Ext4Super, inode: Buffer): InodeFields {
  const flags = inode.readUInt32LE(0x20);
  const huge = (sb.roCompat & RO.huge_file) !== 0;
  const raw = inode.readUInt32LE(0x1c) + (huge ? inode.readUInt16LE(0x74) * 2 ** 32 : 0);
  const perBlock = huge && flags & HUGE_FILE_FL ? 1 : sb.blockSize / 512;
  return {
    mode: inode.readUInt16LE(0x0),
    flags,
    size: inode.readUInt32LE(0x4) + inode.readUInt32LE(0x6c) * 2 ** 32,
    blocks: raw % perBlock === 0 ? raw / perBlock : undefined,
    fileAcl: inode.readUInt32LE(0x68) + inode.readUInt16LE(0x76) * 2 ** 32,
    iblock: inode.subarray(0x28, 0x28 + 60),
  };
}

export interface BlockSink {
  /** A run of file data: logical block, first physical block, count. */
  data(logical: number, block: number, count: number): void;
  /** One block of the tree that maps the data. */
  tree(block: number): void;
}

/** Walks block trees of one file system, with one budget and one visited map for all of them. */
export class BlockTreeWalker {
  private readonly seen: UnitBitmap;
  /** Blocks (data and tree) that may still be counted, over all inodes. */
  private budget: number;
  /** Tree blocks read so far. */
  reads = 0;

  constructor(
    private readonly reader: ByteReader,
    private readonly sb: Ext4Super,
  ) {
    this.seen = new UnitBitmap(sb.blocksCount);
    // Without shared_blocks no block belongs to two files, so all files together fit in the
    // file system; with it, deduplicated data may be counted more than once.
    this.budget = sb.roCompat & RO.shared_blocks ? 4 * sb.blocksCount : sb.blocksCount;
  }

  /**
   * Walks the data of inode `ino` (extents or block pointers; not the xattr block) into `sink`
   * and returns how many blocks it mapped (data plus tree blocks).
   */
  async walk(ino: number, f: InodeFields, sink: BlockSink): Promise<number> {
    const { sb } = this;
    // An inode may not map more than its i_blocks says (checked exactly by the caller), and
    // never more than the file system holds.
    const limit = Math.min(f.blocks ?? sb.blocksCount, sb.blocksCount);
    let counted = 0;
    const count = (n: number): void => {
      counted += n;
      this.budget -= n;
      if (counted > limit) {
        fail(`inode ${ino} maps more blocks than its block count (${f.blocks ?? 'invalid'}) says`);
      }
      if (this.budget < 0) fail('the inodes map more blocks than the file system has');
    };
    const inFs = (block: number, n: number): void => {
      if (block < sb.firstDataBlock || n < 1 || block + n > sb.blocksCount) {
        fail(`inode ${ino} points outside the file system (block ${block})`);
      }
    };
    const data = (logical: number, block: number, n: number): void => {
      if (logical + n > LOGICAL_LIMIT) fail(`inode ${ino} maps a block past the largest file offset`);
      inFs(block, n);
      count(n);
      sink.data(logical, block, n);
    };
    const tree = async (block: number): Promise<Buffer> => {
      inFs(block, 1);
      if (this.seen.has(block)) {
        fail(
          `the block tree of inode ${ino} visits block ${block} a second time (a loop or a shared tree block)`,
        );
      }
      this.seen.set(block);
      count(1);
      sink.tree(block);
      this.reads++;
      return this.reader.read(block * sb.blockSize, sb.blockSize);
    };

    if (f.flags & EXTENTS_FL) await this.walkExtents(ino, f.iblock, data, tree);
    else await this.walkIndirect(f.iblock, data, tree);
    return counted;
  }

  private async walkExtents(
    ino: number,
    root: Buffer,
    data: (logical: number, block: number, n: number) => void,
    tree: (block: number) => Promise<Buffer>,
  ): Promise<void> {
    const damaged = (why: string): never => fail(`inode ${ino} has a damaged extent tree (${why})`);
    const node = async (buf: Buffer, expectDepth: number | undefined): Promise<void> => {
      if (buf.readUInt16LE(0) !== EXTENT_MAGIC) damaged('bad magic');
      const entries = buf.readUInt16LE(2);
      const max = buf.readUInt16LE(4);
      const depth = buf.readUInt16LE(6);
      if (max > (buf.length - 12) / 12 || entries > max) damaged(`${entries} entries in a node of ${max}`);
      if (depth > MAX_EXTENT_DEPTH) damaged(`depth ${depth}`);
      if (expectDepth !== undefined && depth !== expectDepth)
        damaged(`depth ${depth} below a node of depth ${expectDepth + 1}`);
      for (let k = 0; k < entries; k++) {
        const e = buf.subarray(12 + k * 12, 24 + k * 12);
        if (depth === 0) {
          const raw = e.readUInt16LE(4);
          const len = raw > 32768 ? raw - 32768 : raw;
          if (len === 0) damaged('an empty extent');
          data(e.readUInt32LE(0), e.readUInt16LE(6) * 2 ** 32 + e.readUInt32LE(8), len);
        } else {
          const child = e.readUInt32LE(4) + e.readUInt16LE(8) * 2 ** 32;
          await node(await tree(child), depth - 1);
        }
      }
    };
    await node(root, undefined);
  }

  private async walkIndirect(
    iblock: Buffer,
    data: (logical: number, block: number, n: number) => void,
    tree: (block: number) => Promise<Buffer>,
  ): Promise<void> {
    const perBlock = this.sb.blockSize / 4;
    // Logical blocks covered by one pointer at each level of indirection.
    const span = (level: number): number => perBlock ** level;
    const walk = async (block: number, level: number, logical: number): Promise<void> => {
      if (block === 0) return;
      if (level === 0) return data(logical, block, 1);
      const ptrs = await tree(block);
      for (let k = 0; k < perBlock; k++)
        await walk(ptrs.readUInt32LE(k * 4), level - 1, logical + k * span(level - 1));
    };
    for (let k = 0; k < 12; k++) await walk(iblock.readUInt32LE(k * 4), 0, k);
    await walk(iblock.readUInt32LE(12 * 4), 1, 12);
    await walk(iblock.readUInt32LE(13 * 4), 2, 12 + span(1));
    await walk(iblock.readUInt32LE(14 * 4), 3, 12 + span(1) + span(2));
  }
}
