/**
 * Reads the structure of a .zst file without decoding it (RFC 8878): each frame's header (its
 * window, the memory a decoder must hold, and its content size when recorded) and the block
 * headers that lead to the next frame. `readZstdLayout` walks a file before anything is written;
 * `ZstdFrameWatch` follows the same structure in a stream, so a frame whose window is too large
 * is stopped before the decoder sees its header.
 */
import { readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export interface ZstdLayout {
  /** Bytes of the decoded data; undefined when a frame does not record its size. */
  bytes: number | undefined;
  /** The largest window of any frame (the decoder's memory need). */
  windowBytes: number;
  frames: number;
}

export interface ZstdFrameHeader {
  /** Bytes of the frame header after the magic number. */
  length: number;
  windowBytes: number;
  contentBytes: number | undefined;
  checksum: boolean;
}

export class ZstdFormatError extends Error {}

const FRAME_MAGIC = 0xfd2fb528;
const isSkippable = (magic: number) => magic >>> 4 === 0x184d2a5;

/** The length of a frame header (after the magic) from its first byte, the descriptor. */
export function frameHeaderLength(descriptor: number): number {
  const single = (descriptor >> 5) & 1;
  const fcsFlag = descriptor >> 6;
  const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
  const fcsBytes = fcsFlag === 0 ? single : 2 ** fcsFlag;
  return 1 + (single ? 0 : 1) + dictBytes + fcsBytes;
}

/** A frame header (after the magic): its window and content size. */
export function parseFrameHeader(h: Buffer): ZstdFrameHeader {
  const d = h[0]!;
  if (d & 0x08) throw new ZstdFormatError('a frame header has its reserved bit set');
  const single = (d >> 5) & 1;
  const fcsFlag = d >> 6;
  let at = 1;
  let windowBytes = 0;
  if (!single) {
    const w = h[at++]!;
    const base = 2 ** (10 + (w >> 3));
    windowBytes = base + (base / 8) * (w & 7);
  }
  at += [0, 1, 2, 4][d & 3]!;
  let contentBytes: number | undefined;
  if (fcsFlag === 0 && single) contentBytes = h[at]!;
  else if (fcsFlag === 1) contentBytes = h.readUInt16LE(at) + 256;
  else if (fcsFlag === 2) contentBytes = h.readUInt32LE(at);
  else if (fcsFlag === 3) contentBytes = Number(h.readBigUInt64LE(at));
  // A single-segment frame is decoded in one buffer of its content's size.
  if (single) windowBytes = contentBytes!;
  return { length: frameHeaderLength(d), windowBytes, contentBytes, checksum: ((d >> 2) & 1) === 1 };
}

/** A block header: whether it is the frame's last, and the bytes that follow it. */
function blockFollows(b: Buffer): { last: boolean; bytes: number } {
  const v = b[0]! | (b[1]! << 8) | (b[2]! << 16);
  const type = (v >> 1) & 3;
  if (type === 3) throw new ZstdFormatError('a block has the reserved type');
  return { last: (v & 1) === 1, bytes: type === 1 ? 1 : v >>> 3 };
}

/**
 * Reads `length` bytes at `offset`, for the walk below, which reads a 3-byte header every block (about every 128 KiB: some
 * 13,000 of them in a 1.7 GB file). Each is a plain pread: through the thread pool, as
 * FileHandle.read goes, the round trips took over a second; here they take milliseconds. The
 * event loop gets a turn every 1024 reads.
 */
function headerReader(): (fh: FileHandle, offset: number, length: number) => Promise<Buffer> {
  let reads = 0;
  return async (fh, offset, length) => {
    if (++reads % 1024 === 0) await new Promise((r) => setImmediate(r));
    const buf = Buffer.alloc(length);
    if (readSync(fh.fd, buf, 0, length, offset) !== length) throw new ZstdFormatError('the file ends early');
    return buf;
  };
}

/** The layout of the .zst file open as `fh` (`size` bytes); throws ZstdFormatError if it is not one. */
export async function readZstdLayout(fh: FileHandle, size: number): Promise<ZstdLayout> {
  const readAt = headerReader();
  const out: ZstdLayout = { bytes: 0, windowBytes: 0, frames: 0 };
  let at = 0;
  while (at < size) {
    const magic = (await readAt(fh, at, 4)).readUInt32LE(0);
    if (isSkippable(magic)) {
      at += 8 + (await readAt(fh, at + 4, 4)).readUInt32LE(0);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new ZstdFormatError(`no zstd frame at byte ${at}`);
    const d = (await readAt(fh, at + 4, 1))[0]!;
    const header = parseFrameHeader(await readAt(fh, at + 4, frameHeaderLength(d)));
    out.windowBytes = Math.max(out.windowBytes, header.windowBytes);
    out.bytes =
      out.bytes === undefined || header.contentBytes === undefined
        ? undefined
        : out.bytes + header.contentBytes;
    out.frames++;
    at += 4 + header.length;
    for (;;) {
      const b = blockFollows(await readAt(fh, at, 3));
      at += 3 + b.bytes;
      if (b.last) break;
    }
    if (header.checksum) at += 4;
  }
  if (at !== size) throw new ZstdFormatError('the file ends early');
  return out;
}

/**
 * Follows the frames of a zstd stream as it passes by: `check` is called with each frame's header
 * before the bytes that hold it are passed on, and may throw to stop the stream there.
 */
export class ZstdFrameWatch {
  private pending: Buffer = Buffer.alloc(0);
  private skip = 0;
  private state: 'magic' | 'descriptor' | 'header' | 'skippable' | 'block' = 'magic';
  private headerLength = 0;
  private checksum = false;

  constructor(private readonly check: (h: ZstdFrameHeader) => void) {}

  /** Follows `chunk` (and throws where `check` does, or where the structure is broken). */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      const need = this.need();
      const take = Math.min(need - this.pending.length, chunk.length - at);
      this.pending = Buffer.concat([this.pending, chunk.subarray(at, at + take)]);
      at += take;
      if (this.pending.length === need) this.step(this.pending);
    }
  }

  private need(): number {
    if (this.state === 'magic') return 4;
    if (this.state === 'descriptor') return 1;
    if (this.state === 'header') return this.headerLength;
    if (this.state === 'skippable') return 4;
    return 3;
  }

  private step(b: Buffer): void {
    this.pending = Buffer.alloc(0);
    switch (this.state) {
      case 'magic': {
        const magic = b.readUInt32LE(0);
        if (isSkippable(magic)) this.state = 'skippable';
        else if (magic === FRAME_MAGIC) this.state = 'descriptor';
        else throw new ZstdFormatError('the stream holds something that is not a zstd frame');
        return;
      }
      case 'skippable':
        this.skip = b.readUInt32LE(0);
        this.state = 'magic';
        return;
      case 'descriptor':
        this.headerLength = frameHeaderLength(b[0]!);
        this.pending = b;
        this.state = 'header';
        return;
      case 'header': {
        const h = parseFrameHeader(b);
        this.check(h);
        this.checksum = h.checksum;
        this.state = 'block';
        return;
      }
      case 'block': {
        const blk = blockFollows(b);
        this.skip = blk.bytes;
        if (blk.last) {
          this.skip += this.checksum ? 4 : 0;
          this.state = 'magic';
        }
        return;
      }
    }
  }
}
