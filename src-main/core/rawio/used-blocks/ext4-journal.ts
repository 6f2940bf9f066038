/**
 * Reads which blocks an inode occupies (extent tree or classic indirect blocks), to check that the
 * journal (inode 8) lies on blocks the bitmaps call used, and whether a journal flagged
 * needs_recovery actually holds transactions.
 */
import type { ByteReader } from './byte-reader.js';
import { fail, type Ext4Super, type Ext4Layout, type GroupDesc } from './ext4-layout.js';

const EXTENTS_FL = 0x80000;
const EXTENT_MAGIC = 0xf30a;

export interface InodeBlocks {
  /** [logical, physical, count] runs of file data. */
  data: Array<[number, number, number]>;
  /** Extent-tree or indirect blocks that map the data. */
  tree: number[];
}

/** Every block of inode `ino`: its data and the extent-tree or indirect blocks that map it. */
export async function inodeBlocks(
  reader: ByteReader,
  layout: Ext4Layout,
  descs: GroupDesc[],
  ino: number,
): Promise<InodeBlocks> {
  const { sb } = layout;
  const g = Math.floor((ino - 1) / sb.inodesPerGroup);
  const index = (ino - 1) % sb.inodesPerGroup;
  const desc = descs[g];
  if (!desc) fail(`inode ${ino} is outside the file system`);
  const inode = await reader.read(desc.inodeTable * sb.blockSize + index * sb.inodeSize, sb.inodeSize);
  const out: InodeBlocks = { data: [], tree: [] };
  const check = (block: number, count: number): void => {
    if (block < sb.firstDataBlock || block + count > sb.blocksCount) {
      fail(`inode ${ino} points outside the file system (block ${block})`);
    }
  };
  const data = (logical: number, block: number, count: number): void => {
    check(block, count);
    out.data.push([logical, block, count]);
  };
  const tree = (block: number): void => {
    check(block, 1);
    out.tree.push(block);
  };
  const iblock = inode.subarray(0x28, 0x28 + 60);
  if (inode.readUInt32LE(0x20) & EXTENTS_FL) {
    const walk = async (node: Buffer, level: number): Promise<void> => {
      if (node.readUInt16LE(0) !== EXTENT_MAGIC || level > 5) fail(`inode ${ino} has a damaged extent tree`);
      const entries = node.readUInt16LE(2);
      const depth = node.readUInt16LE(6);
      if (12 + entries * 12 > node.length) fail(`inode ${ino} has a damaged extent tree`);
      for (let k = 0; k < entries; k++) {
        const e = node.subarray(12 + k * 12, 24 + k * 12);
        if (depth === 0) {
          const raw = e.readUInt16LE(4);
          const len = raw > 32768 ? raw - 32768 : raw;
          data(e.readUInt32LE(0), e.readUInt16LE(6) * 2 ** 32 + e.readUInt32LE(8), len);
        } else {
          const child = e.readUInt32LE(4) + e.readUInt16LE(8) * 2 ** 32;
          tree(child);
          await walk(await reader.read(child * sb.blockSize, sb.blockSize), level + 1);
        }
      }
    };
    await walk(iblock, 0);
  } else {
    const perBlock = sb.blockSize / 4;
    // Logical blocks covered by one pointer at each level of indirection.
    const span = (level: number): number => perBlock ** level;
    const walk = async (block: number, level: number, logical: number): Promise<void> => {
      if (block === 0) return;
      if (level === 0) return data(logical, block, 1);
      tree(block);
      const ptrs = await reader.read(block * sb.blockSize, sb.blockSize);
      for (let k = 0; k < perBlock; k++)
        await walk(ptrs.readUInt32LE(k * 4), level - 1, logical + k * span(level - 1));
    };
    for (let k = 0; k < 12; k++) await walk(iblock.readUInt32LE(k * 4), 0, k);
    await walk(iblock.readUInt32LE(12 * 4), 1, 12);
    await walk(iblock.readUInt32LE(13 * 4), 2, 12 + span(1));
    await walk(iblock.readUInt32LE(14 * 4), 3, 12 + span(1) + span(2));
  }
  return out;
}

const JBD2_MAGIC = 0xc03b3998;

/**
 * A file system flagged needs_recovery whose journal is empty (s_start 0: mounted, nothing
 * committed since) has nothing to replay: its maps on disk are the truth, as e2fsck and the kernel
 * see it. A journal holding transactions means the maps may be stale: refuse.
 */
export async function checkJournalEmpty(
  reader: ByteReader,
  sb: Ext4Super,
  journal: InodeBlocks,
): Promise<void> {
  const first = journal.data.find(([logical]) => logical === 0);
  if (!first) fail('the journal has no first block');
  const jsb = await reader.read(first[1] * sb.blockSize, 1024);
  const type = jsb.readUInt32BE(4);
  if (jsb.readUInt32BE(0) !== JBD2_MAGIC || (type !== 3 && type !== 4))
    fail('the journal superblock is damaged');
  if (jsb.readUInt32BE(0x1c) !== 0) {
    fail(
      'the file system needs journal recovery (it was not cleanly unmounted)',
      'this partition is copied in full; to copy only used blocks, shut the Pi down cleanly or run e2fsck on the card first',
    );
  }
}
