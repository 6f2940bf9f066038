/**
 * Used-block card reads: maps the card (partition table, then each file system's allocation
 * maps) and copies only the mapped ranges into a new sparse file of the card's full size. Bytes
 * that were not mapped stay holes and read as zeros; mapped blocks that are all zeros are not
 * written either (they read back the same). Over a USB card reader the time is set by the bytes
 * read, so a card with 3 GB used out of 32 GB is read ten times faster than a full copy.
 *
 * The destination is created (never overwritten) and removed again if the copy fails or is
 * cancelled.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { identifyCard } from '../../cards/card.js';
import { isZero } from './zero-block.js';
import { AtlasError, CancelledError } from '../../errors.js';
import { readExactly, writeAll } from '../../file-io.js';
import type { JobContext } from '../../jobs/job.js';
import { handleReader } from './byte-reader.js';
import { chunks, type ByteRange } from './byte-ranges.js';
import { mapCard, type CardMap } from './used-ranges.js';
import { PartcloneExtImage } from './partclone-image.js';

const CHUNK = 1024 * 1024;

export interface ReadUsedOptions {
  /** Bytes of the card; read from the device or file when not given. */
  length?: number;
  /** Alignment of the copied ranges (default 64 KiB: fewer, longer reads). */
  align?: number;
  /** Also copy unpartitioned space after the last partition. */
  keepTrailing?: boolean;
  /**
   * Also make the partclone image of one partition's ext file system from the blocks as they are
   * read (rawio/used-blocks/partclone-image.ts), into `out`, which is ended when the image is complete. When
   * the partition cannot be imaged so (not ext, or its maps not trusted) `out` is ended at once,
   * empty, and the reason is in the result; the copy goes on either way.
   */
  partclone?: { partition: number; version: string; out: Writable };
}

export interface PartcloneOutcome {
  /** Bytes of the image written to `out`; 0 when it was not made. */
  bytes: number;
  /** Why the image was not made. */
  refused?: string;
}

export interface ReadUsedResult {
  /** Size of the copy (the card's size). */
  bytes: number;
  /** Bytes read from the card. */
  mappedBytes: number;
  /** The ranges that were copied: the data extents of the copy, for a .bmap or a mapped write. */
  ranges: ByteRange[];
  /** One line per partition copied in full, with the reason. */
  fallbacks: string[];
  notes: string[];
  map: CardMap;
  partclone?: PartcloneOutcome;
}

function refusal(map: CardMap, index: number): string | undefined {
  const p = map.partitions.find((x) => x.index === index);
  if (!p) return `the card has no partition ${index}`;
  if (p.fallback) return p.fallback;
  if (!p.ext) return `partition ${index} holds ${p.fs}, not an ext file system`;
  // The image starts once everything before the partition is copied: whoever reads it may then use
  // the other partitions at once, so they must all lie before it.
  const after = map.partitions.find((x) => x !== p && x.length > 0 && x.start + x.length > p.start);
  if (after) return `partition ${after.index} does not lie before partition ${index} on the card`;
  return undefined;
}

/**
 * The copy failed because the image's reader stopped taking it (the builder's script ended): the
 * script's own failure is the cause. The message says so across the raw-disk helper's protocol too.
 */
export const READER_GONE = 'the builder stopped taking the partition image';

function readerGone(detail?: string): AtlasError {
  return new AtlasError('tool-failed', `${READER_GONE}${detail ? `: ${detail}` : ''}`);
}

/** True for the copy's failure when the image's reader had stopped first (see READER_GONE). */
export function isReaderGone(e: unknown): boolean {
  return e instanceof AtlasError && e.code === 'tool-failed' && e.message.startsWith(READER_GONE);
}

/**
 * Resolves when `out` takes more, or will never again (closed, failed: the next write says so), or
 * the job is cancelled (the copy then stops at its next piece).
 */
function drained(out: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      out.off('drain', settle);
      out.off('close', settle);
      out.off('error', settle);
      signal.removeEventListener('abort', settle);
      resolve();
    };
    out.on('drain', settle);
    out.on('close', settle);
    out.on('error', settle);
    signal.addEventListener('abort', settle, { once: true });
    if (signal.aborted) settle();
  });
}

/**
 * Writes a partclone image to its stream as the copy reads, waiting while the reader is behind. Its
 * first bytes go out with the partition's first block: by then everything before the partition (the
 * table, the boot partition) is in the copy, so whoever reads the image may use those already.
 */
class ImageOut {
  bytes = 0;
  private failed: Error | undefined;
  private started = false;

  constructor(
    private readonly out: Writable,
    readonly image: PartcloneExtImage,
    readonly start: number,
    private readonly signal: AbortSignal,
  ) {
    out.on('error', (e) => (this.failed ??= e));
  }

  async write(parts: Buffer[]): Promise<void> {
    if (this.failed || this.out.destroyed) throw readerGone(this.failed?.message);
    let ok = true;
    for (const p of parts) {
      ok = this.out.write(p);
      this.bytes += p.length;
    }
    if (!ok) await drained(this.out, this.signal);
  }

