/**
 * A partclone image of an ext2/3/4 file system, made from its used blocks as they are read: the
 * bytes `partclone.ext4 -c` writes for the same file system, so a card can be cloned in one pass
 * over the card reader (the builder only compresses and checks the stream). The format is
 * partclone's image format 0002 with its defaults (src/partclone.h, src/partclone.c, src/main.c):
 *
 *   image_desc_v2   110 bytes: image_head_v2 (magic, partclone's version, "0002", 0xC0DE),
 *                   file_system_info_v2 ("EXTFS", device size, blocks, used blocks by the
 *                   superblock and by the bitmap, block size), image_options_v2 (CRC32
 *                   checksums every 1 MiB of blocks, reseeded, a bit per block), then its CRC
 *   bitmap          a bit per block, least significant first, 1 = in use (bits past the last
 *                   block set, as partclone initialises the bitmap to ones), then its CRC
 *   blocks          every used block in order, a CRC after each `blocksPerChecksum` blocks and
 *                   after the last ones
 *
 * partclone's CRC is the CRC-32 of zlib's polynomial seeded with 0xFFFFFFFF and never inverted at
 * the end, stored little-endian. Which blocks are used is partclone's own rule: the block bitmaps
 * as libext2fs reads them (a BLOCK_UNINIT group's metadata counted as used) and block 0; the
 * ext4 map (used-blocks/ext4-map.ts) computes the same set.
 */
import { crc32 } from 'node:zlib';
import { AtlasError } from '../../errors.js';
import { PARTCLONE_VERSION } from '../../../common/raw-disk-protocol.js';
import { UnitBitmap, type ByteRange } from './byte-ranges.js';

/** What partclone needs to know of an ext file system (from its superblock and bitmaps). */
export interface ExtBlocks {
  blockSize: number;
  totalBlocks: number;
  /** blocks_count − free_blocks_count, from the superblock. */
  usedBySuper: number;
}

const HEAD_BYTES = 106;
const SEED = 0xffffffff;
/** partclone's default buffer (1 MiB): a checksum after as many blocks as fit in it. */
const BUFFER_BYTES = 1048576;
const CSM_CRC32 = 0x20;
const BM_BIT = 0x01;

/** partclone's crc32(): the running CRC register, not inverted at the end. */
export function partcloneCrc(seed: number, data: Uint8Array): number {
  return ~crc32(data, ~seed >>> 0) >>> 0;
}

function crcBytes(crc: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crc);
  return b;
}

export function blocksPerChecksum(blockSize: number): number {
  return BUFFER_BYTES > blockSize ? Math.floor(BUFFER_BYTES / blockSize) : 1;
}

/** A check a partclone version string (from `partclone.ext4 -v`) must pass to go in the header. */
export function checkPartcloneVersion(version: string): string {
  if (!PARTCLONE_VERSION.test(version)) {
    throw new AtlasError('bad-input', `not a partclone version: ${JSON.stringify(version.slice(0, 20))}`);
  }
  return version;
}

export class PartcloneExtImage {
  private readonly used: readonly ByteRange[];
  private readonly windowBytes: number;
  /** Index of the used range holding the next byte to emit, and that byte. */
  private range = 0;
  private want: number;
  private readBytes = 0;
  private crc = SEED;
  private inWindow = 0;
  private ended = false;
  readonly usedBytes: number;

  /**
   * `used`: the used blocks as merged, sorted byte ranges from the start of the file system, each
   * a whole number of blocks.
   */
  constructor(
    readonly fs: ExtBlocks,
    used: readonly ByteRange[],
    private readonly version: string,
  ) {
    checkPartcloneVersion(version);
    const { blockSize, totalBlocks } = fs;
    const fsBytes = blockSize * totalBlocks;
    let last = 0;
    for (const r of used) {
      if (r.start < last || r.end <= r.start || r.end > fsBytes || r.start % blockSize || r.end % blockSize)
        throw new RangeError(
          `used range ${r.start}-${r.end} is not whole sorted blocks inside the file system`,
        );
      last = r.end;
    }
    this.used = used;
    this.usedBytes = used.reduce((n, r) => n + r.end - r.start, 0);
    this.want = used[0]?.start ?? fsBytes;
    this.windowBytes = blocksPerChecksum(blockSize) * blockSize;
  }

