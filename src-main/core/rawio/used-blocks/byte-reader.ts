/**
 * Positional reads from a card, an image file or a part of one. The maps read only the few
 * blocks they need (tables, superblocks, bitmaps), so everything goes through `read(offset,
 * length)`; a partition is a window on the card (`windowReader`) so offsets inside a file system
 * start at 0.
 */
import type { FileHandle } from 'node:fs/promises';
import { UsedMapError } from './map-error.js';
import { readExactly } from '../../file-io.js';

const SECTOR = 512;

export interface ByteReader {
  /** Bytes readable through this reader. */
  readonly size: number;
  /** Exactly `length` bytes at `offset`; a read outside [0, size) is a map error. */
  read(offset: number, length: number): Promise<Buffer>;
}

function checkBounds(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new UsedMapError('read', `invalid read of ${length} bytes at ${offset}`);
  }
  if (offset + length > size) {
    throw new UsedMapError(
      'read',
      `a structure points past the end (${offset + length} > ${size} bytes): the table or file system is damaged or truncated`,
    );
  }
}

/**
 * Reads a file or block device through an open handle. Every read is widened to whole 512-byte
 * sectors, as raw disk devices (macOS /dev/rdiskN) accept nothing else.
 */
export function handleReader(fh: FileHandle, size: number): ByteReader {
  return {
    size,
    async read(offset, length) {
      checkBounds(size, offset, length);
      const start = Math.floor(offset / SECTOR) * SECTOR;
      const end = Math.min(size, Math.ceil((offset + length) / SECTOR) * SECTOR);
      const buf = Buffer.alloc(end - start);
      const done = await readExactly(fh, buf, start);
      if (done < buf.length)
        throw new UsedMapError('read', `the card ended early: no data at byte ${start + done} of ${size}`);
      return start === offset && buf.length === length
        ? buf
        : buf.subarray(offset - start, offset - start + length);
    },
  };
}

/** Reads from memory (tests, and structures already read). */
export function bufferReader(data: Buffer): ByteReader {
  return {
    size: data.length,
    async read(offset, length) {
      checkBounds(data.length, offset, length);
      return Buffer.from(data.subarray(offset, offset + length));
    },
  };
}

/** A window [start, start+length) of another reader, addressed from 0. */
export function windowReader(base: ByteReader, start: number, length: number): ByteReader {
  return {
    size: length,
    async read(offset, len) {
      checkBounds(length, offset, len);
      return base.read(start + offset, len);
    },
  };
}
