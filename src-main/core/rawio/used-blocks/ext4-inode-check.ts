/**
 * The cross-check of the block bitmaps against the files: every inode in use (by its inode
 * bitmap) must have all its blocks (data, extent-tree or indirect blocks, xattr block) marked used,
 * and as many of them as its i_blocks count says. A bitmap that lost the bits of a file's blocks
 * (its checksum recomputed, so nothing else notices) would otherwise drop the file's data from
 * the copy silently.
 *
 * Cost: the inode bitmaps (one block per group), the part of each inode table that holds inodes in
 * use (up to the last one set in the bitmap; about 256 bytes per file, so 25 MB for 100 000
 * files), and the extent-tree or indirect blocks of the files (for extent files a few per
 * fragmented file; for ext2/3 files about one per 4 MiB of data). Data blocks are never read.
 * All walks share one bounded BlockTreeWalker (ext4-inode.ts).
 */
import type { ByteReader } from './byte-reader.js';
import type { UnitBitmap } from './byte-ranges.js';
import { crc32cRaw } from './crc.js';
import { batchedBitmaps } from './ext4-read.js';
import { BG_INODE_UNINIT, fail, RO, type Ext4Layout, type GroupDesc } from './ext4-layout.js';
import {
  BlockTreeWalker,
  INLINE_DATA_FL,
  inodeFields,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from './ext4-inode.js';

const RESIZE_INO = 7;
const SLICE = 1024 * 1024;

export interface InodeCheck {
  inodes: number;
  treeBlocks: number;
}

/** The highest inode index (0-based) set in a group's inode bitmap, or -1. */
function lastSet(bitmap: Buffer, bits: number): number {
  for (let byte = Math.ceil(bits / 8) - 1; byte >= 0; byte--) {
    const v = bitmap[byte]!;
    if (!v) continue;
    for (let bit = 7; bit >= 0; bit--) {
      const i = byte * 8 + bit;
      if (i < bits && v & (1 << bit)) return i;
    }
  }
  return -1;
}

export async function checkInodesMapped(
  reader: ByteReader,
  layout: Ext4Layout,
  descs: GroupDesc[],
  used: UnitBitmap,
  walker: BlockTreeWalker,
  skip: ReadonlySet<number>,
): Promise<InodeCheck> {
  const { sb } = layout;
  const csum = (sb.roCompat & RO.metadata_csum) !== 0;
  const ipg = sb.inodesPerGroup;
  let inodes = 0;
  let treeBlocks = 0;
  const groups = descs
    .map((d, g) => ({ d, g }))
    .filter(({ d }) => !(layout.hasGroupDescCsum && d.flags & BG_INODE_UNINIT));
  for await (const [{ d, g }, bitmap] of batchedBitmaps(
    reader,
    sb.blockSize,
    groups,
    (x) => x.d.inodeBitmap,
  )) {
    if (csum) {
      const sum = crc32cRaw(sb.csumSeed, bitmap.subarray(0, ipg / 8));
      const expected = sb.descSize >= 0x3c ? sum : sum & 0xffff;
      if (expected !== d.inodeBitmapCsum) fail(`the inode bitmap of group ${g} has a wrong checksum`);
    }
    const last = lastSet(bitmap, ipg);
    if (last < 0) continue;
    if (layout.hasGroupDescCsum && last >= ipg - d.itableUnused) {
      fail(`the inode bitmap of group ${g} marks inodes in use that its descriptor calls never used`);
    }
    const perSlice = Math.max(1, Math.floor(SLICE / sb.inodeSize));
    for (let first = 0; first <= last; first += perSlice) {
      const n = Math.min(perSlice, last + 1 - first);
      const table = await reader.read(d.inodeTable * sb.blockSize + first * sb.inodeSize, n * sb.inodeSize);
      for (let k = 0; k < n; k++) {
        const i = first + k;
        if (!(bitmap[i >> 3]! & (1 << (i & 7)))) continue;
        const ino = g * ipg + i + 1;
        if (ino === RESIZE_INO || skip.has(ino)) continue;
        inodes++;
        const inode = table.subarray(k * sb.inodeSize, (k + 1) * sb.inodeSize);
        treeBlocks += await checkInode(ino, inode);
      }
    }
  }
  return { inodes, treeBlocks };

  async function checkInode(ino: number, inode: Buffer): Promise<number> {
    const f = inodeFields(sb, inode);
    if (f.blocks === undefined) fail(`inode ${ino} has an impossible block count`);
    // Reserved inodes nothing uses (3-6, 9, 10) are marked in use from mkfs on, and older
    // mke2fs with lazy inode tables left whatever was on the card in them: mode 0 means unused.
    // The bad-blocks inode (1) has mode 0 too, and counts when it holds blocks.
    if (ino < sb.firstIno && f.mode === 0 && !(ino === 1 && f.blocks > 0)) return 0;
    const type = f.mode & S_IFMT;
    let mapped = 0;
    let missing = 0;
    let tree = 0;
    const mark = (block: number, count: number): void => {
      for (let b = block; b < block + count; b++) if (!used.has(b)) missing++;
    };
    if (f.fileAcl) {
      if (f.fileAcl < sb.firstDataBlock || f.fileAcl >= sb.blocksCount) {
        fail(`the extended attributes of inode ${ino} are outside the file system (block ${f.fileAcl})`);
      }
      mark(f.fileAcl, 1);
      mapped++;
    }
    // Block trees live in i_block for files, directories and symlinks too long for i_block
    // itself; reserved inodes (bad blocks, boot loader…) are walked as they are.
    const fastSymlink = type === S_IFLNK && f.blocks - mapped === 0 && !(f.flags & INLINE_DATA_FL);
    const hasTree =
      !(f.flags & INLINE_DATA_FL) &&
      !fastSymlink &&
      (ino < sb.firstIno || type === S_IFREG || type === S_IFDIR || type === S_IFLNK);
    if (hasTree) {
      mapped += await walker.walk(ino, f, {
        data: (_logical, block, count) => mark(block, count),
        tree(block) {
          mark(block, 1);
          tree++;
        },
      });
    }
    if (missing) fail(`the block bitmaps mark ${missing} blocks of inode ${ino} as free`);
    if (mapped !== f.blocks) {
      fail(`inode ${ino} maps ${mapped} blocks but its block count says ${f.blocks}`);
    }
    return tree;
  }
}