  /** The image's header and bitmap: the stream's first bytes. */
  head(): Buffer[] {
    const { blockSize, totalBlocks, usedBySuper } = this.fs;
    const used = new UnitBitmap(totalBlocks);
    for (const r of this.used) used.setRange(r.start / blockSize, (r.end - r.start) / blockSize);
    const bitmap = Buffer.from(used.bits.buffer, used.bits.byteOffset, used.bits.length);
    for (let b = totalBlocks; b < bitmap.length * 8; b++) bitmap[b >> 3]! |= 1 << (b & 7);

    const h = Buffer.alloc(HEAD_BYTES + 4);
    h.write('partclone-image', 0, 'latin1');
    h.write(this.version, 16, 'latin1');
    h.write('0002', 30, 'latin1');
    h.writeUInt16LE(0xc0de, 34);
    h.write('EXTFS', 36, 'latin1');
    h.writeBigUInt64LE(BigInt(blockSize * totalBlocks), 52);
    h.writeBigUInt64LE(BigInt(totalBlocks), 60);
    h.writeBigUInt64LE(BigInt(usedBySuper), 68);
    h.writeBigUInt64LE(BigInt(this.usedBytes / blockSize), 76);
    h.writeUInt32LE(blockSize, 84);
    h.writeUInt32LE(18, 88); // sizeof(image_options_v2)
    h.writeUInt16LE(2, 92);
    h.writeUInt16LE(64, 94);
    h.writeUInt16LE(CSM_CRC32, 96);
    h.writeUInt16LE(4, 98);
    h.writeUInt32LE(blocksPerChecksum(blockSize), 100);
    h.writeUInt8(1, 104); // reseed after each checksum
    h.writeUInt8(BM_BIT, 105);
    h.writeUInt32LE(partcloneCrc(SEED, h.subarray(0, HEAD_BYTES)), HEAD_BYTES);
    return [h, bitmap, crcBytes(partcloneCrc(SEED, bitmap))];
  }

  /**
   * Bytes of the file system at `offset` (from its start), handed over in increasing order; the
   * parts of them that are used blocks come back as the image's next bytes (views of `data`, and
   * checksums). Every used byte must be handed over exactly once.
   */
  data(offset: number, data: Buffer): Buffer[] {
    if (this.ended) throw new Error('the partclone image is already complete');
    if (offset < this.readBytes) {
      throw new RangeError(`file system bytes at ${offset} come after bytes up to ${this.readBytes}`);
    }
    const end = offset + data.length;
    this.readBytes = end;
    const out: Buffer[] = [];
    while (this.range < this.used.length && this.want < end) {
      if (this.want < offset) {
        throw new AtlasError(
          'tool-failed',
          `used block ${Math.floor(this.want / this.fs.blockSize)} of the file system was never read`,
        );
      }
      const r = this.used[this.range]!;
      const stop = Math.min(r.end, end);
      this.emit(data.subarray(this.want - offset, stop - offset), out);
      if (stop < r.end) {
        this.want = stop;
        break;
      }
      this.range++;
      this.want = this.used[this.range]?.start ?? r.end;
    }
    return out;
  }

  /** The image's last bytes (the checksum of its last blocks); fails if a used byte is missing. */
  end(): Buffer[] {
    if (this.range < this.used.length) {
      throw new AtlasError(
        'tool-failed',
        `used block ${Math.floor(this.want / this.fs.blockSize)} of the file system was never read`,
      );
    }
    this.ended = true;
    return this.inWindow > 0 ? [crcBytes(this.crc)] : [];
  }

  private emit(bytes: Buffer, out: Buffer[]): void {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(bytes.length - at, this.windowBytes - this.inWindow);
      const piece = bytes.subarray(at, at + take);
      this.crc = partcloneCrc(this.crc, piece);
      out.push(piece);
      at += take;
      this.inWindow += take;
      if (this.inWindow === this.windowBytes) {
        out.push(crcBytes(this.crc));
        this.crc = SEED;
        this.inWindow = 0;
      }
    }
  }
}
