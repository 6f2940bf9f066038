/**
 * Everything about cards that differs between Linux and macOS, behind one interface (as Raspberry
 * Pi Imager keeps src/linux, src/mac and src/windows): how a card is named, identified, checked,
 * unmounted, ejected and opened, and how the raw-disk helper gets the rights to open it. The rest
 * of the card code asks `cardPlatform(platform)` (index.ts) and never branches on the platform.
 *
 *   linux.ts   sysfs, /proc, umount, blockdev, udisksctl; exclusive opens (O_EXCL); sudo/pkexec
 *   darwin.ts  the diskutil wrapper (diskutil.ts), df, /dev/rdiskN; the administrator dialog
 */
import type { FileHandle } from 'node:fs/promises';
import type { AtlasError, NextStep } from '../../errors.js';
import type { Expect } from '../../../common/raw-disk-protocol.js';
import type {
  CardIdentity,
  DeviceIdentity,
  DiskutilOptions,
  DiskutilResult,
  EjectResult,
  ProtectedPlace,
  TargetContext,
  TargetReason,
} from '../card-types.js';
import type { HelperLauncher } from '../helper-launchers.js';

/** The card as the raw-disk helper checked it again, right before it opens it. */
export interface HelperTarget {
  /** The node read and written: `/dev/sdc`, `/dev/rdisk4`. */
  io: string;
  /** The whole disk as holder lists name it: `/dev/sdc`, `/dev/disk4`. */
  whole: string;
  bytes: number;
}

/** What a helper request says about its target: places whose disks must not be written, confirmation. */
export interface HelperGuard {
  places?: ProtectedPlace[];
  /** The user confirmed an unusual disk (larger than an SD card, or internal). */
  unusual?: boolean;
}

/** The doctor's "access to SD cards": can card devices be opened from here, and if not, what helps. */
export interface RawAccess {
  ok: boolean;
  detail: string;
  next?: NextStep[];
}

export interface CardPlatform {
  readonly name: 'linux' | 'darwin';

  // --- naming ------------------------------------------------------------------------------------

  /** Whole card-reader disks, the only devices the raw-disk helper opens (no partitions). */
  readonly wholeCard: RegExp;
  /** How cards are named here, for a device name that is not one. */
  readonly wholeCardHint: string;
  /** The node to read and write a card through: `/dev/disk4` → `/dev/rdisk4` on macOS (unbuffered). */
  rawPath(device: string): string;
  /** Where the Linux disk tools reach a card: on this host, or in the builder VM (served over NBD). */
  readonly diskTools: 'host' | 'vm';

  // --- identity ----------------------------------------------------------------------------------

  /** The card (or image file) at `path`, as the raw-disk helper identifies it again. */
  identify(path: string, opts?: DiskutilOptions): Promise<CardIdentity>;
  /** Serial, model and medium of a listed disk, where this system exposes them. */
  deviceIdentity(device: string): Promise<DeviceIdentity>;
  /** The whole disks a file is stored on (`dev`: its st_dev, when the file is already open). */
  disksHolding(file: { path: string; dev?: number }, opts?: DiskutilOptions): Promise<string[]>;

  // --- guards ------------------------------------------------------------------------------------

  /** Every reason about writing the whole disk `device` (target-guards.ts checkTarget). */
  targetReasons(device: string, context: TargetContext): Promise<TargetReason[]>;
  /**
   * The raw-disk helper's own check, right before it touches `device`: a whole card, not the
   * system disk, nothing mounted, the same card as `expect` (and, for a write, the guards).
   */
  recheckTarget(
    device: string,
    expect: Expect,
    op: 'read' | 'write',
    guard: HelperGuard,
    opts?: DiskutilOptions,
  ): Promise<HelperTarget>;

  // --- unmounting and ejecting -------------------------------------------------------------------

  /** Unmounts every volume of the card (diskutil unmountDisk; umount of its mounted partitions). */
  unmount(device: string, opts: DiskutilOptions): Promise<DiskutilResult>;
  /** Unmounts what a write must not have mounted; the mount points unmounted (macOS: none named). */
  release(device: string, context: TargetContext): Promise<string[]>;
  /** diskutil eject; on Linux the volumes unmounted and the buffers flushed. */
  eject(device: string, opts: DiskutilOptions): Promise<DiskutilResult>;
  /** After a flash or restore: the card flushed and handed back (ejected where it can be). */
  handBack(device: string, context: TargetContext): Promise<EjectResult>;

  // --- opening -----------------------------------------------------------------------------------

  /** Opens a card device; on Linux exclusively (O_EXCL), so a holder nobody saw makes it fail. */
  openDevice(path: string, mode: 'read' | 'write'): Promise<FileHandle>;
  /** Flushes a written device's buffers, where the system keeps them (Linux blockdev). */
  flush?(device: string, signal?: AbortSignal): Promise<void>;
  /** A path naming an already open descriptor of this process: /proc/PID/fd/N, /dev/fd/N. */
  fdPath(fd: number): string;
  /** Tools started by this process can open fdPath (Linux /proc); else they get the file's path. */
  readonly toolsOpenFdPath: boolean;
  /** A failed open of a card device, in words that say what to do. */
  openDeviceError(e: unknown, device: string): AtlasError;

  // --- rights ------------------------------------------------------------------------------------

  /** This process opens card devices itself (root on Linux); else the raw-disk helper opens them. */
  opensCardsHere(): boolean;
  /** How the raw-disk helper is started with root rights by a user who is not root. */
  launcher(device: string): Promise<HelperLauncher>;
  /** Whether this user can have card devices opened (the doctor's check). */
  rawAccess(): Promise<RawAccess>;
}
