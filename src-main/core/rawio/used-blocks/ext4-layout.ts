/**
 * The on-disk layout of ext2/3/4: the superblock (validated: magic, geometry, features, checksum,
 * clean state) and the rules that place superblock copies, group descriptors (classic or meta_bg,
 * 32- or 64-byte) and reserved GDT blocks in each block group.
 */
import { crc32cRaw } from './crc.js';
import { UsedMapError } from './map-error.js';

export const SB_OFFSET = 1024;
export const MAGIC = 0xef53;

const COMPAT_HAS_JOURNAL = 0x4;
const COMPAT_SPARSE_SUPER2 = 0x200;

export const INCOMPAT = {
  filetype: 0x2,
  recover: 0x4,
  journal_dev: 0x8,
  meta_bg: 0x10,
  extent: 0x40,
  '64bit': 0x80,
  mmp: 0x100,
  flex_bg: 0x200,
  ea_inode: 0x400,
  dirdata: 0x1000,
  metadata_csum_seed: 0x2000,
  large_dir: 0x4000,
  inline_data: 0x8000,
  encrypt: 0x10000,
  casefold: 0x20000,
} as const;
/** Features that change nothing about where blocks are or how allocation is recorded. */
const INCOMPAT_UNDERSTOOD =
  INCOMPAT.filetype |
  INCOMPAT.recover |
  INCOMPAT.meta_bg |
  INCOMPAT.extent |
  INCOMPAT['64bit'] |
  INCOMPAT.mmp |
  INCOMPAT.flex_bg |
  INCOMPAT.ea_inode |
  INCOMPAT.dirdata |
  INCOMPAT.metadata_csum_seed |
  INCOMPAT.large_dir |
  INCOMPAT.inline_data |
  INCOMPAT.encrypt |
  INCOMPAT.casefold;

export const RO = {
  sparse_super: 0x1,
  large_file: 0x2,
  btree_dir: 0x4,
  huge_file: 0x8,
  gdt_csum: 0x10,
  dir_nlink: 0x20,
  extra_isize: 0x40,
  quota: 0x100,
  bigalloc: 0x200,
  metadata_csum: 0x400,
  readonly: 0x1000,
  project: 0x2000,
  shared_blocks: 0x4000,
  verity: 0x8000,
  orphan_present: 0x10000,
} as const;
const RO_UNDERSTOOD =
  RO.sparse_super |
  RO.large_file |
  RO.btree_dir |
  RO.huge_file |
  RO.gdt_csum |
  RO.dir_nlink |
  RO.extra_isize |
  RO.quota |
  RO.metadata_csum |
  RO.readonly |
  RO.project |
  RO.shared_blocks |
  RO.verity |
  RO.orphan_present;

const STATE_VALID = 0x1;
const STATE_ERROR = 0x2;
export const BG_INODE_UNINIT = 0x1;
export const BG_BLOCK_UNINIT = 0x2;

export interface Ext4Super {
  blockSize: number;
  blocksCount: number;
  firstDataBlock: number;
  blocksPerGroup: number;
  inodesPerGroup: number;
  inodeSize: number;
  descSize: number;
  groups: number;
  descPerBlock: number;
  descBlocks: number;
  firstMetaBg: number;
  reservedGdtBlocks: number;
  compat: number;
  incompat: number;
  roCompat: number;
  backupBgs: [number, number];
  journalInum: number;
  /** The first inode that is not reserved (11 on revision 0). */
  firstIno: number;
  /** Free blocks as the superblock counts them. */
  freeBlocksCount: number;
  /** The needs_recovery flag: the journal may hold changes not yet written in place. */
  needsRecovery: boolean;
  csumSeed: number;
  uuid: Buffer;
  label: string;
}

export interface GroupDesc {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  flags: number;
  blockBitmapCsum: number;
  inodeBitmapCsum: number;
  /** Inodes at the end of the group's table never used (gdt_csum / metadata_csum only). */
  itableUnused: number;
}

/** The file system is damaged: its structures fail their checks or contradict each other. */
export function fail(message: string, hint?: string): never {
  throw new UsedMapError('ext4', message, hint);
}

/** The file system may be sound, but cannot be mapped (a feature, an unclean unmount). */
export function refuse(message: string, hint?: string): never {
  throw new UsedMapError('ext4', message, hint, false);
}

function isPowerOf(n: number, base: number): boolean {
  let x = base;
  while (x < n) x *= base;
  return x === n;
}

