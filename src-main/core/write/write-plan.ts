/**
 * What one write of an image onto a card does, as plain data: the card areas made invalid before
 * anything else is written, the image ranges to copy (or the whole stream), and whether to read
 * back. The unprivileged side builds the plan (it maps the image); the raw-disk helper receives it
 * and checks it again here (checkPlan) before it touches the card.
 */
import { createHash } from 'node:crypto';
import { AtlasError } from '../errors.js';
import { mergeRanges, type ByteRange } from '../rawio/used-blocks/byte-ranges.js';
import { CHECKSUM_TYPES, type ChecksumType } from '../../common/raw-disk-protocol.js';

export const MiB = 1024 * 1024;
/** The partition table and boot area: written last, made invalid first. */
export const TABLE_BYTES = MiB;
/** The backup GPT at the end of a card: 32 sectors of entries and the header. */
export const BACKUP_GPT_BYTES = 33 * 512;
/** Enough of each partition's start to hold a FAT boot sector and an ext4 superblock (+1024). */
export const PARTITION_HEAD_BYTES = 64 * 1024;
const MAX_RANGES = 1 << 20;
const MAX_INVALIDATE = 256;
export { CHECKSUM_TYPES, type ChecksumType };

/** A range of the image to copy to the same offset on the card, with its block-map checksum. */
export interface MappedRange extends ByteRange {
  checksum?: string;
}

export interface WritePlan {
  /** Card ranges zeroed before any image byte is written; the image's bytes there are written last. */
  invalidate: ByteRange[];
  /** Image ranges to copy; absent: the whole (decompressed) image, from its start. */
  ranges?: MappedRange[];
  /** Algorithm of the ranges' checksums (a block map's ChecksumType). */
  checksumType?: ChecksumType;
  /** The whole image must be at least this long (its table's last partition end): else the
   * write stops before the table is written. */
  minBytes?: number;
  verify: boolean;
}

/**
 * The areas that make a card look written, on a card of `targetBytes`: the first MiB (MBR or
 * protective MBR + primary GPT, boot area), the last 33 sectors (an old backup GPT) and the head of
 * every partition of the NEW table (an old file system at the same offset would look complete).
 */
export function invalidationRanges(
  targetBytes: number,
  partitions: ReadonlyArray<{ start: number }>,
): ByteRange[] {
  const clip = (r: ByteRange): ByteRange => ({ start: r.start, end: Math.min(r.end, targetBytes) });
  const out: ByteRange[] = [{ start: 0, end: TABLE_BYTES }];
  out.push({ start: Math.max(0, targetBytes - BACKUP_GPT_BYTES), end: targetBytes });
  for (const p of partitions) {
    if (p.start % 512 !== 0 || p.start >= targetBytes) continue;
    out.push({ start: p.start, end: p.start + PARTITION_HEAD_BYTES });
  }
  return mergeRanges(out.map(clip).filter((r) => r.end > r.start)).slice(0, MAX_INVALIDATE);
}

const bad = (message: string): never => {
  throw new AtlasError(
    'bad-input',
    `invalid write plan: ${message}`,
    'this request is not one the raw-disk helper accepts',
  );
};

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Sorted, non-overlapping, non-empty ranges inside [0, limit). */
function checkRanges(ranges: readonly ByteRange[], limit: number, what: string, max: number): void {
  if (ranges.length > max) bad(`more than ${max} ${what}`);
  let next = 0;
  for (const r of ranges) {
    if (!isInt(r.start) || !isInt(r.end) || r.end <= r.start)
      bad(`${what} ${r.start}-${r.end} is not a range`);
    if (r.start < next) bad(`${what} ${r.start}-${r.end} overlaps or is out of order`);
    if (r.end > limit) bad(`${what} ${r.start}-${r.end} is past the end (${limit} bytes)`);
    next = r.end;
  }
}

/**
 * Checks a plan against the source and the card: invalidated areas inside the card, at most 2 MiB
 * each and always including the first MiB; copied ranges inside the image and the card; checksums
 * of the named type. Throws 'bad-input' for anything else.
 */
export function checkPlan(plan: WritePlan, sourceBytes: number | undefined, targetBytes: number): void {
  if (plan.minBytes !== undefined && !isInt(plan.minBytes)) bad('minBytes must be a byte count');
  checkRanges(plan.invalidate, targetBytes, 'invalidated range', MAX_INVALIDATE);
  if (plan.invalidate.some((r) => r.end - r.start > 2 * TABLE_BYTES))
    bad('an invalidated range is larger than 2 MiB');
  const first = plan.invalidate[0];
  if (!first || first.start !== 0 || first.end < Math.min(TABLE_BYTES, targetBytes))
    bad('the first MiB of the card is not invalidated');
  if (plan.ranges) {
    checkRanges(plan.ranges, Math.min(sourceBytes ?? Infinity, targetBytes), 'range', MAX_RANGES);
    if (plan.ranges.some((r) => r.checksum !== undefined)) {
      const type = plan.checksumType;
      if (!type || !CHECKSUM_TYPES.includes(type)) return bad('unknown checksum type');
      const len = createHash(type).digest('hex').length;
      for (const r of plan.ranges)
        if (r.checksum !== undefined && !new RegExp(`^[0-9a-f]{${len}}$`).test(r.checksum))
          bad(`range ${r.start}-${r.end} has a malformed checksum`);
    }
  }
}
