/**
 * Sector-aligned I/O on a raw disk. macOS's raw nodes (/dev/rdiskN) pass every read and write
 * straight to the driver, which refuses (EINVAL) an offset or a length that is not a whole number
 * of sectors; etcher-sdk's block-device.ts aligns its reads and writes for the same reason. A
 * handle wrapped here answers any read or write: an aligned one goes through as it is; an
 * unaligned read reads the whole sectors around it and hands back the asked part; an unaligned
 * write reads those sectors, lays the new bytes over them and writes them back, so the last block
 * of an image whose size is not a multiple of the sector size is padded with what the card held.
 */
import type { FileHandle } from 'node:fs/promises';

export const SECTOR = 512;

type Io = { bytesRead?: number; bytesWritten?: number; buffer: Buffer };

const down = (n: number) => Math.floor(n / SECTOR) * SECTOR;
const up = (n: number) => Math.ceil(n / SECTOR) * SECTOR;
const aligned = (position: number, length: number) => position % SECTOR === 0 && length % SECTOR === 0;

/** `handle`, with every read and write at an explicit position made sector-aligned. */
export function alignedHandle(handle: FileHandle): FileHandle {
  const rawRead = handle.read.bind(handle) as (
    b: Buffer,
    o: number,
    l: number,
    p: number,
  ) => Promise<{ bytesRead: number; buffer: Buffer }>;
  const rawWrite = handle.write.bind(handle) as (
    b: Buffer,
    o: number,
    l: number,
    p: number,
  ) => Promise<{ bytesWritten: number; buffer: Buffer }>;

  /** Reads the whole sectors covering [position, position + length). */
  const readSectors = async (position: number, length: number) => {
    const start = down(position);
    const span = Buffer.alloc(up(position + length) - start);
    let got = 0;
    while (got < span.length) {
      const { bytesRead } = await rawRead(span, got, span.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { start, span, got };
  };

  const read = async (
    buffer: Buffer,
    offset = 0,
    length = buffer.length - offset,
    position?: number | null,
  ) => {
    if (typeof position !== 'number' || aligned(position, length)) {
      return rawRead(buffer, offset, length, position as number);
    }
    const { start, span, got } = await readSectors(position, length);
    const from = position - start;
    const n = Math.max(0, Math.min(length, got - from));
    span.copy(buffer, offset, from, from + n);
    return { bytesRead: n, buffer } satisfies Io;
  };

  const write = async (
    buffer: Buffer,
    offset = 0,
    length = buffer.length - offset,
    position?: number | null,
  ) => {
    if (typeof position !== 'number' || aligned(position, length)) {
      return rawWrite(buffer, offset, length, position as number);
    }
    const { start, span } = await readSectors(position, length);
    buffer.copy(span, position - start, offset, offset + length);
    let put = 0;
    while (put < span.length) put += (await rawWrite(span, put, span.length - put, start + put)).bytesWritten;
    return { bytesWritten: length, buffer } satisfies Io;
  };

  return new Proxy(handle, {
    get(target, key) {
      if (key === 'read') return read;
      if (key === 'write') return write;
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
