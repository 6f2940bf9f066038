/**
 * What a file-system map returns: the byte ranges (relative to the start of the partition) that
 * must be copied for the file system to be complete: its metadata and every block in use.
 */
import type { ByteRange } from './byte-ranges.js';
import type { ExtBlocks } from './partclone-image.js';

export interface FsUsedMap {
  /** 'ext2' | 'ext3' | 'ext4' | 'fat12' | 'fat16' | 'fat32' */
  fs: string;
  label: string;
  /** Bytes the file system spans from the start of the partition. */
  fsBytes: number;
  /** Merged, sorted ranges relative to the partition start. */
  ranges: ByteRange[];
  usedBytes: number;
  /** One line for logs: block size, groups or clusters, features. */
  details: string;
  /** ext2/3/4: the block geometry a partclone image of it records (`ranges` are its used blocks). */
  ext?: ExtBlocks;
}
