/**
 * Carries out a write plan on an open card (or image file standing in for one), in this order:
 *   1. invalidate: zero the plan's areas (first MiB, old backup GPT, the heads of the new
 *      partitions), then sync, so a card interrupted from here on has no table and no file system
 *      that looks complete;
 *   2. write the image (its mapped ranges, or the whole decompressed stream), except what falls in
 *      those areas: the new table and the new file systems' superblocks / boot sectors. A
 *      compressed image with a block map is decompressed as one stream and only its mapped
 *      ranges are written (the rest of the stream is read and dropped);
 *   3. check the image was complete (its size, its table's end, the block map's checksums);
 *   4. sync, then write the held-back areas (the partition table first MiB, the partitions'
 *      heads, a backup GPT at the card's end) last, sync again and flush;
 *   5. read back: the mapped ranges compared byte for byte with a plain image (with a compressed
 *      one, their sha256 against the one taken while writing), or the sha256 of the whole stream.
 * The same code runs in the app's process (image files, devices when already root) and inside the
 * raw-disk helper, on the device it opened itself.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { AtlasError, CancelledError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { readExactly, writeAll } from '../file-io.js';
import { decompress, decompressFrom, type Compression } from '../images/compression.js';
import { readAhead } from '../rawio/read-ahead.js';
import { BLOCK, blocks, hashRange, upToCardSize } from '../rawio/block-copy.js';
import { compareRanges } from '../rawio/compare-ranges.js';
import { chunks, totalBytes, type ByteRange } from '../rawio/used-blocks/byte-ranges.js';
import { checkPlan, type WritePlan } from './write-plan.js';

export interface PlanSource {
  /** The image as named to the user. */
  name: string;
  /** Where this process reads it (a /proc/PID/fd path inside the helper). */
  path: string;
  /** Where a decompressor reads it (default: path), when there is no handle. */
  toolPath?: string;
  /** The image, opened once and checked (a regular file): every read of it goes through this. */
  handle?: FileHandle;
  compression: Compression;
  bytes: number | undefined;
}

export interface PlanTarget {
  handle: FileHandle;
  /** Where the card is read back from. */
  path: string;
  label: string;
  bytes: number;
  /** Makes what was written reach the card (Linux: blockdev --flushbufs). */
  flush?: () => Promise<void>;
}

export interface PlanResult {
  /** Bytes of the image. */
  bytes: number;
  /** sha256 of the whole image (stream writes); '' for a mapped write. */
  sha256: string;
  verified: boolean;
  /** Image bytes written to the card. */
  writtenBytes: number;
  /** Mapped writes: the bytes of the mapped ranges. */
  mappedBytes?: number;
  /** Bytes zeroed before writing. */
  invalidatedBytes: number;
}

function throwIfAborted(ctx: JobContext): void {
  if (ctx.signal.aborted) throw new CancelledError();
}

/** Zeroes `ranges` of an open card and syncs; returns the bytes zeroed. */
export async function zeroRanges(handle: FileHandle, ranges: readonly ByteRange[]): Promise<number> {
  let n = 0;
  for (const r of ranges) {
    await writeAll(handle, Buffer.alloc(r.end - r.start), r.start);
    n += r.end - r.start;
  }
  await handle.sync();
  return n;
}

/** The image ended before its block map's last range. */
function endsEarly(source: PlanSource, at: number): AtlasError {
  return new AtlasError(
    'bad-input',
    `${basename(source.name)} ends at byte ${at}, before its block map does`,
    'the image is truncated: the card was not finished; copy the image again and flash it',
  );
}

function mapMismatch(source: PlanSource, range: ByteRange, sum: string, expected: string): AtlasError {
  return new AtlasError(
    'verify-failed',
    `bytes ${range.start}-${range.end} of ${basename(source.name)} do not match its block map (checksum ${sum}, expected ${expected})`,
    'the image or its .bmap is damaged, or they do not belong together; the card was not finished: write it again from a good image',
  );
}

