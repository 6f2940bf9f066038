/**
 * Cards on macOS: whole disks named /dev/diskN, read and written through the unbuffered
 * /dev/rdiskN, described, unmounted and ejected by diskutil (the one wrapper, diskutil.ts); the
 * disk holding a file found with `df` and diskutil's parent disks and APFS stores. The raw-disk
 * helper is started through the system's administrator authorization dialog. (On a Linux test
 * machine all of this runs against test/doubles/bin/diskutil.)
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { AtlasError, toAtlasError } from '../../errors.js';
import { runTool } from '../../tools/run-tool.js';
import type { Expect } from '../../../common/raw-disk-protocol.js';
import { identifyCard } from '../card.js';
import type {
  CardIdentity,
  DiskutilOptions,
  EjectResult,
  TargetContext,
  TargetReason,
} from '../card-types.js';
import {
  diskutilEject,
  diskutilEjectAfterWrite,
  diskutilTarget,
  isCardReader,
  diskutilUnmountDisk,
  info as diskutilInfo,
} from '../diskutil.js';
import { osascriptLauncher, type HelperLauncher } from '../helper-launchers.js';
import { macMedium, tableId } from '../medium.js';
import { alignedHandle } from '../aligned-io.js';
import { unusualDisk } from '../target-reasons.js';
import type { CardPlatform, HelperGuard, HelperTarget } from './card-platform.js';
import { changed, compareIdentity, deviceBusy, guardTarget } from './recheck.js';

// --- identity ------------------------------------------------------------------------------------

/** A whole disk as diskutil describes it (the app cannot open /dev/diskN itself). */
export async function identifyMacDisk(whole: string, opts: DiskutilOptions = {}): Promise<CardIdentity> {
  const disk = await diskutilInfo(whole, opts);
  const card: CardIdentity = {
    path: whole,
    kind: 'device',
    bytes: disk.bytes,
    node: await stat(whole).then(
      (st) => st.rdev,
      () => 0,
    ),
    removable: disk.removable || disk.ejectable,
    readOnly: !disk.writable,
    ...macMedium(disk),
  };
  if (disk.mediaName) card.model = disk.mediaName;
  // The card's own id: its partition table's, where this process may read the raw node.
  const table = await tableId(rawNode(whole, opts));
  if (table) card.table = table;
  return card;
}

/** `/dev/disk4` → `/dev/rdisk4` (under `opts.devDir` when set). */
function rawNode(whole: string, opts: DiskutilOptions = {}): string {
  const n = /(\d+)$/.exec(whole)![1];
  return `${opts.devDir ?? '/dev'}/rdisk${n}`;
}

/** A disk (`/dev/diskN`, `/dev/rdiskN`) by diskutil; anything else (an image file) as a file. */
function identify(path: string, opts?: DiskutilOptions): Promise<CardIdentity> {
  const mac = /^\/dev\/r?disk(\d+)$/.exec(path);
  return mac ? identifyMacDisk(`/dev/disk${mac[1]}`, opts) : identifyCard(path);
}

/** The device a file's volume is on, from `df -P`. */
async function dfDevice(path: string): Promise<string | undefined> {
  const r = await runTool('df', ['-P', path]);
  const dev = r.stdout.split('\n')[1]?.split(/\s+/)[0];
  return dev?.startsWith('/dev/') ? dev : undefined;
}

/** The whole disks under a volume: its ParentWholeDisk and those of its APFS physical stores. */
export async function macDisksHoldingDevice(
  volumeDevice: string,
  opts: DiskutilOptions = {},
): Promise<string[]> {
  const found = new Set<string>();
  const vol = await diskutilInfo(volumeDevice, opts);
  found.add(`/dev/${vol.parentWholeDisk}`);
  for (const store of vol.apfsPhysicalStores) {
    found.add(`/dev/${(await diskutilInfo(store, opts)).parentWholeDisk}`);
  }
  return [...found];
}

async function disksHolding(file: { path: string }, opts: DiskutilOptions = {}): Promise<string[]> {
  const dev = await dfDevice(file.path);
  return dev ? macDisksHoldingDevice(dev, opts).catch(() => []) : [];
}

// --- guards --------------------------------------------------------------------------------------

const holders = (path: string, opts: DiskutilOptions): Promise<string[]> =>
  disksHolding({ path }, opts).catch(() => []);

async function targetReasons(device: string, ctx: TargetContext): Promise<TargetReason[]> {
  const opts = { ...ctx.diskutil, platform: 'darwin' as const };
  const whole = diskutilTarget(device).replace(/s\d+(s\d+)?$/, '');
  const disk = await diskutilInfo(whole, opts);
  const out: TargetReason[] = [];
  if ((await holders('/', opts)).includes(whole)) {
    out.push({ severity: 'refuse', message: 'holds the running system', hint: 'pick the SD card reader' });
  }
  for (const place of ctx.places ?? []) {
    if ((await holders(place.path, opts)).includes(whole)) {
      out.push({
        severity: 'refuse',
        message: `holds ${place.what} (${place.path})`,
        hint: `pick another card, or keep ${place.what} on another disk`,
      });
    }
  }
  // The Mac's own SD slot is internal, but holds a card like any reader.
  const unusual = unusualDisk(disk.bytes, !isCardReader(disk));
  if (unusual) out.push(unusual);
  return out;
}

