/**
 * Cards on Linux: block devices read from sysfs and /proc (identity, medium, holders, mounts),
 * `umount` to release them, `blockdev --flushbufs` then `udisksctl power-off` or `eject` to hand
 * them back, opened exclusively (O_EXCL) so a holder the checks could not see makes the open
 * fail. The raw-disk helper is started with `sudo -n` or polkit's `pkexec`.
 */
import { constants } from 'node:fs';
import { access, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { AtlasError, toAtlasError } from '../../errors.js';
import { runTool } from '../../tools/run-tool.js';
import type { Expect } from '../../../common/raw-disk-protocol.js';
import type { EjectResult } from '../../../common/cards.js';
import { blockUsers, devNumber, fileSystemOf, type BlockUsers } from '../block-users.js';
import { assertWritableCard, identifyCard, mountsOf } from '../card.js';
import {
  isSystemMount,
  type DeviceIdentity,
  type DiskutilOptions,
  type DiskutilResult,
  type TargetContext,
  type TargetReason,
} from '../card-types.js';
import { unmountFailure } from '../diskutil.js';
import { pkexecLauncher, sudoLauncher, type HelperLauncher } from '../helper-launchers.js';
import { cardMedium } from '../medium.js';
import { protectedFileReason } from '../protected-files.js';
import { unusualDisk } from '../target-reasons.js';
import type { CardPlatform, HelperGuard, HelperTarget, RawAccess } from './card-platform.js';
import { changed, compareIdentity, deviceBusy, guardTarget } from './recheck.js';

// --- identity ------------------------------------------------------------------------------------

/** Serial, model (exactly as identifyCard reads them) and medium of a Linux block device. */
export async function linuxIdentity(device: string): Promise<DeviceIdentity> {
  const id: DeviceIdentity = {};
  const card = await identifyCard(device).catch(() => undefined);
  if (card?.serial) id.serial = card.serial;
  if (card?.model) id.model = card.model;
  const medium = await cardMedium(device);
  if (medium) id.medium = medium;
  return id;
}

/** The whole disks under a block device number, through partitions and device-mapper/md slaves. */
export async function disksHoldingDev(dev: number): Promise<string[]> {
  const found = new Set<string>();
  const visit = async (sysPath: string | undefined, depth: number): Promise<void> => {
    if (!sysPath || depth > 8) return;
    const isPartition = await stat(`${sysPath}/partition`).then(
      () => true,
      () => false,
    );
    const whole = isPartition ? dirname(sysPath) : sysPath;
    found.add(`/dev/${basename(whole)}`);
    for (const dir of [sysPath, whole]) {
      for (const slave of await readdir(`${dir}/slaves`).catch(() => [] as string[])) {
        await visit(await realpath(`/sys/class/block/${slave}`).catch(() => undefined), depth + 1);
      }
    }
  };
  await visit(await realpath(`/sys/dev/block/${devNumber(dev)}`).catch(() => undefined), 0);
  return [...found];
}

// --- guards --------------------------------------------------------------------------------------

async function linuxReasons(device: string, users: BlockUsers, ctx: TargetContext): Promise<TargetReason[]> {
  const out: TargetReason[] = [];
  const root = await fileSystemOf('/');
  const system = users.mounts.find((m) => isSystemMount(m.mountPoint));
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
  // A loop device over an image the library keeps is that image: never written as a card.
  const backing = (
    await readFile(`/sys/class/block/${basename(device)}/loop/backing_file`, 'utf8').catch(() => '')
  ).trim();
  const kept = backing ? await protectedFileReason(backing, ctx.places ?? []) : undefined;
  if (kept) {
    out.push({
      severity: 'refuse',
      message: `is a loop device over ${backing}, which ${kept}`,
      hint: `pick a card; detach the loop device (losetup -d ${device})`,
    });
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
    if (isSystemMount(m.mountPoint)) continue;
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

async function targetReasons(device: string, context: TargetContext): Promise<TargetReason[]> {
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

async function recheckTarget(
  device: string,
  expect: Expect,
  op: 'read' | 'write',
  guard: HelperGuard,
): Promise<HelperTarget> {
  const st = await stat(device).catch(() => undefined);
  if (!st) throw changed(device, 'it is gone');
  if (!st.isBlockDevice()) throw new AtlasError('unsafe-target', `${device} is not a block device`);
  if ((await linux.disksHolding({ path: '/' })).includes(device)) {
    throw new AtlasError(
      'unsafe-target',
      `${device} holds the running system (/ is on it): refusing to touch it`,
      'pick the SD card reader, not a system disk',
    );
  }
  await guardTarget(device, op, guard, linux);
  const card = await identifyCard(device);
  compareIdentity(device, expect, {
    bytes: card.bytes,
    ...(card.serial ? { serial: card.serial } : {}),
    ...(card.model ? { model: card.model } : {}),
    ...(card.medium ? { medium: card.medium } : {}),
    ...(card.table ? { table: card.table } : {}),
  });
  if (op === 'write') await assertWritableCard(card, 0);
  return { io: device, whole: device, bytes: card.bytes };
}

// --- unmounting and ejecting ---------------------------------------------------------------------

async function unmount(dev: string, opts: DiskutilOptions): Promise<DiskutilResult> {
  const mounts = await mountsOf(dev);
  for (const m of mounts) {
    const r = await runTool('umount', [m], opts.signal ? { signal: opts.signal } : {});
    if (r.exitCode !== 0) throw unmountFailure('umount', m, r.stderr.trim());
  }
  return { message: mounts.length ? `unmounted ${mounts.join(', ')}` : `nothing on ${dev} was mounted` };
}

async function release(device: string, context: TargetContext): Promise<string[]> {
  const mounts = (await blockUsers(device)).mounts
    .filter((m) => !isSystemMount(m.mountPoint))
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

async function eject(dev: string, opts: DiskutilOptions): Promise<DiskutilResult> {
  await unmount(dev, opts);
  const r = await runTool('blockdev', ['--flushbufs', dev], opts.signal ? { signal: opts.signal } : {});
  if (r.exitCode !== 0) throw unmountFailure('blockdev --flushbufs', dev, r.stderr.trim());
  return { message: `flushed ${dev}; the card can be removed` };
}

/**
 * Buffers flushed, then `udisksctl power-off` (the reader powers the card down) where udisks is
 * installed, else `eject`. A loop device has nothing to eject: flushed, and said so.
 */
async function handBack(device: string, context: TargetContext): Promise<EjectResult> {
  const run = (cmd: string, args: string[]) =>
    runTool(cmd, args, context.signal ? { signal: context.signal } : {});
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

// --- rights --------------------------------------------------------------------------------------

/** `sudo -n` when it needs no password, else polkit's `pkexec`. */
async function launcher(device: string): Promise<HelperLauncher> {
  const sudo = await runTool('sudo', ['-n', 'true']).catch(() => undefined);
  if (sudo?.exitCode === 0) return sudoLauncher;
  if (
    await access('/usr/bin/pkexec', constants.X_OK).then(
      () => true,
      () => false,
    )
  )
    return pkexecLauncher;
  throw new AtlasError(
    'permission',
    `reading and writing ${device} needs root rights, and neither "sudo -n" nor pkexec can provide them`,
    undefined,
    { next: [{ do: 'run-as-root' }] },
  );
}

async function rawAccess(): Promise<RawAccess> {
  if (process.getuid?.() === 0) return { ok: true, detail: 'running as root: card devices can be opened' };
  const r = await runTool('sudo', ['-n', 'true']).catch(() => undefined);
  return r?.exitCode === 0
    ? { ok: true, detail: 'sudo works without a password: card devices can be opened' }
    : { ok: false, detail: 'not root, and sudo needs a password', next: [{ do: 'run-as-root' }] };
}

// --- the platform --------------------------------------------------------------------------------

export const linux: CardPlatform = {
  name: 'linux',
  wholeCard: /^\/dev\/(sd[a-z]{1,2}|mmcblk\d{1,3}|loop\d{1,4})$/,
  wholeCardHint: 'cards are /dev/sdX or /dev/mmcblkN',
  rawPath: (device) => device,
  diskTools: 'host',
  identify: (path) => identifyCard(path),
  deviceIdentity: (device) => linuxIdentity(device),
  disksHolding: async ({ path, dev }) => disksHoldingDev(dev ?? (await stat(path)).dev),
  targetReasons,
  recheckTarget,
  unmount,
  release,
  eject,
  handBack,
  openDevice: (path, mode) =>
    open(path, (mode === 'write' ? constants.O_RDWR : constants.O_RDONLY) | constants.O_EXCL),
  flush: async (device, signal) =>
    void (await runTool('blockdev', ['--flushbufs', device], signal ? { signal } : {})),
  fdPath: (fd) => `/proc/${process.pid}/fd/${fd}`,
  toolsOpenFdPath: true,
  openDeviceError: (e, device) =>
    (e as NodeJS.ErrnoException).code === 'EBUSY' ? deviceBusy(device) : toAtlasError(e),
  opensCardsHere: () => process.getuid?.() === 0,
  launcher,
  rawAccess,
};
