/**
 * The guards every card write passes, in one place (the CLI, the app's card list and the raw-disk
 * helper all call these):
 *   - checkTarget: every reason a disk must not be written, or needs a word first: it holds the
 *     running system, the library, the staging folder, the archive or the source image; something
 *     else uses it (swap, device-mapper/md, a loop device attached over it); it is larger than any
 *     SD card or (macOS) internal; its file systems are mounted (those are unmounted first);
 *   - releaseTarget: unmounts the card's mounted file systems (as the seed does, `umount
 *     /dev/sdc*`); if that fails, nothing is written;
 *   - prepareTarget: both, then the check again, right before the write starts;
 *   - openExclusive: the card opened for writing with O_EXCL on Linux, so a holder the checks
 *     could not see (a file system mounted meanwhile, swap, dm, md) makes the open fail;
 *   - ejectTarget: after a flash or restore, the card flushed and handed back to the user.
 * Image files standing in for cards have none of these and are never passed here. What differs
 * between Linux and macOS is the card platform's (platform/linux.ts, platform/darwin.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import type { DiskutilOptions } from './diskutil.js';
import { cardPlatform } from './platform/index.js';
import { formatBytes } from '../../common/format-bytes.js';
import type { ProtectedPlace } from '../../common/raw-disk-protocol.js';
import { type EjectResult } from '../../common/cards.js';
export { type EjectResult } from '../../common/cards.js';

/** SD cards for this project are 8–256 GB: anything above 256 GiB (274.9 GB) is not one. */
export const LARGE_DISK_BYTES = 256 * 2 ** 30;

/** Mount points that mean "the running system is on this disk". */
export const SYSTEM_MOUNTS = ['/', '/boot', '/boot/efi', '/boot/firmware', '/usr', '/var', '/home'];

/** A folder or file whose disk must never be written. */
export type { ProtectedPlace };

export interface TargetContext {
  /** The library, the staging folder, the archive, the source image… */
  places?: ProtectedPlace[];
  /** The user confirmed this disk although it is unusual (larger than an SD card, or internal). */
  unusualConfirmed?: boolean;
  platform?: NodeJS.Platform;
  diskutil?: DiskutilOptions;
  signal?: AbortSignal;
}

/**
 * One reason about a disk. `refuse`: never written. `confirm`: written only after its own,
 * explicit confirmation. `release`: mounted, unmounted before writing.
 */
export interface TargetReason {
  severity: 'refuse' | 'confirm' | 'release';
  message: string;
  hint: string;
  /** For `release` (Linux): the mount point to unmount. */
  mountPoint?: string;
}

export const isRefusal = (r: TargetReason) => r.severity === 'refuse';

const GB = (n: number) => formatBytes(n, { unit: 'GB' });

/**
 * Why a disk of this size (and, on macOS, internal and not a card reader) needs its own
 * confirmation. Pure.
 */
export function unusualDisk(bytes: number, internal = false): TargetReason | undefined {
  if (internal) {
    return {
      severity: 'confirm',
      message: 'an internal disk, not a card in a reader',
      hint: 'make sure this is the card you mean: it needs its own confirmation',
    };
  }
  if (bytes > LARGE_DISK_BYTES) {
    return {
      severity: 'confirm',
      message: `${GB(bytes)}: larger than any SD card for the player (8–256 GB)`,
      hint: 'make sure this is the card you mean: a disk this large needs its own confirmation',
    };
  }
  return undefined;
}

// --- the API ----------------------------------------------------------------------------------------

/** Every reason about writing the whole disk `device` (empty: nothing against it). */
export async function checkTarget(device: string, context: TargetContext = {}): Promise<TargetReason[]> {
  return cardPlatform(context.platform).targetReasons(device, context);
}

/** The refusal as the error a job ends with. */
export function refusal(device: string, reason: TargetReason): AtlasError {
  if (reason.severity === 'confirm') {
    return new AtlasError(
      'unsafe-target',
      `${device} is ${reason.message}: not written without its own confirmation`,
      reason.hint,
      { next: [{ do: 'confirm-large-disk' }] },
    );
  }
  return new AtlasError('unsafe-target', `${device} ${reason.message}: refusing to write it`, reason.hint);
}

/** The first reason that stops the write (a refusal, or an unusual disk not confirmed). */
export function blocking(reasons: TargetReason[], context: TargetContext): TargetReason | undefined {
  return (
    reasons.find(isRefusal) ??
    (context.unusualConfirmed ? undefined : reasons.find((r) => r.severity === 'confirm'))
  );
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
  const unmounted = await releaseTarget(device, context);
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
