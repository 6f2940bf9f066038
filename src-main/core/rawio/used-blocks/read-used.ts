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
import { identifyCard } from '../../cards/card.js';
import { isZero } from './zero-block.js';
import { AtlasError, CancelledError } from '../../errors.js';
import { readExactly, writeAll } from '../../file-io.js';
import type { JobContext } from '../../jobs/job.js';
import { handleReader } from './byte-reader.js';
import { chunks, type ByteRange } from './byte-ranges.js';
import { mapCard, type CardMap } from './used-ranges.js';

const CHUNK = 1024 * 1024;

export interface ReadUsedOptions {
  /** Bytes of the card; read from the device or file when not given. */
  length?: number;
  /** Alignment of the copied ranges (default 64 KiB: fewer, longer reads). */
  align?: number;
  /** Also copy unpartitioned space after the last partition. */
  keepTrailing?: boolean;
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

  ctx.step('read-used', 'Copying the used blocks of the card', map.mappedBytes);
  await dest.truncate(size);
  const buf = Buffer.alloc(CHUNK);
  let done = 0;
  for (const piece of chunks(map.ranges, CHUNK)) {
    if (ctx.signal.aborted) throw new CancelledError('the used-block copy');
    const len = piece.end - piece.start;
    const view = buf.subarray(0, len);
    const got = await readExactly(source, view, piece.start);
    if (got < len) {
      throw new AtlasError(
        'card-changed',
        `the card ended at byte ${piece.start + got}; it was ${size} bytes when the copy started`,
        'was the card removed? insert it again and start the copy again',
      );
    }
    if (!isZero(view)) await writeAll(dest, view, piece.start);
    done += len;
    ctx.progress(done, map.mappedBytes);
  }
  await dest.sync();
  return {
    bytes: size,
    mappedBytes: map.mappedBytes,
    ranges: map.ranges,
    fallbacks: map.fallbacks,
    notes: map.notes,
    map,
  };
}
