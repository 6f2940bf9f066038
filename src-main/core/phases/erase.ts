/**
 * Erase: a card back to one FAT32 partition for normal use, as Raspberry Pi Imager's "Erase"
 * leaves it: an MBR, one FAT32 partition (type 0c, bootable) from 4 MiB (sector 8192) to the
 * card's end, labelled BOOT. The builder makes the erased card as a sparse card-sized image in the
 * work dir (erase_image.sh: sfdisk, mkfs.vfat); it is written like any image, through the one
 * write pipeline: the same guards as flash (never a system disk or a disk holding the library,
 * the card re-identified, nothing mounted), the old table areas invalidated first, only the
 * image's used blocks written (table, boot sectors, FATs, root directory), the table last, read
 * back, then the card ejected.
 */
import { type EraseResult } from '../../common/results.js';
export { type EraseResult } from '../../common/results.js';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import { describeCard, type CardIdentity } from '../cards/card.js';
import { identifyRawCard } from '../card-io/card-reads.js';
import { ejectTarget, type ProtectedPlace, type TargetContext } from '../cards/target-guards.js';
import { lockCard, withJobLocks } from '../library/job-lock.js';
import { writeGuardPlaces } from '../library/places.js';
import { preflight } from '../write/guards.js';
import { closeSource, openSource } from '../write/open-source.js';
import { writeImage } from '../write/write-pipeline.js';
import { discard, scratchDir } from '../library/files.js';
import type { Env } from './env.js';
import { viaHelper } from './flash.js';
import { writeSteps } from './plan-steps.js';

/** Raspberry Pi Imager's label for an erased card (src/disk_formatter.h). */
export const ERASE_LABEL = 'BOOT';
/** 4 MiB before the partition and about 34 MiB for FAT32's 65525 clusters and two FATs. */
export const ERASE_MIN_BYTES = (8192 + 34 * 2048) * 512;

export interface EraseParams {
  card: string;
  /** FAT label, 1–11 of A-Z 0-9 _ - (default BOOT). */
  label?: string;
  verify?: boolean;
  /** The identity captured when the user picked the card (re-checked before writing). */
  expected?: CardIdentity;
  /** Places besides the library whose disks must not be written (staging, archive). */
  places?: ProtectedPlace[];
  /** The card was confirmed although unusual (larger than an SD card, or internal). */
  allowUnusual?: boolean;
  /** Eject the card once erased (default true). */
  eject?: boolean;
}

export function checkEraseLabel(label: string): string {
  if (!/^[A-Z0-9_-]{1,11}$/.test(label)) {
    throw new AtlasError(
      'bad-input',
      `a FAT label is 1 to 11 of A-Z, 0-9, _ and -: ${JSON.stringify(label)}`,
      `for example ${ERASE_LABEL}`,
    );
  }
  return label;
}

/** One job per card: an erase of a card another job holds is refused, told which job holds it. */
export async function erase(env: Env, params: EraseParams, ctx: JobContext): Promise<EraseResult> {
  const card = params.expected?.path ?? params.card;
  return withJobLocks([() => lockCard(card, 'erase')], () => eraseLocked(env, params, ctx));
}

/**
 * What can never be erased, refused before anything is made, asked or written (the CLI asks this
 * before its confirmation, the job again before it starts): a bad label, a card too small, a
 * system disk or a disk holding a protected place, a file the library keeps. Nothing is unmounted.
 */
export async function checkErase(
  library: string | undefined,
  params: EraseParams,
  signal?: AbortSignal,
): Promise<{ card: CardIdentity; label: string; guard: TargetContext }> {
  const label = checkEraseLabel(params.label ?? ERASE_LABEL);
  const card = params.expected ?? (await identifyRawCard(params.card));
  const guard: TargetContext = {
    places: writeGuardPlaces(library, params.places),
    unusualConfirmed: params.allowUnusual === true,
    ...(signal ? { signal } : {}),
  };
  // The write's preflight: the erased card's image is made after it, so it checks the card alone.
  await preflight(card, guard, { neededBytes: ERASE_MIN_BYTES, recheck: params.expected !== undefined });
  return { card, label, guard };
}

/**
 * erase_image.sh makes the erased card's image; its write moves only the table and the FAT's
 * heads, an amount nothing says before the image is made: the steps weigh alike.
 */
export function erasePlan(card: CardIdentity, verify: boolean): PlannedStep[] {
  return [
    { id: 'check', label: `Checking ${describeCard(card)}` },
    { id: 'erase-image', label: "Making the erased card's table and FAT32 file system" },
    ...writeSteps(undefined, verify),
  ];
}

async function eraseLocked(env: Env, params: EraseParams, ctx: JobContext): Promise<EraseResult> {
  const { card, label, guard } = await checkErase(env.library, params, ctx.signal);
  ctx.plan?.(erasePlan(card, params.verify !== false));
  ctx.step('check', `Checking ${describeCard(card)}`);
  const dir = await scratchDir(env.library);
  try {
    const image = join(dir, 'erased-card.img');
    const b = env.builder;
    const out = await b.runScript('erase_image.sh', [b.toBuilderPath(image), String(card.bytes), label], ctx);
    const source = await openSource(image, { log: (l) => ctx.log(l) });
    const w = await writeImage(source, card, ctx, {
      verify: params.verify !== false,
      viaHelper: viaHelper(card),
      guard,
      preflighted: true,
    }).finally(() => closeSource(source));
    const one = (k: string) => Number(out.results.get(k)?.[0] ?? 0);
    const result: EraseResult = {
      card: card.path,
      label,
      partitionStart: one('partition-start'),
      partitionSectors: one('partition-sectors'),
      writtenBytes: w.writtenBytes,
      verified: w.verified,
    };
    if (card.kind !== 'device' || params.eject === false) return result;
    const eject = await ejectTarget(card.path, { signal: ctx.signal });
    ctx.log(`${card.path}: ${eject.message}`);
    return { ...result, eject };
  } finally {
    await discard(dir);
  }
}
