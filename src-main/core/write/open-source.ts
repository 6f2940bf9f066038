/**
 * Opens an image for writing onto a card: plain, .xz, .gz or .zst; a plain image with its block
 * map (the .bmap beside it, else the used blocks of its partitions, unless asked to write it whole);
 * a compressed one by the .bmap beside it when there is one (X.img.zst.bmap or X.img.bmap, as
 * bmaptool finds it), else whole.
 * Before anything is written the image's own partition table is read and checked: an image whose
 * table points past its end (a truncated download or a damaged image) is refused here. The table's
 * partitions are kept: their starts are where the card's old file systems are made invalid.
 * Runs with the user's own rights; the raw-disk helper never maps an image.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { AtlasError, toAtlasError } from '../errors.js';
import { cardPlatform } from '../cards/platform/index.js';
import {
  decompressFrom,
  detectCompressionOf,
  uncompressedSize,
  type Compression,
} from '../images/compression.js';
import { bmapByteRanges, readBmap, type Bmap } from '../rawio/bmap.js';
import { imageSidecars } from '../naming.js';
import { handleReader, type ByteReader } from '../rawio/used-blocks/byte-reader.js';
import { gapsIn, mergeRanges, totalBytes, type ByteRange } from '../rawio/used-blocks/byte-ranges.js';
import { checkImageGeometry } from '../rawio/used-blocks/image-geometry.js';
import type { PartitionTable } from '../rawio/used-blocks/partition-table.js';
import { mapCard } from '../rawio/used-blocks/used-ranges.js';
import { piLayoutProblem } from './pi-layout.js';
import { imageStream } from './run-plan.js';
import { CHECKSUM_TYPES, TABLE_BYTES, type ChecksumType, type MappedRange } from './write-plan.js';

export interface WriteSource {
  /** Absolute path of the image file, as given (messages, the block map beside it). */
  path: string;
  /** The image, opened once (a regular file, not through a link): every read goes through it. */
  handle: FileHandle;
  compression: Compression;
  /** Bytes of the (decompressed) image, when known before reading it. */
  bytes: number | undefined;
  /** 'bmap': the .bmap beside the image; 'used-blocks': the image's own map; 'stream': whole image.
   * A compressed image in 'bmap' mode is still read as one stream, only its ranges are written. */
  mode: 'bmap' | 'used-blocks' | 'stream';
  /** What is copied, for a mapped write. */
  ranges?: MappedRange[];
  checksumType?: ChecksumType;
  /** The partitions of the image's table (byte offsets). */
  partitions: Array<{ start: number; length: number }>;
  /** The image must be at least this long (the end of its last partition). */
  minBytes: number;
  /** Partitions written in full (their file system could not be mapped). */
  fallbacks: string[];
  /** Why this is not a Raspberry Pi card image (pi-layout.ts); undefined when it is one. */
  layoutProblem?: string;
}

export interface OpenSourceOptions {
  /** Write a plain image by its block map (default true); false: whole. */
  map?: boolean;
  log?: (line: string) => void;
}

/** Bytes a write copies: the mapped ranges, or the whole image. */
export function sourceBytes(source: WriteSource): number {
  return source.ranges ? totalBytes(source.ranges) : (source.bytes ?? 0);
}

function truncated(path: string, message: string): AtlasError {
  return new AtlasError(
    'bad-input',
    `${basename(path)} is truncated or damaged: ${message}`,
    'nothing was written: download or copy the image again (compare its checksum), then flash it',
  );
}

/**
 * The partition table of an image, checked against the image's size (when known) by the one
 * geometry check (used-blocks/image-geometry.ts): every partition must end inside the image.
 * `reader` may be short (a compressed image's first MiB). Reworded for a write: nothing was written.
 */
async function checkedTable(
  path: string,
  reader: ByteReader,
  bytes: number | undefined,
): Promise<PartitionTable> {
  try {
    return await checkImageGeometry(reader, bytes ?? reader.size);
  } catch (e) {
    if (e instanceof AtlasError && e.code === 'bad-input') throw truncated(path, e.message);
    throw e;
  }
}

/** The first MiB of a compressed image, decompressed (the decompressor is stopped after it). */
async function compressedHead(
  fh: FileHandle,
  path: string,
  compression: Exclude<Compression, 'none'>,
): Promise<Buffer> {
  const d = decompressFrom(imageStream({ path, handle: fh }), compression, basename(path));
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of d.stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      got += chunk.length;
      if (got >= TABLE_BYTES) break;
    }
  } finally {
    d.kill();
    d.stream.destroy();
  }
  if (got < TABLE_BYTES) await d.done; // a short stream: a corrupt file says so here
  return Buffer.concat(parts).subarray(0, TABLE_BYTES);
}

