/**
 * Block maps in bmaptool's format (XML, version 2.0): which 4 KiB blocks of an image carry data,
 * with a sha256 per range and a checksum of the file itself. Shrink writes one beside every image,
 * so `bmaptool copy --bmap X.bmap X.img /dev/sdX` and our own flash write only the mapped ranges.
 *
 * Where the map comes from:
 *  - 'card-map' (default): the image's partition table and file system maps (used-ranges). Used
 *    blocks that hold zeros are mapped too: on a reused card they must be overwritten.
 *  - 'nonzero-scan': 1 MiB blocks that are not all zeros, for images nothing is known about. Only
 *    safe onto a zeroed target: zero blocks the file system relies on are not written.
 *  - explicit byte ranges.
 *
 * A card is written by its block map through the one write pipeline (src-main/core/write/): only
 * the mapped ranges, each range's checksum checked as it is read, the table areas last.
 */
import { createHash, getHashes } from 'node:crypto';
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { AtlasError, CancelledError } from '../errors.js';
import { readExactly } from '../file-io.js';
import { opensslSha256 } from '../tools/openssl-digest.js';
import { commandExists } from '../tools/tie.js';
import { dataExtents, type DataExtent } from '../tools/file-extents.js';
import type { JobContext } from '../jobs/job.js';
import { handleReader } from './used-blocks/byte-reader.js';
import { alignRanges, chunks, mergeRanges, totalBytes, type ByteRange } from './used-blocks/byte-ranges.js';
import { mapCard, type CardMap } from './used-blocks/used-ranges.js';

export const BMAP_BLOCK = 4096;
export const BMAP_VERSION = '2.0';
const IO = 1024 * 1024;
/** Pieces read for hashing: larger, fewer round trips to the thread pool. */
const HASH_IO = 4 * IO;

export interface BmapRange {
  /** First and last block, inclusive, as in the file. */
  first: number;
  last: number;
  checksum?: string;
}

export interface Bmap {
  version: string;
  imageSize: number;
  blockSize: number;
  blocksCount: number;
  mappedBlocksCount: number;
  /** 'sha256' for what we write; whatever node:crypto knows when reading. */
  checksumType?: string;
  ranges: BmapRange[];
}

export type BmapSource = 'card-map' | 'nonzero-scan' | { ranges: ByteRange[] };

function badBmap(message: string): never {
  throw new AtlasError(
    'bad-input',
    `invalid block map: ${message}`,
    'make the .bmap again from the image (or flash without it)',
  );
}

function humanSize(n: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let unit = 'bytes';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit === 'bytes' ? `${n} bytes` : `${v.toFixed(1)} ${unit}`;
}

/** Byte ranges of a block map, clamped to the image size. */
export function bmapByteRanges(bmap: Bmap): ByteRange[] {
  return bmap.ranges.map((r) => ({
    start: r.first * bmap.blockSize,
    end: Math.min(bmap.imageSize, (r.last + 1) * bmap.blockSize),
  }));
}

function toBlocks(ranges: readonly ByteRange[], imageSize: number): Array<{ first: number; last: number }> {
  return alignRanges(ranges, BMAP_BLOCK, Math.ceil(imageSize / BMAP_BLOCK) * BMAP_BLOCK).map((r) => ({
    first: r.start / BMAP_BLOCK,
    last: r.end / BMAP_BLOCK - 1,
  }));
}

