/**
 * Reads the structure of an .xz file without decoding it (the .xz file format 1.2.1, tukaani.org):
 * from the end, each stream's footer, its index (every block's sizes) and every block's header,
 * whose LZMA2 filter names the dictionary the decoder must hold. So the image's size and the
 * decoder's memory are known before a card is touched.
 */
import type { FileHandle } from 'node:fs/promises';
import { readAt } from '../file-io.js';

export interface XzLayout {
  /** Bytes of the decoded data (all streams). */
  bytes: number;
  /** The largest LZMA2 dictionary of any block (the decoder's memory need). */
  dictBytes: number;
  streams: number;
  blocks: number;
}

export class XzFormatError extends Error {}

const HEADER_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = Buffer.from('YZ');
const LZMA2 = 0x21;
/** An index larger than this is not an image's (a few bytes per block). */
const MAX_INDEX_BYTES = 16 * 1024 * 1024;

const endsEarly = () => new XzFormatError('the file ends early');

/** A variable-length integer (at most 9 bytes, 7 bits each); returns it and the next offset. */
function vli(buf: Buffer, at: number): [number, number] {
  let n = 0;
  for (let i = 0; i < 9; i++) {
    const b = buf[at + i];
    if (b === undefined) throw new XzFormatError('a size field runs past its end');
    n += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(n)) throw new XzFormatError('a size field is too large');
      return [n, at + i + 1];
    }
  }
  throw new XzFormatError('a size field is too long');
}

const padded4 = (n: number) => Math.ceil(n / 4) * 4;

/** The LZMA2 dictionary size coded in its one property byte. */
export function lzma2DictBytes(prop: number): number {
  if (prop > 40) throw new XzFormatError(`an LZMA2 dictionary size code (${prop}) is invalid`);
  if (prop === 40) return 0xffffffff;
  return (2 | (prop & 1)) * 2 ** (Math.floor(prop / 2) + 11);
}

/** The dictionary size named by one block header (0 when it has no LZMA2 filter). */
async function blockDict(fh: FileHandle, offset: number): Promise<number> {
  const first = await readAt(fh, offset, 1, endsEarly);
  if (first[0] === 0) throw new XzFormatError('the index lists more blocks than the stream holds');
  const h = await readAt(fh, offset, (first[0]! + 1) * 4, endsEarly);
  const flags = h[1]!;
  const filters = (flags & 0x03) + 1;
  let at = 2;
  if (flags & 0x40) at = vli(h, at)[1];
  if (flags & 0x80) at = vli(h, at)[1];
  let dict = 0;
  for (let i = 0; i < filters; i++) {
    let id: number;
    let propsLen: number;
    [id, at] = vli(h, at);
    [propsLen, at] = vli(h, at);
    if (at + propsLen > h.length) throw new XzFormatError('a block header is damaged');
    if (id === LZMA2) {
      if (propsLen !== 1) throw new XzFormatError('a block header is damaged');
      dict = Math.max(dict, lzma2DictBytes(h[at]!));
    }
    at += propsLen;
  }
  return dict;
}

/** The layout of the .xz file open as `fh` (`size` bytes); throws XzFormatError if it is not one. */
export async function readXzLayout(fh: FileHandle, size: number): Promise<XzLayout> {
  const out: XzLayout = { bytes: 0, dictBytes: 0, streams: 0, blocks: 0 };
  let end = size;
  while (end > 0) {
    // Stream padding: zero bytes, a multiple of four, between and after streams.
    while (end >= 4 && (await readAt(fh, end - 4, 4, endsEarly)).readUInt32LE(0) === 0) end -= 4;
    if (end < 24) throw new XzFormatError('it is not an .xz file or ends early');
    const footer = await readAt(fh, end - 12, 12, endsEarly);
    if (!footer.subarray(10).equals(FOOTER_MAGIC)) throw new XzFormatError('its stream footer is missing');
    const indexBytes = (footer.readUInt32LE(4) + 1) * 4;
    const indexStart = end - 12 - indexBytes;
    if (indexStart < 12 || indexBytes > MAX_INDEX_BYTES) throw new XzFormatError('its index is damaged');
    const index = await readAt(fh, indexStart, indexBytes, endsEarly);
    if (index[0] !== 0) throw new XzFormatError('its index is damaged');
    let [records, at] = vli(index, 1);
    if (records > indexBytes / 2) throw new XzFormatError('its index is damaged');
    const blocks: number[] = [];
    let blockBytes = 0;
    for (; records > 0; records--) {
      let unpadded: number;
      let uncompressed: number;
      [unpadded, at] = vli(index, at);
      [uncompressed, at] = vli(index, at);
      blocks.push(blockBytes);
      blockBytes += padded4(unpadded);
      out.bytes += uncompressed;
    }
    const start = indexStart - blockBytes - 12;
    if (start < 0) throw new XzFormatError('its index does not match its blocks');
    const header = await readAt(fh, start, 12, endsEarly);
    if (!header.subarray(0, 6).equals(HEADER_MAGIC)) throw new XzFormatError('a stream header is missing');
    for (const b of blocks) out.dictBytes = Math.max(out.dictBytes, await blockDict(fh, start + 12 + b));
    out.streams++;
    out.blocks += blocks.length;
    end = start;
  }
  if (!Number.isSafeInteger(out.bytes)) throw new XzFormatError('its sizes are too large');
  return out;
}
