/**
 * Finding cards: every disk drivelist reports becomes a candidate with the facts the user needs to
 * pick the right one, and the reasons it must not be written. Unusable disks are kept in the list
 * with their reasons shown (a card that "does not appear" is worse than one that says why not):
 * system disks, virtual disks, read-only cards, cards too small for the image, and the disk that
 * holds the source image.
 *
 * drivelist is imported lazily, so this module loads where its native addon is missing; the list
 * call is a parameter so tests replay recorded drivelist output.
 */
import type { Drive } from 'drivelist';
import { AtlasError } from '../errors.js';
import type { DeviceIdentity, DiskutilOptions, ProtectedPlace, TargetReason } from './card-types.js';
import { cardPlatform } from './platform/index.js';
import { checkTarget } from './target-guards.js';
import { unusualDisk } from './target-reasons.js';
import { formatBytes } from '../../common/format-bytes.js';

export interface DriveCandidate {
  /** `/dev/sdc`, `/dev/disk4`. */
  device: string;
  /** The node to read and write: `/dev/rdisk4` on macOS (unbuffered, much faster), else `device`. */
  rawDevice: string;
  description: string;
  size: number;
  serial?: string;
  model?: string;
  /** Identity of the medium in the reader, where the system exposes one (MMC CID, loop backing file). */
  medium?: string;
  busType: string;
  removable: boolean;
  readOnly: boolean;
  isSystem: boolean;
  isVirtual: boolean;
  mountpoints: string[];
  usable: boolean;
  /** Why the disk must not be picked (empty when usable). */
  reasons: string[];
  /**
   * Why the disk needs its own confirmation before it is written (larger than any SD card, or
   * internal): the CLI's --allow-large-disk, or the disk's name typed in the app.
   */
  confirm?: string;
  /** What happens first when it is written ("/dev/sdc1 is mounted at …: unmounted before writing"). */
  notes?: string[];
}

export type { DeviceIdentity } from './card-types.js';

export interface ListCardsOptions {
  /** drivelist's `list` (default: the real one, loaded lazily). */
  list?: () => Promise<Drive[]>;
  /** The size of the image to be written: smaller cards are refused. */
  requiredBytes?: number;
  /** The image to be written: the disk holding it is refused. */
  sourceImage?: string;
  /** Lists virtual disks as usable (tests use loop devices and disk images as cards). */
  allowVirtual?: boolean;
  platform?: NodeJS.Platform;
  /** Whole disks holding a file (default: disksHoldingFile). */
  holders?: (path: string) => Promise<string[]>;
  /** Serial/model/medium of a device (default: the platform's; sysfs on Linux, nothing on macOS). */
  identify?: (device: string) => Promise<DeviceIdentity>;
  /** Places whose disks must not be written: the library, staging folder, archive. */
  places?: ProtectedPlace[];
  /** The guards' reasons for a device (default: target-guards' checkTarget on this platform). */
  guard?: (device: string) => Promise<TargetReason[]>;
  diskutil?: DiskutilOptions;
}

export async function loadDrivelist(): Promise<Drive[]> {
  let mod: { list?: () => Promise<Drive[]>; default?: { list?: () => Promise<Drive[]> } };
  try {
    mod = (await import('drivelist')) as typeof mod;
  } catch (e) {
    throw new AtlasError(
      'missing-tool',
      `the drivelist module could not be loaded: ${(e as Error).message}`,
      'reinstall Atlas Imager (its native drivelist addon is missing for this system)',
    );
  }
  const list = mod.list ?? mod.default?.list;
  if (!list) throw new AtlasError('missing-tool', 'the drivelist module has no list()');
  return list();
}

const GB = (n: number) => formatBytes(n, { unit: 'GB' });

/** `/dev/disk4` → `/dev/rdisk4` on macOS; any other device is its own raw node. */
export function rawDeviceOf(device: string, platform: NodeJS.Platform): string {
  return cardPlatform(platform).rawPath(device);
}

