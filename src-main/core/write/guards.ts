/**
 * The checks every write runs right before it starts, whatever the target: the image is not the
 * card itself nor stored on it, and the card may be written and holds the image. One call,
 * `beforeWrite`, so further target guards plug in here. Through the raw-disk helper the card's
 * writability and size are checked by the helper itself, on the device it opens (after the card
 * was unmounted); callers that want to refuse earlier call assertWritableCard too (flash does).
 */
import { stat } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import { assertWritableCard, type CardIdentity } from '../cards/card.js';
import {
  blocking,
  checkTarget,
  prepareTarget,
  recheckCard,
  refusal,
  type TargetContext,
} from '../cards/target-guards.js';
import { cardPlatform } from '../cards/platform/index.js';
import { refuseProtectedFile } from '../cards/protected-files.js';
import type { WriteSource } from './open-source.js';
import type { WriteTarget } from './write-target.js';

/** Is the image stored on the card itself (on the device or one of its partitions)? */
async function imageOnCard(imagePath: string, card: CardIdentity): Promise<boolean> {
  if (card.kind !== 'device') return false;
  return (await cardPlatform().disksHolding({ path: imagePath })).includes(card.path);
}

/** The bytes a card needs for this image: its size, or the end of its table's last partition. */
export const neededBytes = (source: WriteSource): number => Math.max(source.bytes ?? 0, source.minBytes);

/**
 * Refuses what must never be written; for a card device also the disk guards (target-guards.ts):
 * the running system, a disk holding `guard.places`, a disk in use, an unusual disk not
 * confirmed; mounted partitions are unmounted, and the write does not start if one stays mounted.
 */
export async function beforeWrite(
  source: WriteSource,
  target: WriteTarget,
  guard: TargetContext = {},
  opts: {
    unmount?: boolean;
    neededBytes?: number;
    /** false: only check, leave mounted partitions mounted (a preflight before asking the user). */
    release?: boolean;
  } = {},
): Promise<void> {
  const card = target.card;
  const st = source.handle ? await source.handle.stat() : await stat(source.path);
  if (card.kind === 'file' && card.node === st.ino) {
    throw new AtlasError('unsafe-target', 'the card and the image are the same file', 'pick another card');
  }
  // An image file stands in for a card only outside the library, staging and archive.
  if (card.kind === 'file') await refuseProtectedFile(card.path, guard.places ?? []);
  if (await imageOnCard(source.path, card)) {
    throw new AtlasError(
      'unsafe-target',
      `${source.path} is stored on ${card.path}, the card to be written`,
      'copy the image elsewhere first',
    );
  }
  if (card.kind === 'device') {
    // The disk at this path is still the card that was picked, before anything on it is touched;
    // then what refuses it outright (a partition, the system, a protected place, a disk in use).
    await recheckCard(card);
    const reasons = await checkTarget(card.path, guard);
    // Told not to unmount: a mounted card is refused like any other disk in use.
    const release = opts.unmount === false ? reasons.find((r) => r.severity === 'release') : undefined;
    const stop = blocking(reasons, guard) ?? release;
    if (stop) throw refusal(card.path, stop);
  }
  if (target.kind !== 'helper') await assertWritableCard(card, opts.neededBytes ?? neededBytes(source));
  // Mounted partitions are unmounted last; the write does not start if one stays mounted.
  if (card.kind === 'device' && opts.unmount !== false && opts.release !== false)
    await prepareTarget(card.path, guard);
}
