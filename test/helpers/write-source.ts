// An image opened for the write pipeline and written by ranges a test chooses (a block map's, with
// their checksums, or plain byte ranges) instead of the map the pipeline would find itself.
import { bmapByteRanges, type Bmap } from '../../src-main/core/rawio/bmap.js';
import { mergeRanges, type ByteRange } from '../../src-main/core/rawio/used-blocks/byte-ranges.js';
import { closeSource, openSource, type WriteSource } from '../../src-main/core/write/open-source.js';
import {
  writeImage,
  type WriteImageResult,
  type WriteOptions,
} from '../../src-main/core/write/write-pipeline.js';
import { identifyRawCard } from '../../src-main/core/card-io/card-reads.js';
import type { JobContext } from '../../src-main/core/jobs/job.js';
import type { ChecksumType } from '../../src-main/core/write/write-plan.js';

export async function sourceWithRanges(
  image: string,
  mapping: Bmap | readonly ByteRange[],
): Promise<WriteSource> {
  const source = await openSource(image, { map: false });
  if (Array.isArray(mapping)) {
    const size = source.bytes ?? 0;
    const ranges = mergeRanges(mapping as readonly ByteRange[])
      .map((r) => ({ start: r.start, end: Math.min(r.end, size) }))
      .filter((r) => r.end > r.start);
    return { ...source, mode: 'used-blocks', ranges };
  }
  const bmap = mapping as Bmap;
  const bytes = bmapByteRanges(bmap);
  return {
    ...source,
    mode: 'bmap',
    ranges: bmap.ranges.map((r, i) => ({ ...bytes[i]!, ...(r.checksum ? { checksum: r.checksum } : {}) })),
    ...(bmap.checksumType ? { checksumType: bmap.checksumType as ChecksumType } : {}),
  };
}

/** Writes `image` by `mapping` onto the image file `target` (a card) through the write pipeline. */
export async function writeByRanges(
  image: string,
  mapping: Bmap | readonly ByteRange[],
  target: string,
  ctx: JobContext,
  opts: Partial<WriteOptions> = {},
): Promise<WriteImageResult> {
  const source = await sourceWithRanges(image, mapping);
  try {
    return await writeImage(source, await identifyRawCard(target), ctx, { verify: false, ...opts });
  } finally {
    await closeSource(source);
  }
}