/** One drivelist drive → a candidate, with every reason it must not be written. Pure. */
export function toCandidate(
  drive: Drive,
  facts: {
    platform: NodeJS.Platform;
    identity?: DeviceIdentity;
    holdsSource?: string;
    requiredBytes?: number;
    allowVirtual?: boolean;
    /** target-guards' reasons for this disk. */
    guard?: TargetReason[];
  },
): DriveCandidate {
  const mountpoints = drive.mountpoints.map((m) => m.path);
  const size = drive.size ?? 0;
  const isVirtual = drive.isVirtual === true;
  const isSystem = drive.isSystem || mountpoints.includes('/');
  const reasons: string[] = [];
  if (drive.error) reasons.push(`the system reported an error for this disk: ${String(drive.error)}`);
  if (isSystem) {
    reasons.push(
      mountpoints.includes('/')
        ? 'system disk: the running system is on it (mounted at /)'
        : 'system disk: internal and not removable',
    );
  }
  if (isVirtual && !facts.allowVirtual) {
    reasons.push('virtual disk (a disk image, RAM disk or swap device), not a card in a reader');
  }
  if (size <= 0) reasons.push('no card in the reader (size unknown or 0 bytes)');
  if (drive.isReadOnly)
    reasons.push("read-only: slide the card's lock switch to unlocked and insert it again");
  if (facts.requiredBytes !== undefined && size > 0 && size < facts.requiredBytes) {
    reasons.push(`too small: ${GB(size)}, the image needs ${GB(facts.requiredBytes)}`);
  }
  if (facts.holdsSource)
    reasons.push(`holds the source image ${facts.holdsSource}: copy the image elsewhere first`);
  const guard = facts.guard ?? [];
  for (const r of guard.filter((g) => g.severity === 'refuse')) {
    const text = `${r.message} — ${r.hint}`;
    if (!(isSystem && /running system/.test(r.message)) && !reasons.includes(text)) reasons.push(text);
  }
  const confirm = guard.find((g) => g.severity === 'confirm') ?? unusualDisk(size);
  const notes = guard.filter((g) => g.severity === 'release').map((g) => g.message);
  const candidate: DriveCandidate = {
    device: drive.device,
    rawDevice: rawDeviceOf(drive.device, facts.platform),
    description: drive.description || drive.busType || drive.device,
    size,
    busType: drive.busType,
    removable: drive.isRemovable,
    readOnly: drive.isReadOnly,
    isSystem,
    isVirtual,
    mountpoints,
    usable: reasons.length === 0,
    reasons,
  };
  if (confirm) candidate.confirm = confirm.message;
  if (notes.length) candidate.notes = notes;
  const id = facts.identity ?? {};
  if (id.serial) candidate.serial = id.serial;
  if (id.model) candidate.model = id.model;
  if (id.medium) candidate.medium = id.medium;
  return candidate;
}

// --- what is in the reader ---------------------------------------------------------------------------

export { cardMedium } from './medium.js';

// --- which disk holds a file ----------------------------------------------------------------------

export { devNumber } from './block-users.js';

/**
 * The whole disks a file is stored on (empty for files on network, overlay or RAM file systems).
 * Linux compares the file's st_dev with the disks' and partitions' numbers in sysfs; macOS asks
 * diskutil about the file's volume (platform/).
 */
export async function disksHoldingFile(
  path: string,
  platform: NodeJS.Platform = process.platform,
  opts: DiskutilOptions = {},
): Promise<string[]> {
  return cardPlatform(platform).disksHolding({ path }, opts);
}

/** Every disk, as a candidate card with the reasons it must not be written. */
export async function listCards(opts: ListCardsOptions = {}): Promise<DriveCandidate[]> {
  const platform = opts.platform ?? process.platform;
  const drives = await (opts.list ?? loadDrivelist)();
  const holders = new Set(
    opts.sourceImage
      ? await (opts.holders ?? ((p) => disksHoldingFile(p, platform, opts.diskutil)))(opts.sourceImage)
      : [],
  );
  const cards = cardPlatform(platform);
  const identify = opts.identify ?? ((device: string) => cards.deviceIdentity(device));
  const places = [
    ...(opts.places ?? []),
    ...(opts.sourceImage ? [{ what: 'the source image', path: opts.sourceImage }] : []),
  ];
  const guard =
    opts.guard ??
    (platform === process.platform
      ? (device: string) =>
          checkTarget(device, { places, platform, ...(opts.diskutil ? { diskutil: opts.diskutil } : {}) })
      : async (): Promise<TargetReason[]> => []);
  const out: DriveCandidate[] = [];
  for (const drive of drives) {
    out.push(
      toCandidate(drive, {
        platform,
        identity: await identify(drive.device),
        guard: await guard(drive.device).catch((e: unknown) => [
          {
            severity: 'refuse' as const,
            message: `could not be checked: ${(e as Error).message}`,
            hint: 'insert the card again',
          },
        ]),
        ...(holders.has(drive.device) && opts.sourceImage ? { holdsSource: opts.sourceImage } : {}),
        ...(opts.requiredBytes !== undefined ? { requiredBytes: opts.requiredBytes } : {}),
        ...(opts.allowVirtual ? { allowVirtual: true } : {}),
      }),
    );
  }
  return out;
}
