/**
 * The used blocks of an ext2/3/4 file system, from its own allocation maps: superblock, group
 * descriptors (32- or 64-byte, classic or meta_bg layout) and one block bitmap per group
 * (wherever flex_bg put it). Every group's metadata (superblock and descriptor backups, reserved
 * GDT blocks, bitmaps, inode table) is counted as used whatever its bitmap says; a group whose
 * bitmap was never initialised (BLOCK_UNINIT) contributes its metadata only, as the kernel
 * computes it. The journal (inode 8) must lie on used blocks: it is walked and checked.
 *
 * Checked on the way, so a wrong map is never trusted: magic and geometry, superblock,
 * descriptor and bitmap checksums (metadata_csum or gdt_csum), every group's free-block count
 * against its bitmap and the superblock's total against the groups', a clean unmount (a
 * needs_recovery flag is accepted only over an empty journal), and every inode in use against
 * the bitmaps (ext4-inode-check.ts: its blocks must be marked used, as many as its i_blocks
 * says). Walks of block trees are bounded by the file system's own sizes (ext4-inode.ts).
 * Anything unexpected raises UsedMapError (the partition is then copied in full).
 */
import type { ByteReader } from './byte-reader.js';
import { UnitBitmap, type ByteRange } from './byte-ranges.js';
import { crc16Raw, crc32cRaw } from './crc.js';
import {
  BG_BLOCK_UNINIT,
  Ext4Layout,
  fail,
  featureNames,
  refuse,
  INCOMPAT,
  MAGIC,
  parseSuperblock,
  RO,
  SB_OFFSET,
  type Ext4Super,
  type GroupDesc,
} from './ext4-layout.js';
import { checkJournalEmpty, journalBlocks } from './ext4-journal.js';
import { BlockTreeWalker } from './ext4-inode.js';
import { checkInodesMapped } from './ext4-inode-check.js';
import { batchedBitmaps, readBlocks } from './ext4-read.js';
import type { FsUsedMap } from './fs-map.js';

function descriptorChecksum(sb: Ext4Super, g: number, desc: Buffer): number {
  const group = Buffer.alloc(4);
  group.writeUInt32LE(g);
  if (sb.roCompat & RO.metadata_csum) {
    const copy = Buffer.from(desc);
    copy.writeUInt16LE(0, 0x1e);
    return crc32cRaw(crc32cRaw(sb.csumSeed, group), copy) & 0xffff;
  }
  let crc = crc16Raw(0xffff, sb.uuid);
  crc = crc16Raw(crc, group);
  crc = crc16Raw(crc, desc.subarray(0, 0x1e));
  if (desc.length > 0x20) crc = crc16Raw(crc, desc.subarray(0x20));
  return crc;
}

async function readDescriptors(reader: ByteReader, layout: Ext4Layout): Promise<GroupDesc[]> {
  const { sb } = layout;
  const locations: number[] = [];
  for (let i = 0; i < sb.descBlocks; i++) {
    const at = layout.descriptorBlock(i);
    if (at >= sb.blocksCount) fail(`group descriptor block ${i} would be outside the file system`);
    locations.push(at);
  }
  const blocks = await readBlocks(reader, sb.blockSize, locations);
  const is64 = (sb.incompat & INCOMPAT['64bit']) !== 0 && sb.descSize >= 64;
  const descs: GroupDesc[] = [];
  for (let g = 0; g < sb.groups; g++) {
    const block = blocks.get(locations[Math.floor(g / sb.descPerBlock)]!)!;
    const off = (g % sb.descPerBlock) * sb.descSize;
    const d = block.subarray(off, off + sb.descSize);
    const hi = (o: number): number => (is64 ? d.readUInt32LE(o) * 2 ** 32 : 0);
    if (layout.hasGroupDescCsum && descriptorChecksum(sb, g, d) !== d.readUInt16LE(0x1e)) {
      fail(`the descriptor of block group ${g} has a wrong checksum`);
    }
    const desc: GroupDesc = {
      blockBitmap: d.readUInt32LE(0x0) + hi(0x20),
      inodeBitmap: d.readUInt32LE(0x4) + hi(0x24),
      inodeTable: d.readUInt32LE(0x8) + hi(0x28),
      freeBlocks: d.readUInt16LE(0xc) + (is64 ? d.readUInt16LE(0x2c) * 65536 : 0),
      flags: d.readUInt16LE(0x12),
      blockBitmapCsum: d.readUInt16LE(0x18) + (sb.descSize >= 0x3a ? d.readUInt16LE(0x38) * 65536 : 0),
      inodeBitmapCsum: d.readUInt16LE(0x1a) + (sb.descSize >= 0x3c ? d.readUInt16LE(0x3a) * 65536 : 0),
      itableUnused: layout.hasGroupDescCsum
        ? d.readUInt16LE(0x1c) + (is64 ? d.readUInt16LE(0x32) * 65536 : 0)
        : 0,
    };
    const itableEnd = desc.inodeTable + layout.inodeTableBlocks;
    for (const [what, at, end] of [
      ['block bitmap', desc.blockBitmap, desc.blockBitmap + 1],
      ['inode bitmap', desc.inodeBitmap, desc.inodeBitmap + 1],
      ['inode table', desc.inodeTable, itableEnd],
    ] as const) {
      if (at < sb.firstDataBlock || end > sb.blocksCount) {
        fail(`the ${what} of block group ${g} is outside the file system (block ${at})`);
      }
    }
    descs.push(desc);
  }
  return descs;
}

