/**
 * The types and constants every card module shares: the leaf of the cards folder, which imports
 * no module of the folder. The folder has Raspberry Pi Imager's shape, each row importing only
 * from the rows above it (the layer rule in scripts/eslint-layers.js refuses an import circle):
 *
 *   card-types.ts                     types and constants (this file)
 *   card.ts medium.ts block-users.ts  what needs no platform: a card's identity, the medium, the
 *   diskutil.ts protected-files.ts    block device's users, the diskutil wrapper, the protected
 *   target-reasons.ts aligned-io.ts   places, what the reasons mean, aligned I/O, how the helper
 *   helper-launchers.ts               is started
 *   platform/                         linux.ts and darwin.ts, one picked by cardPlatform()
 *   target-guards.ts drive-list.ts    the operations that ask cardPlatform()
 *   helper-client.ts card-server.ts
 */
import type { ProtectedPlace } from '../../common/raw-disk-protocol.js';

export type { CardIdentity, EjectResult } from '../../common/cards.js';

/** A folder or file whose disk must never be written. */
export type { ProtectedPlace };

// --- sizes and mounts -------------------------------------------------------------------------------

/** SD cards for this project are 8–256 GB: anything above 256 GiB (274.9 GB) is not one. */
export const LARGE_DISK_BYTES = 256 * 2 ** 30;

/** Mount points that mean "the running system is on this disk": common/card-layout.ts, which the
 * scripts' atlas_system_mount is written from. */
export { isSystemMount, SYSTEM_MOUNTS } from '../../common/card-layout.js';

// --- diskutil -----------------------------------------------------------------------------------------

export interface DiskutilOptions {
  /** Defaults to the running platform; `darwin` uses diskutil, anything else the Linux tools. */
  platform?: NodeJS.Platform;
  /** Path of the diskutil executable (tests point this at test/doubles/bin/diskutil). */
  diskutil?: string;
  signal?: AbortSignal;
  /**
   * Milliseconds to let macOS settle after a write before the card is unmounted and ejected, and
   * between tries (default 2000; tests use 0).
   */
  settleMs?: number;
  /**
   * Where the disks' device nodes are (default /dev): the partition table is read from the raw
   * node `rdiskN` there. Tests point it at a folder of links to loop devices.
   */
  devDir?: string;
}

export interface DiskutilResult {
  /** diskutil's own words, for the log ("Unmount of all volumes on disk4 was successful"). */
  message: string;
}

// --- a listed disk --------------------------------------------------------------------------------------

/** Serial, model and medium of a device as the raw-disk helper will see them again. */
export interface DeviceIdentity {
  serial?: string;
  model?: string;
  medium?: string;
}

// --- target guards ------------------------------------------------------------------------------------

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