/** The XML text of a block map; BmapFileChecksum is computed over the text with 64 zeros in it. */
export function renderBmap(bmap: Bmap, imageName = 'the image'): string {
  const type = bmap.checksumType ?? 'sha256';
  const zero = '0'.repeat(createHash(type).digest('hex').length);
  const mappedBytes = bmap.mappedBlocksCount * bmap.blockSize;
  const percent = bmap.blocksCount ? ((bmap.mappedBlocksCount * 100) / bmap.blocksCount).toFixed(1) : '0.0';
  const lines = [
    '<?xml version="1.0" ?>',
    `<!-- Block map of ${imageName.replace(/-(?=-)/g, '- ')}, written by Atlas Imager.`,
    '     Only the block ranges listed in BlockMap carry data (partition tables, file system',
    '     metadata, files); the other blocks are free space and need not be written to a card.',
    '     bmaptool reads it too: give it to bmaptool copy as the bmap of the image. -->',
    '',
    `<bmap version="${bmap.version}">`,
    `    <!-- Image size in bytes: ${humanSize(bmap.imageSize)} -->`,
    `    <ImageSize> ${bmap.imageSize} </ImageSize>`,
    '',
    '    <!-- Size of a block in bytes -->',
    `    <BlockSize> ${bmap.blockSize} </BlockSize>`,
    '',
    '    <!-- Count of blocks in the image file -->',
    `    <BlocksCount> ${bmap.blocksCount} </BlocksCount>`,
    '',
    `    <!-- Count of mapped blocks: ${humanSize(mappedBytes)} or ${percent}% -->`,
    `    <MappedBlocksCount> ${bmap.mappedBlocksCount} </MappedBlocksCount>`,
    '',
    '    <!-- Type of checksum used in this file -->',
    `    <ChecksumType> ${type} </ChecksumType>`,
    '',
    '    <!-- Checksum of this file, computed while this value was all zeros -->',
    `    <BmapFileChecksum> ${zero} </BmapFileChecksum>`,
    '',
    '    <!-- Mapped block ranges, first-last inclusive, with the checksum of their bytes -->',
    '    <BlockMap>',
    ...bmap.ranges.map((r) => {
      const attr = r.checksum ? ` chksum="${r.checksum}"` : '';
      const span = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
      return `        <Range${attr}> ${span} </Range>`;
    }),
    '    </BlockMap>',
    '</bmap>',
    '',
  ];
  const text = lines.join('\n');
  const sum = createHash(type).update(text).digest('hex');
  return text.replace(
    `<BmapFileChecksum> ${zero} </BmapFileChecksum>`,
    `<BmapFileChecksum> ${sum} </BmapFileChecksum>`,
  );
}

/*
 * A block map comes with a download and is hostile input: every pattern below runs in time linear
 * in the text (no nested or overlapping repetition), and the file's size is capped before it is read.
 */

/** The largest block map read: a map of a fragmented 2 TB card is a few MiB. */
export const MAX_BMAP_BYTES = 16 * 1024 * 1024;

/** The text of the first `<name>…</name>` element, white space trimmed. */
function element(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1]?.trim();
}

/** The text without its XML comments (an unclosed comment runs to the end). */
function withoutComments(text: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const open = text.indexOf('<!--', at);
    if (open < 0) return out + text.slice(at);
    out += text.slice(at, open);
    const close = text.indexOf('-->', open + 4);
    if (close < 0) return out;
    at = close + 3;
  }
}

function intElement(xml: string, name: string): number {
  const v = element(xml, name);
  if (v === undefined || !/^\d{1,15}$/.test(v)) badBmap(`<${name}> is missing or not a number`);
  return Number(v);
}

