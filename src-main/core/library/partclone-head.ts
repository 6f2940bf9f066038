/**
 * The header of a partclone image (`sdc1-boot.partclone.gz`, `sdc2-root.partclone.gz`), read
 * before anything is restored: it says how large the file system is and how many of its blocks
 * hold data, so a set whose root would not fit the card, or the work folder, is refused at once
 * instead of after decompressing gigabytes. Only the gzip stream's first bytes are decompressed.
 *
 * The layout, as partclone writes it (src/partclone.h, packed little-endian structs):
 *   image format 0002: image_head_v2 (36 bytes: magic "partclone-image\0", partclone's version,
 *     "0002", 0xC0DE), file_system_info_v2 (52: fs name[16], device size, total blocks, used
 *     blocks, blocks set in the bitmap, all u64, block size u32), image_options_v2 (18), then a
 *     CRC32 of those 106 bytes (zlib's polynomial, without the final inversion)
 *   image format 0001: image_head_v1 (36: magic[15], fs[15], "0001", padding), then
 *     file_system_info_v1 (block size i32, device size, total blocks, used blocks, u64)
 */
import { constants, crc32, gunzipSync } from 'node:zlib';
import { AtlasError } from '../errors.js';
import { shownExcerpt } from '../../common/shown-text.js';
import { openRegularFile } from './regular-file.js';

export interface PartcloneHead {
  /** The file system partclone names ("EXTFS", "FAT32", …). */
  fs: string;
  format: '0001' | '0002';
  blockSize: number;
  totalBlocks: number;
  /** Blocks that hold data (the larger of the file system's count and the bitmap's). */
  usedBlocks: number;
  /** Size of the device the image was made from. */
  deviceBytes: number;
}

const HEAD_BYTES = 110;
/** Compressed bytes read at most: the header is the stream's first 110 bytes. */
const GZIP_HEAD = 4096;
const MAGIC = 'partclone-image';

function refuse(what: string, why: string): never {
  throw new AtlasError(
    'bad-input',
    `${what} is not a partclone image this clone set could have: ${why}`,
    'clone the card again, or use a clone set you made yourself',
  );
}

function u64(b: Buffer, at: number, what: string, field: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) refuse(what, `its ${field} is out of range`);
  return Number(v);
}

function cString(b: Buffer, from: number, to: number): string {
  const raw = b.subarray(from, to);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
}

/** Parses the first bytes of a partclone image (decompressed); `what` names it in errors. */
export function parsePartcloneHead(b: Buffer, what: string): PartcloneHead {
  if (b.length < 64 || b.subarray(0, 15).toString('latin1') !== MAGIC)
    refuse(what, "it does not start with partclone's magic");
  const format = b.subarray(30, 34).toString('latin1');
  let head: PartcloneHead;
  if (format === '0002') {
    if (b.length < HEAD_BYTES) refuse(what, 'its header is cut short');
    if (b[15] !== 0 || b.readUInt16LE(34) !== 0xc0de)
      refuse(what, 'its header is not a little-endian format 0002 header');
    const stored = b.readUInt32LE(106);
    if ((crc32(b.subarray(0, 106)) ^ 0xffffffff) >>> 0 !== stored)
      refuse(what, 'its header checksum does not match');
    head = {
      fs: cString(b, 36, 52),
      format,
      deviceBytes: u64(b, 52, what, 'device size'),
      totalBlocks: u64(b, 60, what, 'block count'),
      usedBlocks: Math.max(u64(b, 68, what, 'used block count'), u64(b, 76, what, 'bitmap count')),
      blockSize: b.readUInt32LE(84),
    };
  } else if (format === '0001') {
    head = {
      fs: cString(b, 15, 30),
      format,
      blockSize: b.readInt32LE(36),
      deviceBytes: u64(b, 40, what, 'device size'),
      totalBlocks: u64(b, 48, what, 'block count'),
      usedBlocks: u64(b, 56, what, 'used block count'),
    };
  } else {
    refuse(what, `its image format ${JSON.stringify(shownExcerpt(format, 4))} is not one partclone writes`);
  }
  const { blockSize, totalBlocks, usedBlocks } = head;
  if (!/^[A-Za-z0-9 ]{1,15}$/.test(head.fs)) refuse(what, 'its file system name is not one partclone writes');
  if (blockSize < 512 || blockSize > 65536 || (blockSize & (blockSize - 1)) !== 0)
    refuse(what, `its block size ${blockSize} is not a power of two from 512 to 65536`);
  if (usedBlocks > totalBlocks)
    refuse(what, `it has more used blocks (${usedBlocks}) than blocks (${totalBlocks})`);
  if (totalBlocks * blockSize > Number.MAX_SAFE_INTEGER) refuse(what, 'its file system size is out of range');
  return head;
}

/**
 * Reads the header of the gzip-compressed partclone image at `path`: a regular file (never a
 * link or a pipe), of which only the first compressed bytes are decompressed.
 */
export async function readPartcloneHead(path: string, what: string): Promise<PartcloneHead> {
  const fh = await openRegularFile(path, what);
  let compressed: Buffer;
  try {
    const buf = Buffer.alloc(GZIP_HEAD);
    const { bytesRead } = await fh.read(buf, 0, GZIP_HEAD, 0);
    compressed = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  let head: Buffer;
  try {
    // A cut stream is decompressed as far as it goes; 4 KiB inflate to at most about 4 MiB.
    head = gunzipSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 });
  } catch {
    refuse(what, 'it is not gzip-compressed');
  }
  return parsePartcloneHead(head.subarray(0, HEAD_BYTES), what);
}

/** Bytes of data in the image's file system: used blocks × block size. */
export function usedBytes(h: PartcloneHead): number {
  return h.usedBlocks * h.blockSize;
}

/** Bytes of the image's file system: its blocks × block size. */
export function fsBytes(h: PartcloneHead): number {
  return h.totalBlocks * h.blockSize;
}
