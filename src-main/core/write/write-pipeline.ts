/**
 * The one way an image is written onto a card (flash, erase, the Mac-path restore): writeImage.
 * Open the source (open-source.ts), then
 *   preflight (guards.ts, unless the caller ran it early) → pick the target (write-target.ts) →
 *   the last check, inside the target or the raw-disk helper → invalidate the card's table areas →
 *   write the image except what lies in them → write those (the first MiB, the table) last →
 *   sync → read back (its own progress step).
 * The steps from the invalidation on are the write plan, carried out by run-plan.ts in this
 * process or in the raw-disk helper.
 */
import type { JobContext } from '../jobs/job.js';
import type { RawCard } from '../cards/helper-client.js';
import { preflight } from './guards.js';
import { closeSource, openSource, type WriteSource } from './open-source.js';
import type { PlanResult } from './run-plan.js';
import { invalidationRanges, type WritePlan } from './write-plan.js';
import { targetFor, type WriteOptions } from './write-target.js';

export type { WriteOptions } from './write-target.js';

export interface WriteImageResult extends PlanResult {
  mode: WriteSource['mode'];
}

/** The plan for writing `source` onto a card of `targetBytes`. */
export function planWrite(source: WriteSource, targetBytes: number, verify: boolean): WritePlan {
  return {
    invalidate: invalidationRanges(targetBytes, source.partitions),
    ...(source.ranges ? { ranges: source.ranges } : {}),
    ...(source.checksumType ? { checksumType: source.checksumType } : {}),
    ...(source.minBytes > 0 ? { minBytes: source.minBytes } : {}),
    verify,
  };
}

/**
 * Writes an image (a path, opened and closed here, or a source already opened, left open) onto a
 * card; see the top of this file.
 */
export async function writeImage(
  image: string | WriteSource,
  card: RawCard,
  ctx: JobContext,
  opts: WriteOptions,
): Promise<WriteImageResult> {
  if (typeof image !== 'string') return writeSource(image, card, ctx, opts);
  const source = await openSource(image, { map: opts.map !== false, log: (l) => ctx.log(l) });
  try {
    return await writeSource(source, card, ctx, opts);
  } finally {
    await closeSource(source);
  }
}

async function writeSource(
  source: WriteSource,
  card: RawCard,
  ctx: JobContext,
  opts: WriteOptions,
): Promise<WriteImageResult> {
  if (!opts.preflighted)
    await preflight(card, opts.guard, { source, ...(opts.unmount === false ? { unmount: false } : {}) });
  const r = await targetFor(card, opts).run(source, planWrite(source, card.bytes, opts.verify), ctx);
  return { ...r, mode: source.mode };
}