/** Reads the head of an image; anything after it reads as zeros (a backup GPT is not needed). */
function headReader(head: Buffer, size: number): ByteReader {
  return {
    size,
    read: async (offset, length) => {
      const out = Buffer.alloc(length);
      if (offset < head.length) head.copy(out, 0, offset, Math.min(head.length, offset + length));
      return out;
    },
  };
}

const layoutOf = (t: PartitionTable, head: Buffer): Pick<WriteSource, 'layoutProblem'> => {
  const problem = piLayoutProblem(t, head);
  return problem ? { layoutProblem: problem } : {};
};
const partitionsOf = (t: PartitionTable) => t.partitions.map((p) => ({ start: p.start, length: p.length }));
const endOf = (t: PartitionTable) => Math.max(0, ...t.partitions.map((p) => p.start + p.length));

const isFile = (p: string) =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

/** The block map beside an image: NAME.bmap, else (compressed) the image's own name's .bmap. */
async function bmapBeside(path: string): Promise<string | undefined> {
  for (const p of new Set([`${path}.bmap`, imageSidecars(path).bmap])) if (await isFile(p)) return p;
  return undefined;
}

/** A block map's ranges as a write copies them, with their checksums when we can check them. */
function rangesOf(
  bmap: Bmap,
  bmapPath: string,
  log: (l: string) => void,
): { ranges: MappedRange[]; checksumType?: ChecksumType } {
  const type = bmap.checksumType as ChecksumType | undefined;
  const checked = type !== undefined && CHECKSUM_TYPES.includes(type);
  if (type !== undefined && !checked) log(`${basename(bmapPath)}: ${type} checksums are not checked`);
  const bytesOf = bmapByteRanges(bmap);
  const ranges = bmap.ranges.map((r, i) => ({
    ...bytesOf[i]!,
    ...(checked && r.checksum ? { checksum: r.checksum } : {}),
  }));
  return { ranges, ...(checked ? { checksumType: type } : {}) };
}

/**
 * A downloaded block map is not trusted to cover the image: a map that leaves out the partition
 * table or the file systems' metadata would write a card without them and still read back as
 * "verified". A plain image's map is merged with the image's own map of its used blocks (table
 * areas, every partition's metadata and files): what the block map leaves out is written too, and
 * read back with the rest.
 */
function withOwnMap(
  mapped: MappedRange[],
  own: readonly ByteRange[],
  bmapPath: string,
  log: (l: string) => void,
): MappedRange[] {
  const covered = mergeRanges(mapped);
  const missing = own.flatMap((r) => gapsIn(r.start, r.end, covered));
  if (missing.length === 0) return mapped;
  log(
    `${basename(bmapPath)} leaves out ${totalBytes(missing)} bytes the image's partitions use (table, file system metadata or files): they are written and read back too`,
  );
  return [...mapped, ...missing].sort((a, b) => a.start - b.start);
}

/**
 * The least a compressed image's block map must cover (its blocks that hold data in the image's
 * first MiB, where the table is, and the first 4 KiB of every partition: its boot sector or
 * superblock), or why it does not.
 */
function mapLeavesOut(
  ranges: readonly ByteRange[],
  head: Buffer,
  partitions: ReadonlyArray<{ start: number; length: number }>,
): string | undefined {
  const covered = mergeRanges(ranges);
  const block = 4096;
  for (let at = 0; at < head.length; at += block) {
    const data = head.subarray(at, at + block);
    if (data.some((b) => b !== 0) && gapsIn(at, at + data.length, covered).length > 0)
      return `it leaves out bytes ${at}-${at + data.length} of the partition table area`;
  }
  for (const [i, p] of partitions.entries()) {
    const end = p.start + Math.min(block, p.length);
    if (gapsIn(p.start, end, covered).length > 0)
      return `it leaves out the start of partition ${i + 1} (its boot sector or superblock, at byte ${p.start})`;
  }
  return undefined;
}

/**
 * Opens the image once: never through a link (O_NOFOLLOW), never waiting on a pipe or device
 * (O_NONBLOCK), and only a regular file. Planning, writing and reading back all go through this
 * descriptor, so nothing swapped in at the path afterwards is read.
 */
