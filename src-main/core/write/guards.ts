/**
 * The guards of a card write, each run once, at one of two named moments:
 *   - preflight: early, before anything is made, asked or written (the CLI runs it before its
 *     confirmation, flash before fitting an image or asking for the helper's authorization): the
 *     image is not the card itself nor stored on it, an image file standing in for a card is not
 *     one the library keeps, the disk is not one that must never be written (the running system, a
 *     protected place, a disk in use, an unusual disk not confirmed), the card is writable and
 *     large enough. Nothing is unmounted;
 *   - lastCheck: right before the card is opened, inside the target that opens it (write-target.ts):
 *     mounted partitions unmounted, then nothing may hold the disk, and the card is still the one
 *     picked. Through the raw-disk helper the helper runs this check itself, on the device it opens.
 * The card's identity is read once at the pick (or re-read once in preflight when it was captured
 * earlier) and once in the last check.
 */
import { stat } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import { assertWritableCard, type CardIdentity } from '../cards/card.js';
import {
  blocking,
  checkTarget,
  recheckCard,
  refusal,
  releaseAndCheck,
  type TargetContext,
} from '../cards/target-guards.js';
import { cardPlatform } from '../cards/platform/index.js';
import { refuseProtectedFile } from '../cards/protected-files.js';
import type { WriteSource } from './open-source.js';

/** Is the image stored on the card itself (on the device or one of its partitions)? */
async function imageOnCard(imagePath: string, card: CardIdentity): Promise<boolean> {
  if (card.kind !== 'device') return false;
  return (await cardPlatform().disksHolding({ path: imagePath })).includes(card.path);
}

/** The bytes a card needs for this image: its size, or the end of its table's last partition. */
export const neededBytes = (source: WriteSource): number => Math.max(source.bytes ?? 0, source.minBytes);

export interface PreflightOptions {
  /** The image to be written, when it exists already (an erase makes its image after this). */
  source?: WriteSource;
  /** The card must hold this many bytes (default: what `source` needs; 0 for an image fitted to it). */
  neededBytes?: number;
  /** false: a mounted card is refused like any disk in use (it is not unmounted for the write). */
  unmount?: boolean;
  /** The identity was captured earlier (at the pick): read it again now. */
  recheck?: boolean;
}

/**
 * Refuses what must never be written, before anything is made or asked (see the top of this file).
 * Leaves mounted partitions mounted: they are unmounted by the last check.
 */
export async function preflight(
  card: CardIdentity,
  guard: TargetContext = {},
  opts: PreflightOptions = {},
): Promise<void> {
  const { source } = opts;
  if (source && card.kind === 'file') {
    const st = await (source.handle ? source.handle.stat() : stat(source.path));
    if (card.node === st.ino) {
      throw new AtlasError('unsafe-target', 'the card and the image are the same file', 'pick another card');
    }
  }
  // An image file stands in for a card only outside the library, staging and archive.
  if (card.kind === 'file') await refuseProtectedFile(card.path, guard.places ?? []);
  if (source && (await imageOnCard(source.path, card))) {
    throw new AtlasError(
      'unsafe-target',
      `${source.path} is stored on ${card.path}, the card to be written`,
      'copy the image elsewhere first',
    );
  }
  // The card at this path is still the one that was picked, before anything on it is touched.
  if (opts.recheck) await recheckCard(card);
  if (card.kind === 'device') {
    // What refuses the disk outright (a partition, the system, a protected place, a disk in use).
    const reasons = await checkTarget(card.path, guard);
    // Told not to unmount: a mounted card is refused like any other disk in use.
    const release = opts.unmount === false ? reasons.find((r) => r.severity === 'release') : undefined;
    const stop = blocking(reasons, guard) ?? release;
    if (stop) throw refusal(card.path, stop);
  }
  await assertWritableCard(card, opts.neededBytes ?? (source ? neededBytes(source) : 0));
}

/**
 * Right before this process opens a card for writing: the card is still the one picked; then a
 * device's mounted partitions are unmounted (unless told not to) and nothing may hold it.
 */
export async function lastCheck(
  card: CardIdentity,
  guard: TargetContext = {},
  opts: { unmount?: boolean } = {},
): Promise<void> {
  await recheckCard(card);
  if (card.kind === 'device') await releaseAndCheck(card.path, guard, opts.unmount !== false);
}
