/**
 * The one way an image is written onto a card (flash, and the Mac-path restore): open the source
 * (open-source.ts), pick the target (write-target.ts), then
 *   guards (guards.ts) → invalidate the card's table areas → write the image except its first
 *   MiB → write the first MiB (the table) last → sync → read back (its own progress step).
 * The steps after the guards are the write plan, carried out by run-plan.ts in this process or in
 * the raw-disk helper.
 */
import type { JobContext } from '../jobs/job.js';
import type { RawCard } from '../cards/helper-client.js';
import { beforeWrite } from './guards.js';
import { closeSource, openSource, type WriteSource } from './open-source.js';
import type { PlanResult } from './run-plan.js';
import { invalidationRanges, type WritePlan } from './write-plan.js';
import { targetFor, type TargetOptions } from './write-target.js';

export interface WriteImageOptions extends TargetOptions {
  verify: boolean;
  /** A plain image is written by its block map (default true), or whole. */
  map?: boolean;
}

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

/** Writes an image (a path, or a source already opened, left open) onto a card. */
export async function writeImage(
  image: string | WriteSource,
  card: RawCard,
  ctx: JobContext,
  opts: WriteImageOptions,
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
  opts: WriteImageOptions,
): Promise<WriteImageResult> {
  const target = targetFor(card, opts);
  await beforeWrite(source, target, opts.guard, opts.unmount === false ? { unmount: false } : {});
  const r = await target.run(source, planWrite(source, card.bytes, opts.verify), ctx);
  return { ...r, mode: source.mode };
}