interface Held {
  position: number;
  data: Buffer;
}

/**
 * Writes `data` at `position`, except the parts inside `hold` (sorted): those are kept in `held`
 * and written after everything else.
 */
async function writeHolding(
  handle: FileHandle,
  data: Buffer,
  position: number,
  hold: readonly ByteRange[],
  held: Held[],
): Promise<void> {
  const end = position + data.length;
  let at = position;
  for (const h of hold) {
    if (h.end <= at) continue;
    if (h.start >= end) break;
    if (h.start > at) await writeAll(handle, data.subarray(at - position, h.start - position), at);
    const stop = Math.min(h.end, end);
    const from = Math.max(h.start, at);
    held.push({ position: from, data: Buffer.from(data.subarray(from - position, stop - position)) });
    at = stop;
  }
  if (at < end) await writeAll(handle, data.subarray(at - position), at);
}

/** Writes the plan's ranges, the invalidated areas held back; checks block-map checksums. */
async function writeRanges(
  source: PlanSource,
  plan: WritePlan,
  target: PlanTarget,
  held: Held[],
  ctx: JobContext,
): Promise<number> {
  const ranges = plan.ranges!;
  const total = totalBytes(ranges);
  const buf = Buffer.alloc(BLOCK);
  const image = source.handle ?? (await open(source.path, 'r'));
  let done = 0;
  try {
    for (const range of ranges) {
      const hash = range.checksum ? createHash(plan.checksumType ?? 'sha256') : undefined;
      for (const piece of chunks([range], BLOCK)) {
        throwIfAborted(ctx);
        const data = buf.subarray(0, piece.end - piece.start);
        const got = await readExactly(image, data, piece.start);
        if (got < data.length) throw endsEarly(source, piece.start + got);
        hash?.update(data);
        await writeHolding(target.handle, data, piece.start, plan.invalidate, held);
        done += data.length;
        ctx.progress(done, total);
      }
      const sum = hash?.digest('hex');
      if (sum !== undefined && sum !== range.checksum) throw mapMismatch(source, range, sum, range.checksum!);
    }
  } finally {
    if (image !== source.handle) await image.close();
  }
  return done;
}

interface OpenedStream {
  stream: AsyncIterable<Buffer> & { destroy(): void };
  stop: () => void;
  done: Promise<void>;
}

