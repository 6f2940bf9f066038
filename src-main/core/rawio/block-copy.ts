/**
 * Copies bytes into a new file (a card read into an image) in 1 MiB blocks, with progress, hashing
 * and cancellation; with `sparse` blocks of zeros are not written (the target is a fresh file, so
 * they read as zero). Images are written onto cards by the write pipeline (src-main/core/write/).
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { AtlasError, CancelledError } from '../errors.js';
import { readExactly, writeAll } from '../file-io.js';
import { formatBytes } from '../../common/format-bytes.js';
import type { JobContext } from '../jobs/job.js';
import { isZero } from './used-blocks/zero-block.js';

export const BLOCK = 1024 * 1024;

export interface CopyOptions {
  ctx: JobContext;
  totalBytes: number;
  sparse?: boolean;
  /** Called with the number of source bytes consumed (for compressed sources). */
  onSourceBytes?: () => number;
}

export interface CopyResult {
  bytes: number;
  sha256: string;
  writtenBytes: number;
}

/** Re-chunks any stream into exact BLOCK-sized buffers (the last may be shorter). */
export async function* blocks(source: ByteSource): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    pending.push(chunk);
    size += chunk.length;
    while (size >= BLOCK) {
      const all = Buffer.concat(pending, size);
      yield all.subarray(0, BLOCK);
      const rest = all.subarray(BLOCK);
      pending = rest.length ? [Buffer.from(rest)] : [];
      size = rest.length;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

/** A readable stream or any async source of buffers. */
export type ByteSource = AsyncIterable<Buffer> & { destroy?: () => void };

/**
 * The first `length` bytes of an open handle, in BLOCK pieces read at explicit positions through
 * `handle.read` (so a handle that aligns its I/O, as a Mac's raw disk node needs, sees every read).
 * Ends early only where the handle does.
 */
export async function* handleBlocks(handle: FileHandle, length: number): AsyncGenerator<Buffer> {
  for (let pos = 0; pos < length;) {
    const want = Math.min(BLOCK, length - pos);
    const buf = Buffer.allocUnsafe(want);
    const got = await readExactly(handle, buf, pos);
    if (got > 0) yield got === want ? buf : buf.subarray(0, got);
    if (got < want) return;
    pos += got;
  }
}

export async function copyStreamTo(
  source: ByteSource,
  target: FileHandle,
  opts: CopyOptions,
): Promise<CopyResult> {
  const { ctx } = opts;
  const hash = createHash('sha256');
  let position = 0;
  let written = 0;
  for await (const block of blocks(source)) {
    if (ctx.signal.aborted) {
      source.destroy?.();
      throw new CancelledError();
    }
    hash.update(block);
    if (!(opts.sparse && isZero(block))) {
      await writeAll(target, block, position);
      written += block.length;
    }
    position += block.length;
    ctx.progress(position, Math.max(opts.totalBytes, position));
  }
  await target.sync();
  return { bytes: position, sha256: hash.digest('hex'), writtenBytes: written };
}

/** sha256 of the first `length` bytes of a file or device, with progress. */
export async function hashRange(path: string, length: number, ctx: JobContext): Promise<string> {
  const hash = createHash('sha256');
  if (length === 0) return hash.digest('hex');
  const stream = createReadStream(path, { start: 0, end: length - 1, highWaterMark: BLOCK });
  let done = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (ctx.signal.aborted) {
      stream.destroy();
      throw new CancelledError();
    }
    hash.update(chunk);
    done += chunk.length;
    ctx.progress(done, length);
  }
  return hash.digest('hex');
}

/** Copies a whole file or device into a new sparse file (zero blocks become holes). */
export async function copyToSparseFile(
  sourcePath: string,
  targetPath: string,
  length: number,
  ctx: JobContext,
): Promise<CopyResult> {
  const target = await open(targetPath, 'wx', 0o600); // copies of images carry secrets: owner-only
  try {
    const source = createReadStream(sourcePath, {
      start: 0,
      end: Math.max(0, length - 1),
      highWaterMark: BLOCK,
    });
    const r = await copyStreamTo(source, target, { ctx, totalBytes: length, sparse: true });
    await target.truncate(r.bytes);
    return r;
  } finally {
    await target.close();
  }
}

/** Fails a copy when a (decompressed) image turns out larger than the card; `stop` ends the source. */
export async function* upToCardSize(
  source: AsyncIterable<Buffer>,
  max: number,
  stop: () => void,
): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    if (n > max) {
      stop();
      throw new AtlasError(
        'too-small',
        `the image is larger than the card (${formatBytes(max)})`,
        'use a larger card',
      );
    }
    yield chunk;
  }
}
