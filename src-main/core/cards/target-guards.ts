/**
 * The guards every card write passes, in one place (the CLI, the app's card list and the raw-disk
 * helper all call these):
 *   - checkTarget: every reason a disk must not be written, or needs a word first: it holds the
 *     running system, the library, the staging folder, the archive or the source image; something
 *     else uses it (swap, device-mapper/md, a loop device attached over it); it is larger than any
 *     SD card or (macOS) internal; its file systems are mounted (those are unmounted first);
 *   - releaseTarget: unmounts the card's mounted file systems (as the seed does, `umount
 *     /dev/sdc*`); if that fails, nothing is written;
 *   - prepareTarget: both, then the check again, right before the write starts (releaseAndCheck:
 *     the last two, for a write whose first check ran earlier);
 *   - openExclusive: the card opened for writing with O_EXCL on Linux, so a holder the checks
 *     could not see (a file system mounted meanwhile, swap, dm, md) makes the open fail;
 *   - ejectTarget: after a flash or restore, the card flushed and handed back to the user;
 *   - recheckCard: the card at the path is still the one that was picked (the same device, the
 *     same medium in it);
 *   - unmountDisk, eject: every volume of a card unmounted; the card ejected (macOS) or flushed.
 * Image files standing in for cards have none of these and are never passed here. What differs
 * between Linux and macOS is the card platform's (platform/linux.ts, platform/darwin.ts): these
 * are the operations that ask it. What the reasons mean, with no system asked, is
 * target-reasons.ts; the types and constants are card-types.ts (both re-exported here).
 */
import type { FileHandle } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import { identityChange } from './card.js';
import type {
  CardIdentity,
  DiskutilOptions,
  DiskutilResult,
  EjectResult,
  TargetContext,
  TargetReason,
} from './card-types.js';
import { cardPlatform } from './platform/index.js';
import { blocking, refusal } from './target-reasons.js';

export { LARGE_DISK_BYTES, SYSTEM_MOUNTS } from './card-types.js';
export type { EjectResult, ProtectedPlace, TargetContext, TargetReason } from './card-types.js';
export { blocking, isRefusal, refusal, unusualDisk } from './target-reasons.js';

// --- the API ----------------------------------------------------------------------------------------

/** Every reason about writing the whole disk `device` (empty: nothing against it). */
export async function checkTarget(device: string, context: TargetContext = {}): Promise<TargetReason[]> {
  return cardPlatform(context.platform).targetReasons(device, context);
}

/** Unmounts the card's mounted file systems; throws, naming the one that stayed, if any does. */
export async function releaseTarget(device: string, context: TargetContext = {}): Promise<string[]> {
  return cardPlatform(context.platform).release(device, context);
}

/**
 * Right before a card is written: refuses it for any reason that stops the write, unmounts its
 * file systems, then checks again (nothing may be left mounted, nothing new may hold it).
 * Returns the mount points it unmounted.
 */
export async function prepareTarget(device: string, context: TargetContext = {}): Promise<string[]> {
  const stop = blocking(await checkTarget(device, context), context);
  if (stop) throw refusal(device, stop);
  return releaseAndCheck(device, context);
}

/**
 * The card's file systems unmounted (unless `unmount` is false), then checked: nothing may be left
 * mounted, nothing may hold it. Returns the mount points it unmounted.
 */
export async function releaseAndCheck(
  device: string,
  context: TargetContext = {},
  unmount = true,
): Promise<string[]> {
  const unmounted = unmount ? await releaseTarget(device, context) : [];
  const again = await checkTarget(device, context);
  const left = blocking(again, context) ?? again.find((r) => r.severity === 'release');
  if (left) {
    throw left.severity === 'release'
      ? new AtlasError(
          'unsafe-target',
          `${device} is still in use (${left.message.replace(/: it is unmounted before writing$/, '')}); nothing was written`,
          left.hint,
        )
      : refusal(device, left);
  }
  return unmounted;
}

/** Opens a card device for writing, exclusively on Linux (EBUSY: something holds it). */
export async function openExclusive(
  device: string,
  platform: NodeJS.Platform = process.platform,
): Promise<FileHandle> {
  try {
    return await cardPlatform(platform).openDevice(device, 'write');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY') {
      throw new AtlasError(
        'unsafe-target',
        `${device} is in use (a mounted file system, swap, device-mapper or RAID holds it); nothing was written`,
        'unmount the card and stop whatever uses it, then try again',
      );
    }
    throw e;
  }
}

/**
 * Hands the card back to the user after a flash or restore: macOS `diskutil eject`; Linux:
 * buffers flushed, then `udisksctl power-off` (the reader powers the card down) where udisks is
 * installed, else `eject`. A loop device has nothing to eject: flushed, and said so.
 */
export async function ejectTarget(device: string, context: TargetContext = {}): Promise<EjectResult> {
  return cardPlatform(context.platform).handBack(device, context);
}

/**
 * Checks that the card at `expected.path` is still the one the user picked: the same device, and
 * the same medium in it (on macOS as diskutil describes it).
 */
export async function recheckCard(
  expected: CardIdentity,
  opts: { platform?: NodeJS.Platform; diskutil?: DiskutilOptions } = {},
): Promise<void> {
  const now = await cardPlatform(opts.platform)
    .identify(expected.path, opts.diskutil)
    .catch(() => undefined);
  const change = now ? identityChange(expected, now) : 'it is gone';
  if (change) {
    throw new AtlasError(
      'card-changed',
      `the card at ${expected.path} is not the one that was picked (it was removed or swapped: ${change})`,
      'insert the card you picked, or pick the card again',
    );
  }
}

/** Unmounts every volume of the card (the card itself stays attached and writable). */
export async function unmountDisk(dev: string, opts: DiskutilOptions = {}): Promise<DiskutilResult> {
  return cardPlatform(opts.platform).unmount(dev, opts);
}

/** Unmounts and ejects the card (macOS); flushes the device's buffers (Linux). */
export async function eject(dev: string, opts: DiskutilOptions = {}): Promise<DiskutilResult> {
  return cardPlatform(opts.platform).eject(dev, opts);
}