/** Parses and checks a block map: its own checksum, the counts and the ranges. */
export function parseBmap(text: string): Bmap {
  const xml = withoutComments(text);
  const version = /<bmap\s+version\s*=\s*"(\d+)\.(\d+)"\s*>/.exec(xml);
  if (!version) badBmap('no <bmap version="…"> element');
  const major = Number(version[1]);
  const minor = Number(version[2]);
  if (major > 2) badBmap(`format version ${major}.${minor} is newer than 2.x`);
  // Version 1.3 used sha1 under other names; 1.4 and 2.x name the type.
  const modern = major >= 2 || (major === 1 && minor >= 4);
  const legacySha1 = major === 1 && minor === 3;
  const checksumType = modern ? element(xml, 'ChecksumType')?.toLowerCase() : legacySha1 ? 'sha1' : undefined;
  const attrName = modern ? 'chksum' : 'sha1';
  if ((modern || legacySha1) && (!checksumType || !getHashes().includes(checksumType))) {
    badBmap(`unknown checksum type ${JSON.stringify(checksumType)}`);
  }

  if (checksumType) {
    const tag = modern ? 'BmapFileChecksum' : 'BmapFileSHA1';
    const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text);
    const given = m?.[1]!.trim();
    if (!m || !given || !/^[0-9a-fA-F]+$/.test(given)) badBmap(`<${tag}> is missing`);
    // The checksum is of the file with its own value written as zeros.
    const at = m.index + tag.length + 2 + m[1]!.indexOf(given);
    const zeroed = text.slice(0, at) + '0'.repeat(given.length) + text.slice(at + given.length);
    const sum = createHash(checksumType).update(zeroed).digest('hex');
    if (sum !== given.toLowerCase()) badBmap(`its own checksum is wrong (the file was changed or damaged)`);
  }

  const bmap: Bmap = {
    version: `${major}.${minor}`,
    imageSize: intElement(xml, 'ImageSize'),
    blockSize: intElement(xml, 'BlockSize'),
    blocksCount: intElement(xml, 'BlocksCount'),
    mappedBlocksCount: intElement(xml, 'MappedBlocksCount'),
    ...(checksumType ? { checksumType } : {}),
    ranges: [],
  };
  if (bmap.blockSize === 0) badBmap('the block size is 0');
  if (bmap.blocksCount !== Math.ceil(bmap.imageSize / bmap.blockSize)) {
    badBmap(
      `${bmap.blocksCount} blocks of ${bmap.blockSize} bytes do not make an image of ${bmap.imageSize} bytes`,
    );
  }
  const hexLen = checksumType ? createHash(checksumType).digest('hex').length : 0;
  const rangeRe = /<Range([^<>]*)>([^<]*)<\/Range>/g;
  let mapped = 0;
  let next = 0;
  for (const m of xml.matchAll(rangeRe)) {
    const span = /^\s*(\d{1,15})\s*(?:-\s*(\d{1,15})\s*)?$/.exec(m[2]!);
    if (!span)
      badBmap(`a range is not "first-last" or "block": ${JSON.stringify(m[2]!.trim().slice(0, 40))}`);
    const first = Number(span[1]);
    const last = span[2] === undefined ? first : Number(span[2]);
    if (last < first) badBmap(`range ${first}-${last} ends before it starts`);
    if (first < next) badBmap(`range ${first}-${last} overlaps or is out of order`);
    if (last >= bmap.blocksCount) badBmap(`range ${first}-${last} is past the end of the image`);
    const attr = new RegExp(`${attrName}\\s*=\\s*"([0-9a-fA-F]*)"`).exec(m[1]!)?.[1];
    if (attr !== undefined && attr.length !== hexLen)
      badBmap(`range ${first}-${last} has a malformed checksum`);
    bmap.ranges.push({ first, last, ...(attr ? { checksum: attr.toLowerCase() } : {}) });
    mapped += last - first + 1;
    next = last + 1;
  }
  if (mapped !== bmap.mappedBlocksCount) {
    badBmap(`the ranges hold ${mapped} blocks but MappedBlocksCount says ${bmap.mappedBlocksCount}`);
  }
  return bmap;
}

export async function readBmap(path: string): Promise<Bmap> {
  const st = await stat(path);
  if (!st.isFile()) badBmap(`${path} is not a regular file`);
  if (st.size > MAX_BMAP_BYTES) badBmap(`${path} is ${st.size} bytes, more than any block map needs`);
  return parseBmap(await readFile(path, 'utf8'));
}

/**
 * Reads `ranges` of an open file a piece at a time, the next piece read while the caller works on
 * this one (two buffers: a piece is valid until the caller asks for the next).
 */