  /** Bytes of the partition (`offset` from its start), in increasing order. */
  async add(offset: number, data: Buffer): Promise<void> {
    await this.begin();
    await this.write(this.image.data(offset, data));
  }

  private async begin(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.write(this.image.head());
  }

  async end(): Promise<void> {
    await this.begin();
    await this.write(this.image.end());
    this.out.end();
    await finished(this.out, { readable: false }).catch((e: Error) => {
      throw readerGone(e.message);
    });
  }
}

export async function readUsedToSparseFile(
  sourcePath: string,
  destPath: string,
  ctx: JobContext,
  opts: ReadUsedOptions = {},
): Promise<ReadUsedResult> {
  const size = opts.length ?? (await identifyCard(sourcePath)).bytes;
  const source = await open(sourcePath, 'r');
  try {
    const dest = await open(destPath, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      throw new AtlasError(
        'exists',
        `${destPath} already exists`,
        'choose another name, or delete the old copy first',
      );
    });
    try {
      const r = await copyUsedBetween(source, size, dest, ctx, opts);
      await dest.close();
      return r;
    } catch (err) {
      await dest.close().catch(() => undefined);
      await rm(destPath, { force: true });
      throw err;
    }
  } finally {
    await source.close();
  }
}

/**
 * The copy itself, between two open files: `dest` (new and empty) becomes a sparse image of the
 * card's full size holding the mapped ranges. Used by the raw-disk helper, which opens both ends
 * itself.
 */
export async function copyUsedBetween(
  source: FileHandle,
  size: number,
  dest: FileHandle,
  ctx: JobContext,
  opts: ReadUsedOptions = {},
): Promise<ReadUsedResult> {
  // Failures are read from the copy's own error, whenever they happen (before the image started too).
  opts.partclone?.out.on('error', () => undefined);
  try {
    return await copyUsed(source, size, dest, ctx, opts);
  } catch (e) {
    // A partition image cut short must not look complete to whoever reads it: it ends in an error.
    opts.partclone?.out.destroy(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}

async function copyUsed(
  source: FileHandle,
  size: number,
  dest: FileHandle,
  ctx: JobContext,
  opts: ReadUsedOptions,
): Promise<ReadUsedResult> {
  ctx.step('map-used', 'Reading the partition table and file system maps');
  const map = await mapCard(handleReader(source, size), {
    align: opts.align ?? 64 * 1024,
    keepTrailing: opts.keepTrailing ?? false,
  });
  for (const p of map.partitions) {
    ctx.log(
      p.fallback ??
        `partition ${p.index}: ${p.fs}, ${p.mappedBytes} of ${p.length} bytes in use${p.details ? ` (${p.details})` : ''}`,
    );
  }
  for (const n of map.notes) ctx.log(n);
  ctx.throwIfCancelled();

  let image: ImageOut | undefined;
  let partclone: PartcloneOutcome | undefined;
  if (opts.partclone) {
    const { partition, version, out } = opts.partclone;
    const p = map.partitions.find((x) => x.index === partition);
    const refused = refusal(map, partition);
    if (refused || !p?.ext) {
      partclone = { bytes: 0, refused: refused ?? '' };
      ctx.log(`the partclone image of partition ${partition} is made after the copy: ${refused}`);
      out.end();
    } else {
      image = new ImageOut(
        out,
        new PartcloneExtImage(p.ext.blocks, p.ext.used, version),
        p.start,
        ctx.signal,
      );
    }
  }

  ctx.step(
    'read-used',
    image
      ? `Copying the used blocks of the card, cloning partition ${opts.partclone!.partition} from them`
      : 'Copying the used blocks of the card',
    map.mappedBytes,
  );
  await dest.truncate(size);
  // Pieces handed to the image's stream are still queued when the next one is read: a fresh one each.
  const shared = Buffer.alloc(CHUNK);
  let done = 0;
  for (const piece of chunks(map.ranges, CHUNK)) {
    if (ctx.signal.aborted) throw new CancelledError('the used-block copy');
    const len = piece.end - piece.start;
    const view = image ? Buffer.allocUnsafe(len) : shared.subarray(0, len);
    const got = await readExactly(source, view, piece.start);
    if (got < len) {
      throw new AtlasError(
        'card-changed',
        `the card ended at byte ${piece.start + got}; it was ${size} bytes when the copy started`,
        'was the card removed? insert it again and start the copy again',
      );
    }
    if (!isZero(view)) await writeAll(dest, view, piece.start);
    if (image) {
      const { start } = image;
      const end = start + image.image.fs.blockSize * image.image.fs.totalBlocks;
      const a = Math.max(piece.start, start);
      const b = Math.min(piece.end, end);
      if (b > a) await image.add(a - start, view.subarray(a - piece.start, b - piece.start));
    }
    done += len;
    ctx.progress(done, map.mappedBytes);
  }
  if (image) {
    await image.end();
    partclone = { bytes: image.bytes };
  }
  await dest.sync();
  return {
    bytes: size,
    mappedBytes: map.mappedBytes,
    ranges: map.ranges,
    fallbacks: map.fallbacks,
    notes: map.notes,
    map,
    ...(partclone ? { partclone } : {}),
  };
}