async function openImage(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AtlasError('not-found', `no image at ${path}`);
    if (code === 'ELOOP' || code === 'EMLINK')
      throw new AtlasError(
        'bad-input',
        `${path} is a symbolic link, not an image`,
        "give the path of the image file itself (the link's target), then flash it",
      );
    throw toAtlasError(e);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new AtlasError(
      'bad-input',
      `${path} is not a regular file (a pipe, a device or a folder cannot be flashed as an image)`,
      'give the path of an image file (.img, .img.xz, .img.gz or .img.zst)',
    );
  }
  return { fh, size: st.size };
}

/** Closes the image a WriteSource holds open. */
export async function closeSource(source: WriteSource): Promise<void> {
  await source.handle.close().catch(() => undefined);
}

/** A path through which a tool this process starts reads the open image (Linux), else its path. */
const toolPath = (fh: FileHandle, path: string): string =>
  cardPlatform().toolsOpenFdPath ? cardPlatform().fdPath(fh.fd) : path;

/** Opens an image for writing (see the top of this file); closeSource when done with it. */
export async function openSource(image: string, opts: OpenSourceOptions = {}): Promise<WriteSource> {
  const path = resolve(image);
  const { fh, size } = await openImage(path);
  try {
    return await describeSource(path, fh, size, opts);
  } catch (e) {
    await fh.close();
    throw e;
  }
}

async function describeSource(
  path: string,
  fh: FileHandle,
  size: number,
  opts: OpenSourceOptions,
): Promise<WriteSource> {
  const log = opts.log ?? (() => undefined);
  const compression = await detectCompressionOf(fh);
  if (compression !== 'none') {
    const recorded = await uncompressedSize(toolPath(fh, path), compression, path);
    const bmapPath = opts.map === false ? undefined : await bmapBeside(path);
    const bmap = bmapPath ? await readBmap(bmapPath) : undefined;
    // A map for another size belongs to another image; a gzip's size is not recorded: the map's
    // is taken, and the stream must end there.
    const fits = bmap !== undefined && (recorded === undefined || recorded === bmap.imageSize);
    if (bmap && !fits) log(`${basename(bmapPath!)} does not match the image size: writing the image whole`);
    const bytes = fits ? bmap.imageSize : recorded;
    const head = await compressedHead(fh, path, compression);
    const table = await checkedTable(path, headReader(head, bytes ?? Number.MAX_SAFE_INTEGER), bytes);
    const base = {
      path,
      handle: fh,
      compression,
      bytes,
      partitions: partitionsOf(table),
      minBytes: endOf(table),
      fallbacks: [] as string[],
      ...layoutOf(table, head),
    };
    if (fits) {
      const mapped = rangesOf(bmap, bmapPath!, log);
      const short = mapLeavesOut(mapped.ranges, head, base.partitions);
      if (short === undefined) return { ...base, mode: 'bmap', ...mapped };
      log(`${basename(bmapPath!)} is not a map of this image (${short}): writing the image whole`);
    }
    return { ...base, mode: 'stream' };
  }
  const reader = handleReader(fh, size);
  const table = await checkedTable(path, reader, size);
  const base = {
    path,
    handle: fh,
    compression,
    bytes: size,
    partitions: partitionsOf(table),
    minBytes: endOf(table),
    fallbacks: [] as string[],
    ...layoutOf(table, await reader.read(0, Math.min(512, size))),
  };
  if (opts.map === false) return { ...base, mode: 'stream' };
  const bmapPath = `${path}.bmap`;
  let bmap: Bmap | undefined;
  if (await isFile(bmapPath)) {
    bmap = await readBmap(bmapPath);
    if (bmap.imageSize !== size) {
      log(`${basename(bmapPath)} does not match the image size: using the image's own map`);
      bmap = undefined;
    }
  }
  const map = await mapCard(reader, { align: 64 * 1024, keepTrailing: true });
  for (const f of map.fallbacks) log(`written in full: ${f}`);
  if (bmap) {
    const mapped = rangesOf(bmap, bmapPath, log);
    const ranges = withOwnMap(mapped.ranges, map.ranges, bmapPath, log);
    return { ...base, mode: 'bmap', ...mapped, ranges, fallbacks: map.fallbacks };
  }
  return { ...base, mode: 'used-blocks', ranges: map.ranges, fallbacks: map.fallbacks };
}