async function* readPieces(
  fh: FileHandle,
  ranges: readonly ByteRange[],
  ctx: JobContext,
  size = HASH_IO,
  data?: readonly DataExtent[],
): AsyncGenerator<{ piece: ByteRange; data: Buffer }> {
  const buffers = [Buffer.alloc(size), Buffer.alloc(size)];
  const zeros = data ? Buffer.alloc(size) : undefined;
  let e = 0;
  /** Whether the piece lies in a hole: pieces come in order, so the extents are walked once. */
  const inHole = (piece: ByteRange) => {
    if (!data) return false;
    while (e < data.length && data[e]!.end <= piece.start) e++;
    return e >= data.length || data[e]!.start >= piece.end;
  };
  const read = async (piece: ByteRange, buf: Buffer) => {
    if (inHole(piece)) return { piece, data: zeros!.subarray(0, piece.end - piece.start) };
    const data = buf.subarray(0, piece.end - piece.start);
    const got = await readExactly(fh, data, piece.start);
    if (got < data.length) {
      throw new AtlasError(
        'bad-input',
        `the image ends at byte ${piece.start + got}, before its block map does`,
      );
    }
    return { piece, data };
  };
  const pieces = chunks(ranges, size)[Symbol.iterator]();
  let n = 0;
  let first = pieces.next();
  let pending = first.done ? undefined : read(first.value, buffers[n++ % 2]!);
  while (pending) {
    if (ctx.signal.aborted) {
      await pending.catch(() => undefined);
      throw new CancelledError();
    }
    const current = await pending;
    first = pieces.next();
    pending = first.done ? undefined : read(first.value, buffers[n++ % 2]!);
    // An error of the read ahead is the caller's when it asks for that piece, never unhandled.
    pending?.catch(() => undefined);
    yield current;
  }
}

async function nonzeroScan(fh: FileHandle, size: number, ctx: JobContext): Promise<ByteRange[]> {
  const out: ByteRange[] = [];
  let done = 0;
  for await (const { piece, data } of readPieces(fh, [{ start: 0, end: size }], ctx, IO)) {
    if (data.some((b) => b !== 0)) out.push({ ...piece });
    done += data.length;
    ctx.progress(done, size);
  }
  return mergeRanges(out);
}

export interface CreatedBmap {
  bmap: Bmap;
  text: string;
  /** The card map, when the ranges came from it (fallbacks say which partitions are mapped in full). */
  map?: CardMap;
  /** With `imageSha256`: the sha256 of the whole image, from the same read. */
  imageSha256?: string;
}

/**
 * Builds the block map of an image file, with a sha256 of every range. Progress: bytes hashed.
 * With `imageSha256`, the whole image is read once, in order, for both its own sha256 and the
 * ranges' (instead of the ranges now and the whole image again later).
 */
export async function createBmap(
  imagePath: string,
  ctx: JobContext,
  source: BmapSource = 'card-map',
  opts: { imageSha256?: boolean } = {},
): Promise<CreatedBmap> {
  const fh = await open(imagePath, 'r');
  try {
    const { size } = await fh.stat();
    if (size === 0) throw new AtlasError('bad-input', `${imagePath} is empty`);
    let ranges: ByteRange[];
    let map: CardMap | undefined;
    if (source === 'card-map') {
      map = await mapCard(handleReader(fh, size), { align: BMAP_BLOCK });
      ranges = map.ranges;
    } else if (source === 'nonzero-scan') {
      ranges = await nonzeroScan(fh, size, ctx);
    } else {
      ranges = source.ranges;
    }
    const blocks = toBlocks(ranges, size);
    const bmap: Bmap = {
      version: BMAP_VERSION,
      imageSize: size,
      blockSize: BMAP_BLOCK,
      blocksCount: Math.ceil(size / BMAP_BLOCK),
      mappedBlocksCount: blocks.reduce((n, r) => n + r.last - r.first + 1, 0),
      checksumType: 'sha256',
      ranges: [],
    };
    if (opts.imageSha256) {
      const imageSha256 = await hashWholeAndRanges(fh, imagePath, bmap, blocks, ctx);
      return { bmap, text: renderBmap(bmap, basename(imagePath)), ...(map ? { map } : {}), imageSha256 };
    }
    const total = totalBytes(bmapByteRanges({ ...bmap, ranges: blocks }));
    let done = 0;
    for (const r of blocks) {
      const hash = createHash('sha256');
      const byteRange = bmapByteRanges({ ...bmap, ranges: [r] });
      for await (const { data } of readPieces(fh, byteRange, ctx)) {
        hash.update(data);
        done += data.length;
        ctx.progress(done, total);
      }
      bmap.ranges.push({ ...r, checksum: hash.digest('hex') });
    }
    return { bmap, text: renderBmap(bmap, basename(imagePath)), ...(map ? { map } : {}) };
  } finally {
    await fh.close();
  }
}

