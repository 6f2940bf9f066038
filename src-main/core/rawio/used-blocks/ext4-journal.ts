/**
 * Reads which blocks an inode occupies (through the bounded walk of ext4-inode.ts), to check that
 * the journal (inode 8) lies on blocks the bitmaps call used, and whether a journal flagged
 * needs_recovery actually holds transactions.
 */
import type { ByteReader } from './byte-reader.js';
import { fail, refuse, type Ext4Super, type Ext4Layout, type GroupDesc } from './ext4-layout.js';
import { BlockTreeWalker, inodeFields, type InodeFields } from './ext4-inode.js';

export interface InodeBlocks {
  /** [logical, physical, count] runs of file data. */
  data: Array<[number, number, number]>;
  /** Extent-tree or indirect blocks that map the data. */
  tree: number[];
  fields: InodeFields;
}

/** The raw on-disk inode `ino`. */
export async function readInode(
  reader: ByteReader,
  layout: Ext4Layout,
  descs: GroupDesc[],
  ino: number,
): Promise<Buffer> {
  const { sb } = layout;
  const g = Math.floor((ino - 1) / sb.inodesPerGroup);
  const index = (ino - 1) % sb.inodesPerGroup;
  const desc = ino >= 1 ? descs[g] : undefined;
  if (!desc) fail(`inode ${ino} is outside the file system`);
  return reader.read(desc.inodeTable * sb.blockSize + index * sb.inodeSize, sb.inodeSize);
}

/**
 * Every block of the journal inode: its data and the extent-tree or indirect blocks that map it.
 * The journal is a file without holes whose size the inode states: it may map no block past that
 * size, and the size may not exceed the file system.
 */
export async function journalBlocks(
  reader: ByteReader,
  layout: Ext4Layout,
  descs: GroupDesc[],
  ino: number,
  walker: BlockTreeWalker,
): Promise<InodeBlocks> {
  const { sb } = layout;
  const fields = inodeFields(sb, await readInode(reader, layout, descs, ino));
  if (fields.size === 0 || fields.size > sb.blocksCount * sb.blockSize) {
    fail(`the journal (inode ${ino}) has an impossible size of ${fields.size} bytes`);
  }
  const sizeBlocks = Math.ceil(fields.size / sb.blockSize);
  const out: InodeBlocks = { data: [], tree: [], fields };
  await walker.walk(ino, fields, {
    data(logical, block, count) {
      if (logical + count > sizeBlocks) fail(`the journal (inode ${ino}) maps blocks past its size`);
      out.data.push([logical, block, count]);
    },
    tree(block) {
      out.tree.push(block);
    },
  });
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
    refuse(
      'the file system needs journal recovery (it was not cleanly unmounted)',
      'this partition is copied in full; to copy only used blocks, shut the Pi down cleanly or run e2fsck on the card first',
    );
  }
}
