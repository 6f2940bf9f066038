/** Block reads for the ext2/3/4 maps. */
import type { ByteReader } from './byte-reader.js';

/** Reads blocks by number, coalescing neighbours into one read of up to 1 MiB. */
export async function readBlocks(
  reader: ByteReader,
  blockSize: number,
  blocks: number[],
): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  const sorted = [...new Set(blocks)].sort((a, b) => a - b);
  const maxRun = Math.max(1, (1024 * 1024) / blockSize);
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[j - 1]! + 1 && j - i < maxRun) j++;
    const first = sorted[i]!;
    const data = await reader.read(first * blockSize, (j - i) * blockSize);
    for (let k = i; k < j; k++)
      out.set(sorted[k]!, data.subarray((k - i) * blockSize, (k - i + 1) * blockSize));
    i = j;
  }
  return out;
}

/**
 * One bitmap block per item (`at` gives its block number), read a batch of 256 at a time: with
 * flex_bg the bitmaps lie side by side (one read per batch), and memory stays bounded however
 * many groups there are.
 */
export async function* batchedBitmaps<T>(
  reader: ByteReader,
  blockSize: number,
  items: readonly T[],
  at: (item: T) => number,
): AsyncGenerator<[T, Buffer]> {
  const BATCH = 256;
  for (let k = 0; k < items.length; k += BATCH) {
    const batch = items.slice(k, k + BATCH);
    const bitmaps = await readBlocks(reader, blockSize, batch.map(at));
    for (const item of batch) yield [item, bitmaps.get(at(item))!];
  }
}