/**
 * The image's sha256 and each block range's, pushed to `bmap.ranges` in order. Where the file
 * system says where the image's holes are, one pass here does both, hashing zeros for the holes
 * instead of reading them. Otherwise openssl hashes the whole image in another process while this
 * one reads and hashes the ranges; without openssl, one pass here reads it all. Progress: bytes
 * hashed here.
 */
async function hashWholeAndRanges(
  fh: FileHandle,
  imagePath: string,
  bmap: Bmap,
  blocks: ReadonlyArray<{ first: number; last: number }>,
  ctx: JobContext,
): Promise<string> {
  const path = resolve(imagePath);
  const data = await dataExtents(path, ctx.signal);
  const elsewhere =
    !data && commandExists('openssl', process.env.PATH) ? opensslSha256(path, ctx.signal) : undefined;
  // Never unhandled: when this pass fails, openssl ends by itself (or with the job, cancelled).
  elsewhere?.catch(() => undefined);
  const spans = bmapByteRanges({ ...bmap, ranges: [...blocks] });
  const whole = elsewhere ? undefined : createHash('sha256');
  const read = whole ? [{ start: 0, end: bmap.imageSize }] : spans;
  const total = totalBytes(read);
  let i = 0;
  let range = createHash('sha256');
  let done = 0;
  for await (const { piece, data: bytes } of readPieces(fh, read, ctx, HASH_IO, data)) {
    whole?.update(bytes);
    while (i < spans.length && spans[i]!.start < piece.end) {
      const span = spans[i]!;
      const from = Math.max(span.start, piece.start);
      const to = Math.min(span.end, piece.end);
      if (to > from) range.update(bytes.subarray(from - piece.start, to - piece.start));
      if (span.end > piece.end) break;
      bmap.ranges.push({ ...blocks[i]!, checksum: range.digest('hex') });
      range = createHash('sha256');
      i++;
    }
    done += bytes.length;
    ctx.progress(done, total);
  }
  if (whole) return whole.digest('hex');
  const sum = await elsewhere;
  if (sum !== undefined) return sum;
  // openssl failed after all: the whole image once more, here.
  const again = createHash('sha256');
  for await (const { data: bytes } of readPieces(fh, [{ start: 0, end: bmap.imageSize }], ctx)) {
    again.update(bytes);
  }
  return again.digest('hex');
}

/** createBmap, then writes the file (through NAME.partial, renamed when complete; never over another). */
export async function writeBmapFile(
  imagePath: string,
  bmapPath: string,
  ctx: JobContext,
  source: BmapSource = 'card-map',
): Promise<CreatedBmap> {
  if (
    await stat(bmapPath).then(
      () => true,
      () => false,
    )
  ) {
    throw new AtlasError(
      'exists',
      `${bmapPath} already exists`,
      'delete the old block map, or choose another name',
    );
  }
  const created = await createBmap(imagePath, ctx, source);
  const partial = `${bmapPath}.partial`;
  try {
    await writeFile(partial, created.text);
    await rename(partial, bmapPath);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return created;
}