export function featureNames(sb: Ext4Super): string[] {
  const out: string[] = [];
  if (sb.compat & COMPAT_HAS_JOURNAL) out.push('has_journal');
  if (sb.compat & COMPAT_SPARSE_SUPER2) out.push('sparse_super2');
  for (const [name, bit] of Object.entries(INCOMPAT)) if (sb.incompat & bit) out.push(name);
  for (const [name, bit] of Object.entries(RO)) if (sb.roCompat & bit) out.push(name);
  return out;
}

/** Parses and validates the primary superblock (the 1024 bytes at offset 1024). */
export function parseSuperblock(b: Buffer, partitionBytes: number): Ext4Super {
  if (b.length < 1024 || b.readUInt16LE(0x38) !== MAGIC) fail('no ext2/3/4 superblock (bad magic)');
  const logBlock = b.readUInt32LE(0x18);
  if (logBlock > 6) fail(`impossible block size (log ${logBlock})`);
  const blockSize = 1024 << logBlock;
  const rev = b.readUInt32LE(0x4c);
  if (rev > 1) refuse(`unknown superblock revision ${rev}`);
  const compat = rev ? b.readUInt32LE(0x5c) : 0;
  const incompat = rev ? b.readUInt32LE(0x60) : 0;
  const roCompat = rev ? b.readUInt32LE(0x64) : 0;

  if (roCompat & RO.metadata_csum) {
    if (b[0x175] !== 1) refuse(`unknown superblock checksum type ${b[0x175]}`);
    if (crc32cRaw(0xffffffff, b.subarray(0, 0x3fc)) !== b.readUInt32LE(0x3fc)) {
      fail('the superblock checksum is wrong: the superblock is damaged');
    }
  }
  if (incompat & INCOMPAT.journal_dev) refuse('this is an external journal device, not a file system');
  if (roCompat & RO.bigalloc) refuse('bigalloc file systems are not mapped');
  const unknownIncompat = incompat & ~INCOMPAT_UNDERSTOOD;
  if (unknownIncompat) refuse(`unknown incompatible feature bits 0x${unknownIncompat.toString(16)}`);
  const unknownRo = roCompat & ~RO_UNDERSTOOD;
  if (unknownRo) refuse(`unknown read-only-compatible feature bits 0x${unknownRo.toString(16)}`);

  const state = b.readUInt16LE(0x3a);
  if (state & STATE_ERROR) {
    fail(
      'the file system has recorded errors',
      'this partition is copied in full; run e2fsck on the card first',
    );
  }
  if (!(state & STATE_VALID)) {
    refuse(
      'the file system was not cleanly unmounted (or is mounted now)',
      'this partition is copied in full; unmount it, or shut the Pi down cleanly, to copy only used blocks',
    );
  }

  const is64 = (incompat & INCOMPAT['64bit']) !== 0;
  const blocksCount = b.readUInt32LE(0x4) + (is64 ? b.readUInt32LE(0x150) * 2 ** 32 : 0);
  const firstDataBlock = b.readUInt32LE(0x14);
  const blocksPerGroup = b.readUInt32LE(0x20);
  const clustersPerGroup = b.readUInt32LE(0x24);
  const inodesPerGroup = b.readUInt32LE(0x28);
  const inodeSize = rev ? b.readUInt16LE(0x58) : 128;
  const descSize = is64 ? b.readUInt16LE(0xfe) : 32;

  if (firstDataBlock !== (blockSize === 1024 ? 1 : 0)) fail(`unexpected first data block ${firstDataBlock}`);
  // mke2fs makes groups of 256 blocks at least; fewer would only multiply the metadata to read.
  if (blocksPerGroup < 256 || blocksPerGroup > blockSize * 8 || blocksPerGroup % 8 !== 0) {
    fail(`impossible blocks per group (${blocksPerGroup})`);
  }
  if (rev && clustersPerGroup !== blocksPerGroup) fail('clusters per group differ from blocks per group');
  if (inodesPerGroup === 0 || inodesPerGroup > blockSize * 8)
    fail(`impossible inodes per group (${inodesPerGroup})`);
  if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    fail(`impossible inode size ${inodeSize}`);
  }
  if (is64 && (descSize < 64 || descSize > 1024 || (descSize & (descSize - 1)) !== 0)) {
    fail(`impossible group descriptor size ${descSize}`);
  }
  if (blocksCount <= firstDataBlock) fail('the file system has no blocks');
  const firstIno = rev ? b.readUInt32LE(0x54) : 11;
  if (firstIno < 11) fail(`impossible first inode ${firstIno}`);
  if (blocksCount * blockSize > partitionBytes) {
    fail(
      `the file system (${blocksCount * blockSize} bytes) is larger than its partition (${partitionBytes} bytes)`,
      'this partition is copied in full; the partition table or the file system size is wrong, check with e2fsck',
    );
  }
  const groups = Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup);
  const descPerBlock = blockSize / descSize;
  const uuid = Buffer.from(b.subarray(0x68, 0x78));
  const csumSeed =
    incompat & INCOMPAT.metadata_csum_seed ? b.readUInt32LE(0x270) : crc32cRaw(0xffffffff, uuid);
  return {
    blockSize,
    blocksCount,
    firstDataBlock,
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    descSize,
    groups,
    descPerBlock,
    descBlocks: Math.ceil(groups / descPerBlock),
    firstMetaBg: b.readUInt32LE(0x104),
    reservedGdtBlocks: rev ? b.readUInt16LE(0xce) : 0,
    compat,
    incompat,
    roCompat,
    backupBgs: [b.readUInt32LE(0x24c), b.readUInt32LE(0x250)],
    journalInum: compat & COMPAT_HAS_JOURNAL ? b.readUInt32LE(0xe0) : 0,
    firstIno,
    freeBlocksCount: b.readUInt32LE(0x0c) + (is64 ? b.readUInt32LE(0x158) * 2 ** 32 : 0),
    needsRecovery: (incompat & INCOMPAT.recover) !== 0,
    csumSeed,
    uuid,
    label: b.toString('latin1', 0x78, 0x88).replace(/\0.*$/s, ''),
  };
}

