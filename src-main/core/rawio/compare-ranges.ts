/**
 * Read-back verification of a mapped write: the ranges that were written are read from the card
 * and compared, byte for byte, with the same ranges of the image. Progress: bytes compared.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CancelledError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { chunks, totalBytes, type ByteRange } from './used-blocks/byte-ranges.js';

const PIECE = 1024 * 1024;

export interface CompareResult {
  ok: boolean;
  comparedBytes: number;
  /** The first byte offset that differs, when not ok. */
  firstDifference?: number;
}

/** `image`: its path, or the image already open (left open). */
export async function compareRanges(
  imagePath: string | FileHandle,
  cardPath: string,
  ranges: readonly ByteRange[],
  ctx: JobContext,
): Promise<CompareResult> {
  const image = typeof imagePath === 'string' ? await open(imagePath, 'r') : imagePath;
  const card = await open(cardPath, 'r');
  const a = Buffer.allocUnsafe(PIECE);
  const b = Buffer.allocUnsafe(PIECE);
  const total = totalBytes(ranges);
  let done = 0;
  try {
    for (const piece of chunks(ranges, PIECE)) {
      if (ctx.signal.aborted) throw new CancelledError();
      const len = piece.end - piece.start;
      const [ra, rb] = await Promise.all([
        image.read(a, 0, len, piece.start),
        card.read(b, 0, len, piece.start),
      ]);
      if (ra.bytesRead !== len || rb.bytesRead !== len || a.compare(b, 0, len, 0, len) !== 0) {
        let at = 0;
        while (at < len && a[at] === b[at]) at++;
        return { ok: false, comparedBytes: done + at, firstDifference: piece.start + at };
      }
      done += len;
      ctx.progress(done, total);
    }
    return { ok: true, comparedBytes: done };
  } finally {
    if (image !== imagePath) await image.close();
    await card.close();
  }
}
