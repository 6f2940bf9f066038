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
import { BACKUP_GPT_BYTES, PARTITION_HEAD_BYTES, TABLE_BYTES } from '../../common/card-layout.js';

export const MiB = 1024 * 1024;
/** The table area (written last, made invalid first), the backup GPT and a partition's head:
 * common/card-layout.ts, which the scripts' atlas_layout block is written from. */
export { BACKUP_GPT_BYTES, PARTITION_HEAD_BYTES, TABLE_BYTES };
/** With many partitions, the heads made invalid together stay within this (each at least 4 KiB). */
export const PARTITION_HEADS_BUDGET = 32 * MiB;
/** The least of a partition's head that is made invalid: a FAT boot sector and an ext4 superblock. */
const SMALL_HEAD_BYTES = 4096;
/** The image bytes in the invalidated areas are held in memory until the end: at most this many. */
export const MAX_INVALIDATED_BYTES = 64 * MiB;
const MAX_RANGES = 1 << 20;
/** A GPT holds at most 8192 entries (a 1 MiB entry array of 128-byte entries), plus two areas. */
const MAX_INVALIDATE = 16384;
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
 * A head is 64 KiB; with so many partitions that their heads would pass PARTITION_HEADS_BUDGET,
 * 4 KiB (still every boot sector and superblock). Heads of adjacent small partitions merge into
 * one range: any table a partition-table read accepts (up to 8192 GPT entries) gives a plan
 * checkPlan accepts.
 */
export function invalidationRanges(
  targetBytes: number,
  partitions: ReadonlyArray<{ start: number }>,
): ByteRange[] {
  const clip = (r: ByteRange): ByteRange => ({ start: r.start, end: Math.min(r.end, targetBytes) });
  const out: ByteRange[] = [{ start: 0, end: TABLE_BYTES }];
  out.push({ start: Math.max(0, targetBytes - BACKUP_GPT_BYTES), end: targetBytes });
  const heads = partitions.filter((p) => p.start % 512 === 0 && p.start < targetBytes);
  const head =
    heads.length * PARTITION_HEAD_BYTES <= PARTITION_HEADS_BUDGET ? PARTITION_HEAD_BYTES : SMALL_HEAD_BYTES;
  for (const p of heads) out.push({ start: p.start, end: p.start + head });
  return mergeRanges(out.map(clip).filter((r) => r.end > r.start));
}

/** Who a plan came from: built here for a write ('plan'), or received by the raw-disk helper. */
export type PlanOrigin = 'plan' | 'request';

function refusal(origin: PlanOrigin) {
  return (message: string): never => {
    throw new AtlasError(
      'bad-input',
      `invalid write plan: ${message}`,
      origin === 'request'
        ? 'this request is not one the raw-disk helper accepts'
        : "nothing was written to the card: a write of this image's partition layout could not be planned; report it with the image's table (sfdisk -d IMAGE)",
    );
  };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Sorted, non-overlapping, non-empty ranges inside [0, limit). */
function checkRanges(
  bad: (m: string) => never,
  ranges: readonly ByteRange[],
  limit: number,
  what: string,
  max: number,
): void {
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
 * Checks a plan against the source and the card: invalidated areas inside the card, at most
 * MAX_INVALIDATED_BYTES together (their image bytes are held in memory) and always including the
 * first MiB; copied ranges inside the image and the card; checksums of the named type. Throws
 * 'bad-input' for anything else, worded for where the plan came from.
 */
export function checkPlan(
  plan: WritePlan,
  sourceBytes: number | undefined,
  targetBytes: number,
  origin: PlanOrigin = 'plan',
): void {
  const bad = refusal(origin);
  if (plan.minBytes !== undefined && !isInt(plan.minBytes)) bad('minBytes must be a byte count');
  checkRanges(bad, plan.invalidate, targetBytes, 'invalidated range', MAX_INVALIDATE);
  const invalidated = plan.invalidate.reduce((n, r) => n + r.end - r.start, 0);
  if (invalidated > MAX_INVALIDATED_BYTES)
    bad(`the invalidated areas add up to ${invalidated} bytes, more than ${MAX_INVALIDATED_BYTES}`);
  const first = plan.invalidate[0];
  if (!first || first.start !== 0 || first.end < Math.min(TABLE_BYTES, targetBytes))
    bad('the first MiB of the card is not invalidated');
  if (plan.ranges) {
    checkRanges(bad, plan.ranges, Math.min(sourceBytes ?? Infinity, targetBytes), 'range', MAX_RANGES);
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