/** Geometry helpers that follow the on-disk layout rules of ext2/3/4. */
export class Ext4Layout {
  constructor(readonly sb: Ext4Super) {}

  get metaBg(): boolean {
    return (this.sb.incompat & INCOMPAT.meta_bg) !== 0;
  }

  get hasGroupDescCsum(): boolean {
    return (this.sb.roCompat & (RO.gdt_csum | RO.metadata_csum)) !== 0;
  }

  groupFirstBlock(g: number): number {
    return this.sb.firstDataBlock + g * this.sb.blocksPerGroup;
  }

  blocksInGroup(g: number): number {
    return Math.min(this.sb.blocksPerGroup, this.sb.blocksCount - this.groupFirstBlock(g));
  }

  /** Whether group g carries a superblock backup (sparse_super, sparse_super2 or every group). */
  hasSuper(g: number): boolean {
    if (g === 0) return true;
    if (this.sb.compat & COMPAT_SPARSE_SUPER2)
      return g === this.sb.backupBgs[0] || g === this.sb.backupBgs[1];
    if (g <= 1 || !(this.sb.roCompat & RO.sparse_super)) return true;
    if (g % 2 === 0) return false;
    return isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
  }

  /** Block number of the primary copy of descriptor block i. */
  descriptorBlock(i: number): number {
    if (!this.metaBg || i < this.sb.firstMetaBg) return this.sb.firstDataBlock + i + 1;
    const g = this.sb.descPerBlock * i;
    return this.groupFirstBlock(g) + (this.hasSuper(g) ? 1 : 0);
  }

  /**
   * Blocks of group g taken by the superblock copy, descriptor blocks (classic or meta_bg) and
   * reserved GDT blocks, as [first, count] runs.
   */
  superAndDescriptors(g: number): Array<[number, number]> {
    const runs: Array<[number, number]> = [];
    const start = this.groupFirstBlock(g);
    const has = this.hasSuper(g);
    if (has) runs.push([start, 1]);
    const metaGroup = Math.floor(g / this.sb.descPerBlock);
    if (!this.metaBg || metaGroup < this.sb.firstMetaBg) {
      const old = (this.metaBg ? this.sb.firstMetaBg : this.sb.descBlocks) + this.sb.reservedGdtBlocks;
      if (has) runs.push([start + 1, old]);
    } else {
      const r = g % this.sb.descPerBlock;
      if (r === 0 || r === 1 || r === this.sb.descPerBlock - 1) runs.push([start + (has ? 1 : 0), 1]);
    }
    return runs;
  }

  get inodeTableBlocks(): number {
    return Math.ceil((this.sb.inodesPerGroup * this.sb.inodeSize) / this.sb.blockSize);
  }
}
