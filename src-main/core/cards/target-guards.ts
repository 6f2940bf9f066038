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
 * Image files standing in for cards have none of these and are never passed here.
 */
import { constants } from 'node:fs';
import { open, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { AtlasError } from '../errors.js';
import { runTool } from '../tools/run-tool.js';
import { blockUsers, devNumber, fileSystemOf, type BlockUsers } from './block-users.js';
import { disksHoldingFile } from './drive-list.js';
import {
  eject,
  info as diskutilInfo,
  diskutilTarget,
  unmountDisk,
  type DiskutilOptions,
} from './diskutil.js';
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

/** Why a disk of this size (and, on macOS, internal or not) needs its own confirmation. Pure. */
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

// --- Linux ---------------------------------------------------------------------------------------

async function linuxReasons(device: string, users: BlockUsers, ctx: TargetContext): Promise<TargetReason[]> {
  const out: TargetReason[] = [];
  const root = await fileSystemOf('/');
  const system = users.mounts.find((m) => SYSTEM_MOUNTS.includes(m.mountPoint));
  if ((root && users.devs.has(root)) || system) {
    out.push({
      severity: 'refuse',
      message: `holds the running system (${system?.mountPoint ?? '/'} is on it)`,
      hint: 'pick the SD card reader, not a system disk',
    });
  }
  for (const place of ctx.places ?? []) {
    const fs = await fileSystemOf(place.path);
    if (fs && users.devs.has(fs)) {
      out.push({
        severity: 'refuse',
        message: `holds ${place.what} (${place.path})`,
        hint: `pick another card, or keep ${place.what} on another disk`,
      });
    }
  }
  for (const swap of users.swaps) {
    out.push({ severity: 'refuse', message: `is used as swap (${swap})`, hint: `swapoff ${swap} first` });
  }
  for (const n of users.nodes) {
    if (n.relation === 'holder') {
      out.push({
        severity: 'refuse',
        message: `is part of /dev/${n.name} (device-mapper, RAID or LVM)`,
        hint: `stop /dev/${n.name} first (dmsetup remove, mdadm --stop, vgchange -an)`,
      });
    }
    // A loop device from `mount -o loop` goes away when it is unmounted; any other stays.
    if (n.relation === 'loop' && !(n.autoclear && users.mounts.some((m) => m.dev === n.dev))) {
      out.push({
        severity: 'refuse',
        message: `has the loop device /dev/${n.name} attached over it`,
        hint: `detach it first (losetup -d /dev/${n.name})`,
      });
    }
  }
  for (const m of users.mounts) {
    if (SYSTEM_MOUNTS.includes(m.mountPoint)) continue;
    out.push({
      severity: 'release',
      message: `${m.source} is mounted at ${m.mountPoint}${m.readOnly ? '' : ' (read-write)'}: it is unmounted before writing`,
      hint: 'close every window and program using it',
      mountPoint: m.mountPoint,
    });
  }
  const sectors = Number(
    await readFile(`/sys/class/block/${basename(device)}/size`, 'utf8').catch(() => '0'),
  );
  const large = unusualDisk(Number.isFinite(sectors) ? sectors * 512 : 0);
  if (large) out.push(large);
  return out;
}

// --- macOS ----------------------------------------------------------------------------------------

const macHolders = (path: string, opts: DiskutilOptions): Promise<string[]> =>
  disksHoldingFile(path, 'darwin', opts).catch(() => []);

async function macReasons(device: string, ctx: TargetContext): Promise<TargetReason[]> {
  const opts = { ...ctx.diskutil, platform: 'darwin' as const };
  const whole = diskutilTarget(device).replace(/s\d+(s\d+)?$/, '');
  const disk = await diskutilInfo(whole, opts);
  const out: TargetReason[] = [];
  if ((await macHolders('/', opts)).includes(whole)) {
    out.push({ severity: 'refuse', message: 'holds the running system', hint: 'pick the SD card reader' });
  }
  for (const place of ctx.places ?? []) {
    if ((await macHolders(place.path, opts)).includes(whole)) {
      out.push({
        severity: 'refuse',
        message: `holds ${place.what} (${place.path})`,
        hint: `pick another card, or keep ${place.what} on another disk`,
      });
    }
  }
  const unusual = unusualDisk(disk.bytes, disk.internal);
  if (unusual) out.push(unusual);
  return out;
}

// --- the API ----------------------------------------------------------------------------------------

/** Every reason about writing the whole disk `device` (empty: nothing against it). */
export async function checkTarget(device: string, context: TargetContext = {}): Promise<TargetReason[]> {
  if ((context.platform ?? process.platform) === 'darwin') return macReasons(device, context);
  // A link (/dev/disk/by-id/…) is judged by the device it names; a partition is never a card.
  const real = await realpath(device).catch(() => device);
  const parent = await partitionParent(real);
  if (parent) {
    return [
      {
        severity: 'refuse',
        message: `is a partition of /dev/${parent}, not a whole card`,
        hint: `pick the whole card (/dev/${parent})`,
      },
    ];
  }
  return linuxReasons(real, await blockUsers(real), context);
}

/** The disk a partition device belongs to, found by its device number (any node name works). */
async function partitionParent(device: string): Promise<string | undefined> {
  const st = await stat(device).catch(() => undefined);
  if (!st?.isBlockDevice()) return undefined;
  const sys = await realpath(`/sys/dev/block/${devNumber(st.rdev)}`).catch(() => undefined);
  if (!sys) return undefined;
  const isPartition = await readFile(`${sys}/partition`, 'utf8').then(
    () => true,
    () => false,
  );
  return isPartition ? basename(dirname(sys)) : undefined;
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
  if ((context.platform ?? process.platform) === 'darwin') {
    await unmountDisk(device, { ...context.diskutil, platform: 'darwin' });
    return [];
  }
  const mounts = (await blockUsers(device)).mounts
    .filter((m) => !SYSTEM_MOUNTS.includes(m.mountPoint))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length);
  const done: string[] = [];
  for (const m of mounts) {
    const r = await runTool('umount', [m.mountPoint], context.signal ? { signal: context.signal } : {});
    if (r.exitCode !== 0) {
      throw new AtlasError(
        'unsafe-target',
        `${m.mountPoint} (${m.source}, on ${device}) could not be unmounted: ${r.stderr.trim() || `exit ${r.exitCode}`}; nothing was written`,
        'close every window, terminal and program using it, then try again',
      );
    }
    done.push(m.mountPoint);
  }
  return done;
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
    return await open(device, constants.O_RDWR | (platform === 'linux' ? constants.O_EXCL : 0));
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
  const platform = context.platform ?? process.platform;
  const run = (cmd: string, args: string[]) =>
    runTool(cmd, args, context.signal ? { signal: context.signal } : {});
  if (platform === 'darwin') {
    return eject(device, { ...context.diskutil, platform: 'darwin' }).then(
      (r) => ({ ejected: true, message: r.message }),
      (e: unknown) => ({ ejected: false, message: `not ejected: ${(e as Error).message}` }),
    );
  }
  const flush = await run('blockdev', ['--flushbufs', device]);
  if (flush.exitCode !== 0) {
    return { ejected: false, message: `not ejected: blockdev --flushbufs failed: ${flush.stderr.trim()}` };
  }
  if (basename(device).startsWith('loop')) {
    return { ejected: false, message: `flushed; ${device} is a loop device, there is nothing to eject` };
  }
  const tries: Array<[string, string[]]> = [
    ['udisksctl', ['power-off', '--no-user-interaction', '-b', device]],
    ['eject', [device]],
  ];
  const failures: string[] = [];
  for (const [cmd, args] of tries) {
    const r = await run(cmd, args).catch(() => undefined); // not installed
    if (!r) continue;
    if (r.exitCode === 0)
      return { ejected: true, message: `flushed and ejected (${cmd}): the card can be removed` };
    failures.push(`${cmd}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
  return {
    ejected: false,
    message: failures.length
      ? `flushed, not ejected (${failures.join('; ')}): the card can be removed once its light stops`
      : 'flushed, not ejected (neither udisksctl nor eject is installed): the card can be removed',
  };
}