async function recheckTarget(
  device: string,
  expect: Expect,
  op: 'read' | 'write',
  guard: HelperGuard,
  opts: DiskutilOptions = {},
): Promise<HelperTarget> {
  const n = /(\d+)$/.exec(device)![1];
  const whole = `/dev/disk${n}`;
  const disk = await diskutilInfo(whole, opts).catch((e: unknown) => {
    throw toAtlasError(e).code === 'not-found' ? changed(device, 'it is gone') : e;
  });
  const refuseMac = (why: string) => {
    throw new AtlasError('unsafe-target', `${whole} ${why}: refusing to touch it`, 'pick the SD card reader');
  };
  if (!disk.wholeDisk) refuseMac('is not a whole disk');
  if (disk.virtual) refuseMac('is a virtual disk (a disk image or APFS container)');
  if (!isCardReader(disk)) refuseMac('is an internal, fixed disk');
  if ((await disksHolding({ path: '/' }, opts)).includes(whole)) refuseMac('holds the running system');
  if (op === 'write') await guardTarget(whole, op, guard, darwin, opts);
  // As on Linux: the card's partition table id, read from the card itself (the helper is root).
  const table = await tableId(rawNode(whole, opts));
  compareIdentity(device, expect, {
    bytes: disk.bytes,
    ...(disk.mediaName ? { model: disk.mediaName } : {}),
    ...macMedium(disk),
    ...(table ? { table } : {}),
  });
  if (op === 'write' && !disk.writable) {
    throw new AtlasError(
      'unsafe-target',
      `${whole} is read-only`,
      'slide the SD card lock switch to unlocked',
    );
  }
  return { io: `/dev/rdisk${n}`, whole, bytes: disk.bytes };
}

// --- unmounting and ejecting ---------------------------------------------------------------------

async function handBack(device: string, context: TargetContext): Promise<EjectResult> {
  return diskutilEjectAfterWrite(device, { ...context.diskutil, platform: 'darwin' }).then(
    (r) => ({ ejected: true, message: r.message }),
    (e: unknown) => ({ ejected: false, message: `not ejected: ${(e as Error).message}` }),
  );
}

// --- opening -------------------------------------------------------------------------------------

/** macOS's O_EXLOCK (<sys/fcntl.h>, open(2)): open with an exclusive flock; Node names no constant for it. */
export const O_EXLOCK = 0x20;

function openDeviceError(e: unknown, device: string): AtlasError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EBUSY') return deviceBusy(device);
  if (code === 'EPERM' || code === 'EACCES') {
    return new AtlasError(
      'permission',
      `macOS did not allow opening ${device}`,
      'System Settings → Privacy & Security → Files and Folders: allow Atlas Imager "Removable Volumes"',
    );
  }
  return toAtlasError(e);
}

// --- rights --------------------------------------------------------------------------------------

/** What the administrator dialog says: asked once, it serves every card until Atlas Imager quits. */
export const ADMIN_PROMPT =
  'Atlas Imager wants to read and write SD cards. It asks for your password once, until it quits.';

let adminLauncher: HelperLauncher | undefined;

/** The system's administrator authorization dialog: one launcher, so one shared helper session. */
async function launcher(): Promise<HelperLauncher> {
  adminLauncher ??= osascriptLauncher(ADMIN_PROMPT, process.getuid!(), process.getgid!());
  return adminLauncher;
}

// --- the platform --------------------------------------------------------------------------------

export const darwin: CardPlatform = {
  name: 'darwin',
  wholeCard: /^\/dev\/r?disk\d{1,3}$/,
  wholeCardHint: 'cards are /dev/diskN',
  rawPath: (device) => device.replace(/^\/dev\/disk(\d+)$/, '/dev/rdisk$1'),
  diskTools: 'vm',
  identify,
  deviceIdentity: async () => ({}),
  disksHolding,
  targetReasons,
  recheckTarget,
  unmount: (device, opts) => diskutilUnmountDisk(device, opts),
  release: async (device, context) => {
    await diskutilUnmountDisk(device, { ...context.diskutil, platform: 'darwin' });
    return [];
  },
  eject: (device, opts) => diskutilEject(device, opts),
  handBack,
  // Not O_EXCL (an exclusive open of a device is Linux's): a write takes O_EXLOCK, the exclusive
  // lock open(2) takes atomically, as etcher-sdk opens a card on macOS. /dev/rdiskN refuses
  // unaligned reads and writes: every one goes through in whole sectors (aligned-io.ts).
  openDevice: async (path, mode) =>
    alignedHandle(await open(path, mode === 'write' ? constants.O_RDWR | O_EXLOCK : constants.O_RDONLY)),
  fdPath: (fd) => `/dev/fd/${fd}`,
  toolsOpenFdPath: false,
  openDeviceError,
  // Even as root: /dev/rdiskN is opened by the helper, which checks the disk with diskutil first.
  opensCardsHere: () => false,
  launcher,
  rawAccess: async () => ({
    ok: true,
    detail:
      'raw card access (/dev/rdiskN) needs an administrator: macOS asks for authorization for each read or write of a card',
  }),
};