/** Reads an open file from its start by position (the handle is left open and its offset alone). */
async function* readFrom(handle: FileHandle): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(BLOCK);
    const { bytesRead } = await handle.read(buf, 0, BLOCK, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/** The image file from its start: through its handle (left open), or by its path. */
export function imageStream(source: Pick<PlanSource, 'path' | 'handle'>): Readable {
  return source.handle
    ? Readable.from(readFrom(source.handle), { objectMode: false })
    : createReadStream(source.path, { highWaterMark: BLOCK });
}

/** How far a decompressor may run ahead of the card. */
const READ_AHEAD = 64 * 1024 * 1024;

/** The image as one stream of bytes: the file, or its decompressor's output. */
function openStream(source: PlanSource): OpenedStream {
  if (source.compression === 'none') {
    return { stream: imageStream(source), stop: () => undefined, done: Promise.resolve() };
  }
  // The decompressor starts right before the copy reads it: its first output must not be missed.
  const expect = source.bytes !== undefined ? { expectBytes: source.bytes } : {};
  const d = source.handle
    ? decompressFrom(imageStream(source), source.compression, basename(source.name), expect)
    : decompress(source.path, source.compression, {
        ...(source.toolPath ? { toolPath: source.toolPath } : {}),
        ...expect,
      });
  // The decompressor works on while the card writes (up to READ_AHEAD bytes ahead).
  return { stream: readAhead(d.stream, READ_AHEAD), stop: () => d.kill(), done: d.done };
}

/** Writes the whole (decompressed) image, the invalidated areas held back; returns its size and sha256. */
async function writeStream(
  source: PlanSource,
  plan: WritePlan,
  target: PlanTarget,
  held: Held[],
  ctx: JobContext,
): Promise<{ bytes: number; sha256: string }> {
  const { stream, stop, done } = openStream(source);
  const hash = createHash('sha256');
  let position = 0;
  try {
    for await (const block of blocks(upToCardSize(stream, target.bytes, stop))) {
      throwIfAborted(ctx);
      hash.update(block);
      await writeHolding(target.handle, block, position, plan.invalidate, held);
      position += block.length;
      ctx.progress(position, Math.max(source.bytes ?? 0, position));
    }
    await done;
  } finally {
    stop();
    stream.destroy();
  }
  return { bytes: position, sha256: hash.digest('hex') };
}

/**
 * Writes the mapped ranges of a compressed image: the decompressed stream is read once, from its
 * start; what falls in a range is written (the invalidated areas held back), the rest is dropped.
 * Each range's block-map checksum is checked as its last byte goes by. Returns the stream's length,
 * the bytes written and the sha256 of all mapped bytes in order (for the read-back).
 */
async function writeStreamRanges(
  source: PlanSource,
  plan: WritePlan,
  target: PlanTarget,
  held: Held[],
  ctx: JobContext,
): Promise<{ bytes: number; written: number; mappedSha256: string }> {
  const ranges = plan.ranges!;
  const total = totalBytes(ranges);
  const { stream, stop, done } = openStream(source);
  const all = createHash('sha256');
  let i = 0;
  let hash = ranges[0]?.checksum ? createHash(plan.checksumType ?? 'sha256') : undefined;
  let position = 0;
  let written = 0;
  try {
    for await (const block of blocks(upToCardSize(stream, target.bytes, stop))) {
      throwIfAborted(ctx);
      const end = position + block.length;
      while (i < ranges.length && ranges[i]!.start < end) {
        const r = ranges[i]!;
        const from = Math.max(r.start, position);
        const to = Math.min(r.end, end);
        if (to > from) {
          const data = block.subarray(from - position, to - position);
          hash?.update(data);
          all.update(data);
          await writeHolding(target.handle, data, from, plan.invalidate, held);
          written += data.length;
        }
        if (r.end > end) break;
        const sum = hash?.digest('hex');
        if (sum !== undefined && sum !== r.checksum) throw mapMismatch(source, r, sum, r.checksum!);
        i += 1;
        hash = ranges[i]?.checksum ? createHash(plan.checksumType ?? 'sha256') : undefined;
      }
      position = end;
      ctx.progress(written, total);
    }
    // Read to its end: the decompressor's exit status checks the whole file.
    await done;
  } finally {
    stop();
    stream.destroy();
  }
  if (i < ranges.length) throw endsEarly(source, position);
  return { bytes: position, written, mappedSha256: all.digest('hex') };
}

/** sha256 of `ranges` of a file or device, in order (the read-back of a streamed mapped write). */
async function hashRanges(path: string, ranges: readonly ByteRange[], ctx: JobContext): Promise<string> {
  const fh = await open(path, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.alloc(BLOCK);
  let done = 0;
  const total = totalBytes(ranges);
  try {
    for (const piece of chunks(ranges, BLOCK)) {
      throwIfAborted(ctx);
      const len = piece.end - piece.start;
      const got = await readExactly(fh, buf.subarray(0, len), piece.start);
      hash.update(buf.subarray(0, got));
      done += len;
      ctx.progress(done, total);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function runPlan(
  source: PlanSource,
  plan: WritePlan,
  target: PlanTarget,
  ctx: JobContext,
): Promise<PlanResult> {
  checkPlan(plan, source.bytes, target.bytes);
  const needed = Math.max(source.bytes ?? 0, plan.minBytes ?? 0);
  if (needed > target.bytes) {
    throw new AtlasError(
      'too-small',
      `the card is too small: ${target.bytes} bytes, the image has ${needed}`,
      'use a larger card, or a shrunk ods-atlas-clone image',
    );
  }
  const mappedBytes = plan.ranges ? totalBytes(plan.ranges) : undefined;
  ctx.step('write', `Writing ${basename(source.name)} to ${target.label}`, mappedBytes ?? source.bytes ?? 0);
  throwIfAborted(ctx);
  const invalidatedBytes = await zeroRanges(target.handle, plan.invalidate);
  const held: Held[] = [];
  let bytes: number;
  let sha256 = '';
  let writtenBytes: number;
  let mappedSha256: string | undefined;
  if (plan.ranges && source.compression !== 'none') {
    const s = await writeStreamRanges(source, plan, target, held, ctx);
    writtenBytes = s.written;
    mappedSha256 = s.mappedSha256;
    bytes = source.bytes ?? s.bytes;
    if (source.bytes !== undefined && s.bytes !== source.bytes) {
      throw new AtlasError(
        'bad-input',
        `${basename(source.name)} ended after ${s.bytes} of its ${source.bytes} bytes`,
        'the image is truncated or damaged: the card was not finished (it has no partition table); copy the image again and flash it',
      );
    }
  } else if (plan.ranges) {
    writtenBytes = await writeRanges(source, plan, target, held, ctx);
    bytes = source.bytes ?? 0;
  } else {
    const s = await writeStream(source, plan, target, held, ctx);
    bytes = s.bytes;
    sha256 = s.sha256;
    writtenBytes = s.bytes;
    if (source.bytes !== undefined && s.bytes !== source.bytes) {
      throw new AtlasError(
        'bad-input',
        `${basename(source.name)} ended after ${s.bytes} of its ${source.bytes} bytes`,
        'the image is truncated or damaged: the card was not finished (it has no partition table); copy the image again and flash it',
      );
    }
  }
  if (plan.minBytes !== undefined && bytes < plan.minBytes) {
    throw new AtlasError(
      'bad-input',
      `${basename(source.name)} has ${bytes} bytes, but its partition table needs ${plan.minBytes}`,
      'the image is truncated: the card was not finished (it has no partition table); copy the image again and flash it',
    );
  }
  // Everything else is on the card: now the table.
  throwIfAborted(ctx);
  await target.handle.sync();
  for (const h of held) await writeAll(target.handle, h.data, h.position);
  const st = await target.handle.stat();
  if (st.isFile() && st.size < bytes) await target.handle.truncate(bytes);
  await target.handle.sync();
  await target.flush?.();
  const result: PlanResult = {
    bytes,
    sha256,
    verified: false,
    writtenBytes,
    invalidatedBytes,
    ...(mappedBytes !== undefined ? { mappedBytes } : {}),
  };
  if (!plan.verify) return result;
  ctx.step('verify', `Verifying: reading ${target.label} back`, mappedBytes ?? bytes);
  if (plan.ranges && mappedSha256 !== undefined) {
    if ((await hashRanges(target.path, plan.ranges, ctx)) !== mappedSha256) {
      throw new AtlasError(
        'verify-failed',
        `verification failed: what was read back from ${target.label} differs from the image's mapped blocks`,
        'the card may be failing or fake: try another card',
      );
    }
  } else if (plan.ranges) {
    const c = await compareRanges(source.handle ?? source.path, target.path, plan.ranges, ctx);
    if (!c.ok) {
      throw new AtlasError(
        'verify-failed',
        `verification failed: ${target.label} differs from the image at byte ${c.firstDifference}`,
        'the card may be failing or fake: try another card',
      );
    }
  } else if ((await hashRange(target.path, bytes, ctx)) !== sha256) {
    throw new AtlasError(
      'verify-failed',
      `verification failed: what was read back from ${target.label} differs from the image`,
      'the card may be failing or fake: try another card',
    );
  }
  return { ...result, verified: true };
}
