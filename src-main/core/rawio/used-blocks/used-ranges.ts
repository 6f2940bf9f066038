/**
 * The card-level map of what must be copied: every byte outside the partitions (boot loaders,
 * gaps, the partition table, both GPT copies), plus, in each partition, what its file system
 * uses. A partition whose file system is unknown or fails its checks is mapped in full, with the
 * reason in `fallbacks`. Free space after the last partition (a card larger than its table
 * describes) is left out unless `keepTrailing`; the table's own areas there (the backup GPT)
 * always count. Ranges are widened to `align` bytes and merged.
 */
import type { ByteReader } from './byte-reader.js';
import { windowReader } from './byte-reader.js';
import { alignRanges, gapsIn, mergeRanges, shiftRanges, totalBytes, type ByteRange } from './byte-ranges.js';
import { looksLikeExt, mapExt4 } from './ext4-map.js';
import { looksLikeFat, mapFat } from './fat-map.js';
import type { FsUsedMap } from './fs-map.js';
import type { ExtBlocks } from './partclone-image.js';
import { UsedMapError } from './map-error.js';
import { readPartitionTable, type PartitionTable } from './partition-table.js';

export interface PartitionMap {
  index: number;
  start: number;
  length: number;
  type: string;
  /** 'ext4', 'fat32'… or 'unknown'. */
  fs: string;
  /** Bytes mapped inside the partition (before alignment). */
  mappedBytes: number;
  details?: string;
  /** Why the partition is copied in full. */
  fallback?: string;
  /** The fallback's reason is damage (see UsedMapError.damaged), not a feature the map lacks. */
  damaged?: boolean;
  /** A mapped ext2/3/4 file system: its geometry and used blocks (relative to the partition). */
  ext?: { blocks: ExtBlocks; used: ByteRange[] };
}

export interface CardMap {
  size: number;
  scheme: PartitionTable['scheme'];
  partitions: PartitionMap[];
  /** Sorted, merged, aligned byte ranges on the card. */
  ranges: ByteRange[];
  mappedBytes: number;
  fallbacks: string[];
  notes: string[];
}

export interface CardMapOptions {
  /** 4096 (default) or 65536: larger units mean fewer, longer reads from a slow card. */
  align?: number;
  /** Also copy unpartitioned space after the last partition. */
  keepTrailing?: boolean;
}

/** Maps the file system at the start of `reader`, whichever known kind it is. */
export async function mapFileSystem(reader: ByteReader): Promise<FsUsedMap> {
  if (await looksLikeExt(reader)) return mapExt4(reader);
  if (await looksLikeFat(reader)) return mapFat(reader);
  throw new UsedMapError('partition', 'no ext2/3/4 or FAT file system was recognised');
}

function describe(index: number, type: string): string {
  return index === 0 ? 'the card (no partition table)' : `partition ${index} (type ${type})`;
}

async function mapOne(reader: ByteReader, p: PartitionMap): Promise<ByteRange[]> {
  const whole = [{ start: p.start, end: p.start + p.length }];
  if (p.length === 0) return [];
  try {
    const m = await mapFileSystem(windowReader(reader, p.start, p.length));
    p.fs = m.fs;
    p.details = m.details;
    p.mappedBytes = m.usedBytes;
    if (m.ext) p.ext = { blocks: m.ext, used: m.ranges };
    return shiftRanges(m.ranges, p.start);
  } catch (err) {
    if (!(err instanceof UsedMapError)) throw err;
    p.fallback = `${describe(p.index, p.type)}: ${err.message}; copied in full`;
    if (err.damaged && err.what !== 'partition') p.damaged = true;
    p.mappedBytes = p.length;
    return whole;
  }
}

export async function mapCard(reader: ByteReader, opts: CardMapOptions = {}): Promise<CardMap> {
  const align = opts.align ?? 4096;
  if (!Number.isInteger(align) || align < 512 || (align & (align - 1)) !== 0) {
    throw new RangeError(`alignment must be a power of two of at least 512, not ${align}`);
  }
  const size = reader.size;
  const notes: string[] = [];
  let table: PartitionTable;
  try {
    table = await readPartitionTable(reader);
  } catch (err) {
    if (!(err instanceof UsedMapError)) throw err;
    const map: CardMap = {
      size,
      scheme: 'none',
      partitions: [],
      ranges: size ? [{ start: 0, end: size }] : [],
      mappedBytes: size,
      fallbacks: [`the partition table: ${err.message}; the whole card is copied`],
      notes,
    };
    return map;
  }
  notes.push(...table.notes);

  const parts: PartitionMap[] =
    table.scheme === 'none'
      ? [{ index: 0, start: 0, length: size, type: 'none', fs: 'unknown', mappedBytes: 0 }]
      : table.partitions.map((p) => ({ ...p, fs: 'unknown', mappedBytes: 0 }));

  const ranges: ByteRange[] = [];
  for (const p of parts) {
    if (p.start >= size) {
      notes.push(`${describe(p.index, p.type)} starts past the end of the card; nothing of it was copied`);
      p.length = 0;
      continue;
    }
    if (p.start + p.length > size) {
      notes.push(
        `${describe(p.index, p.type)} runs ${p.start + p.length - size} bytes past the end of the card`,
      );
      p.length = size - p.start;
    }
    ranges.push(...(await mapOne(reader, p)));
  }

  // Outside the partitions: everything up to the end of the last one (or of the card).
  const covered = mergeRanges(parts.map((p) => ({ start: p.start, end: p.start + p.length })));
  const lastEnd = covered.length ? covered[covered.length - 1]!.end : 0;
  const outsideEnd = opts.keepTrailing || table.scheme === 'none' ? size : lastEnd;
  ranges.push(...gapsIn(0, outsideEnd, covered));
  ranges.push(...table.tableAreas);
  if (outsideEnd < size) {
    notes.push(
      `${size - outsideEnd} bytes after the last partition are not part of any partition and were left out`,
    );
  }

  const aligned = alignRanges(ranges, align, size);
  return {
    size,
    scheme: table.scheme,
    partitions: parts,
    ranges: aligned,
    mappedBytes: totalBytes(aligned),
    fallbacks: parts.flatMap((p) => (p.fallback ? [p.fallback] : [])),
    notes,
  };
}