function countFree(bitmap: Buffer, blocks: number): number {
  let free = 0;
  for (let i = 0; i < blocks; i++) if (!(bitmap[i >> 3]! & (1 << (i & 7)))) free++;
  return free;
}

/** ORs every initialised group's block bitmap into `used`, checking each one. */
async function addBitmaps(
  reader: ByteReader,
  layout: Ext4Layout,
  descs: GroupDesc[],
  used: UnitBitmap,
): Promise<number> {
  const { sb } = layout;
  const groups = descs
    .map((d, g) => ({ d, g }))
    .filter(({ d }) => !(layout.hasGroupDescCsum && d.flags & BG_BLOCK_UNINIT));
  const csum = (sb.roCompat & RO.metadata_csum) !== 0;
  for await (const [{ d, g }, bitmap] of batchedBitmaps(
    reader,
    sb.blockSize,
    groups,
    (x) => x.d.blockBitmap,
  )) {
    const blocks = layout.blocksInGroup(g);
    if (csum) {
      const sum = crc32cRaw(sb.csumSeed, bitmap.subarray(0, sb.blocksPerGroup / 8));
      const expected = sb.descSize >= 0x3a ? sum : sum & 0xffff;
      if (expected !== d.blockBitmapCsum) fail(`the block bitmap of group ${g} has a wrong checksum`);
    }
    // A valid checksum only says the bitmap is the one that was written: its count of free
    // blocks must still agree with the descriptor's.
    if (countFree(bitmap, blocks) !== d.freeBlocks) {
      fail(`the block bitmap of group ${g} disagrees with its free-block count`);
    }
    const first = layout.groupFirstBlock(g);
    for (let i = 0; i < blocks; i++) {
      const byte = bitmap[i >> 3]!;
      if (byte === 0 && (i & 7) === 0) {
        i += 7;
        continue;
      }
      if (byte & (1 << (i & 7))) used.set(first + i);
    }
  }
  return descs.length - groups.length;
}

/** Reads the maps of an ext2/3/4 file system at the start of `reader` (a partition). */
export async function mapExt4(reader: ByteReader): Promise<FsUsedMap> {
  if (reader.size < SB_OFFSET + 1024) fail('the partition is too small for an ext file system');
  const sb = parseSuperblock(await reader.read(SB_OFFSET, 1024), reader.size);
  const layout = new Ext4Layout(sb);
  const descs = await readDescriptors(reader, layout);
  const used = new UnitBitmap(sb.blocksCount);

  // Block 0 holds the boot sector (and, with 4 KiB blocks, the superblock).
  used.set(0);
  for (let g = 0; g < sb.groups; g++) {
    for (const [first, count] of layout.superAndDescriptors(g)) used.setRange(first, count);
    const d = descs[g]!;
    used.set(d.blockBitmap);
    used.set(d.inodeBitmap);
    used.setRange(d.inodeTable, layout.inodeTableBlocks);
  }
  const uninit = await addBitmaps(reader, layout, descs, used);

  const groupFree = descs.reduce((n, d) => n + d.freeBlocks, 0);
  if (groupFree !== sb.freeBlocksCount) {
    fail(`the block groups count ${groupFree} free blocks, the superblock ${sb.freeBlocksCount}`);
  }

  const walker = new BlockTreeWalker(reader, sb);
  let journalNote = '';
  if (sb.journalInum) {
    const journal = await journalBlocks(reader, layout, descs, sb.journalInum, walker);
    let missing = journal.tree.filter((b) => !used.has(b)).length;
    for (const [, first, count] of journal.data) {
      for (let b = first; b < first + count; b++) if (!used.has(b)) missing++;
    }
    if (missing) fail(`the block bitmaps mark ${missing} blocks of the journal as free`);
    if (sb.needsRecovery) {
      await checkJournalEmpty(reader, sb, journal);
      journalNote = '; needs_recovery set but the journal is empty';
    }
  } else if (sb.needsRecovery) {
    refuse('the file system needs recovery from an external journal');
  }

  const checked = await checkInodesMapped(reader, layout, descs, used, walker, new Set([sb.journalInum]));

  const ranges: ByteRange[] = used.toByteRanges(sb.blockSize);
  const usedBytes = ranges.reduce((n, r) => n + r.end - r.start, 0);
  const features = featureNames(sb);
  const fs = features.some((f) => ['extent', '64bit', 'flex_bg', 'metadata_csum', 'gdt_csum'].includes(f))
    ? 'ext4'
    : sb.journalInum
      ? 'ext3'
      : 'ext2';
  return {
    fs,
    label: sb.label,
    fsBytes: sb.blocksCount * sb.blockSize,
    ext: {
      blockSize: sb.blockSize,
      totalBlocks: sb.blocksCount,
      usedBySuper: sb.blocksCount - sb.freeBlocksCount,
    },
    ranges,
    usedBytes,
    details:
      `${sb.blockSize}-byte blocks, ${sb.groups} groups (${uninit} uninitialised), ` +
      `${usedBytes / sb.blockSize} of ${sb.blocksCount} blocks used, ${checked.inodes} inodes checked; ` +
      `${features.join(' ')}${journalNote}`,
  };
}

/** True when an ext2/3/4 superblock magic is where it belongs. */
export async function looksLikeExt(reader: ByteReader): Promise<boolean> {
  if (reader.size < SB_OFFSET + 1024) return false;
  return (await reader.read(SB_OFFSET + 0x38, 2)).readUInt16LE(0) === MAGIC;
}
