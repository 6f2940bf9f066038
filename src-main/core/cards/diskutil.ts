/**
 * The one wrapper for macOS `diskutil`: `info -plist` (parsed), `unmountDisk` and `eject`. It asks
 * no card platform: platform/darwin.ts is built on it. On Linux the same card operations are
 * `umount` of the card's mounted partitions and, for eject, `blockdev --flushbufs` (a reader has
 * nothing to eject; the card is safe to pull once flushed), which live with the rest of the Linux
 * card code (platform/linux.ts). Callers that name a card on either system use target-guards.ts's
 * unmountDisk and eject, which go through the card platform, and never branch on the platform.
 */
import { parse as parsePlistXml, type PlistValue as ParsedPlist } from 'plist';
import { AtlasError } from '../errors.js';
import { runTool } from '../tools/run-tool.js';
import type { DiskutilOptions, DiskutilResult } from './card-types.js';

export type { DiskutilOptions, DiskutilResult } from './card-types.js';

/** The facts of one disk or partition from `diskutil info -plist`. */
export interface DiskInfo {
  /** `disk4` or `disk4s1`. */
  identifier: string;
  /** `/dev/disk4`. */
  node: string;
  wholeDisk: boolean;
  /** The whole disk this is (part of): `disk4`. */
  parentWholeDisk: string;
  bytes: number;
  mediaName?: string;
  removable: boolean;
  ejectable: boolean;
  internal: boolean;
  writable: boolean;
  /** Disk images, RAM disks and synthesized APFS containers. */
  virtual: boolean;
  busProtocol?: string;
  mountPoint?: string;
  diskUUID?: string;
  /** The partition scheme of a whole disk (`FDisk_partition_scheme`, `GUID_partition_scheme`). */
  content?: string;
  /** For an APFS volume: the partitions holding its container (`disk0s2`). */
  apfsPhysicalStores: string[];
}

const DISKUTIL = '/usr/sbin/diskutil';

// --- XML property lists ---------------------------------------------------------------------------

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/** The package's values in the shapes the parser below reads: data as base64, dates as ISO text. */
function plain(v: ParsedPlist): PlistValue | undefined {
  if (v === null) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain).filter((x): x is PlistValue => x !== undefined);
  if (typeof v === 'object') {
    const out: { [key: string]: PlistValue } = {};
    for (const [k, x] of Object.entries(v)) {
      const p = plain(x);
      if (p !== undefined) out[k] = p;
    }
    return out;
  }
  return v;
}

/** Parses an XML property list (the output of `diskutil … -plist`) with the `plist` package. */
export function parsePlist(xml: string): PlistValue {
  let parsed: ParsedPlist;
  try {
    parsed = parsePlistXml(xml);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new AtlasError('tool-failed', `diskutil printed an unreadable property list (${why})`);
  }
  const v = plain(parsed);
  if (v === undefined) throw new AtlasError('tool-failed', 'diskutil printed an empty property list');
  return v;
}

// --- diskutil info ----------------------------------------------------------------------------------

const bool = (d: Record<string, PlistValue>, k: string): boolean | undefined =>
  typeof d[k] === 'boolean' ? (d[k] as boolean) : undefined;
const str = (d: Record<string, PlistValue>, k: string): string | undefined =>
  typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : undefined;
const num = (d: Record<string, PlistValue>, k: string): number | undefined =>
  typeof d[k] === 'number' && Number.isFinite(d[k]) ? (d[k] as number) : undefined;

/** Turns `diskutil info -plist` output into DiskInfo (an error plist becomes `not-found`). */
export function parseDiskInfo(xml: string): DiskInfo {
  const root = parsePlist(xml);
  if (typeof root !== 'object' || Array.isArray(root))
    throw new AtlasError('tool-failed', 'diskutil info: not a dictionary');
  const d = root;
  if (bool(d, 'Error')) {
    throw new AtlasError(
      'not-found',
      str(d, 'ErrorMessage') ?? 'diskutil could not find the disk',
      'insert the card again and pick it again',
    );
  }
  const identifier = str(d, 'DeviceIdentifier');
  if (!identifier) throw new AtlasError('tool-failed', 'diskutil info printed no DeviceIdentifier');
  const stores = Array.isArray(d.APFSPhysicalStores) ? d.APFSPhysicalStores : [];
  const info: DiskInfo = {
    identifier,
    node: str(d, 'DeviceNode') ?? `/dev/${identifier}`,
    wholeDisk: bool(d, 'WholeDisk') ?? !/s\d+$/.test(identifier),
    parentWholeDisk: str(d, 'ParentWholeDisk') ?? identifier.replace(/s\d+(s\d+)?$/, ''),
    bytes: num(d, 'TotalSize') ?? num(d, 'Size') ?? num(d, 'IOKitSize') ?? 0,
    removable: bool(d, 'RemovableMedia') ?? bool(d, 'Removable') ?? false,
    ejectable: bool(d, 'Ejectable') ?? false,
    internal: bool(d, 'Internal') ?? false,
    writable: bool(d, 'WritableMedia') ?? bool(d, 'Writable') ?? false,
    virtual: str(d, 'VirtualOrPhysical') === 'Virtual' || str(d, 'BusProtocol') === 'Disk Image',
    apfsPhysicalStores: stores
      .map((s) => (typeof s === 'object' && !Array.isArray(s) ? str(s, 'APFSPhysicalStore') : undefined))
      .filter((s): s is string => s !== undefined),
  };
  const optional: Array<[keyof DiskInfo, string | undefined]> = [
    ['mediaName', str(d, 'MediaName')],
    ['busProtocol', str(d, 'BusProtocol')],
    ['mountPoint', str(d, 'MountPoint')],
    ['diskUUID', str(d, 'DiskUUID')],
    ['content', str(d, 'Content')],
  ];
  for (const [k, v] of optional) if (v !== undefined) (info as unknown as Record<string, string>)[k] = v;
  return info;
}

/**
 * Whether the disk is a card in a card reader. A Mac's own SD slot reports `Internal` with
 * removable media and the bus protocol "Secure Digital" (test/fixtures/recorded/
 * diskutil-info-plist-sdxc-reader.txt): internal, but a card all the same. A USB reader is not
 * internal. An internal disk with fixed media (the Mac's SSD) is not a card.
 */
export function isCardReader(disk: Pick<DiskInfo, 'internal' | 'removable' | 'busProtocol'>): boolean {
  return !disk.internal || disk.removable || disk.busProtocol === 'Secure Digital';
}

/** `/dev/rdisk4`, `rdisk4`, `/dev/disk4s1` → the argument diskutil expects (`/dev/disk4s1`). */
export function diskutilTarget(dev: string): string {
  const m = /^(?:\/dev\/)?r?(disk\d+(?:s\d+){0,2})$/.exec(dev);
  if (!m) {
    throw new AtlasError('bad-input', `${dev} is not a macOS disk`, 'macOS disks are named /dev/diskN');
  }
  return `/dev/${m[1]}`;
}

async function diskutil(args: string[], opts: DiskutilOptions): Promise<{ code: number; out: string }> {
  const r = await runTool(opts.diskutil ?? DISKUTIL, args, opts.signal ? { signal: opts.signal } : {});
  return { code: r.exitCode, out: [r.stdout, r.stderr].filter(Boolean).join('\n').trim() };
}

/** `diskutil info -plist DEV`: size, media name, removable/internal/writable/virtual, parent disk. */
export async function info(dev: string, opts: DiskutilOptions = {}): Promise<DiskInfo> {
  const r = await runTool(opts.diskutil ?? DISKUTIL, ['info', '-plist', diskutilTarget(dev)], {
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (r.stdout.includes('<plist')) return parseDiskInfo(r.stdout);
  throw new AtlasError(
    r.exitCode === 0 ? 'tool-failed' : 'not-found',
    `diskutil info ${dev} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.exitCode}`}`,
    'insert the card again and pick it again',
  );
}

/** A failed unmount or eject, in words that say what to do. */
export function unmountFailure(what: string, dev: string, out: string): AtlasError {
  if (/could not find disk/i.test(out)) {
    return new AtlasError('not-found', out, `insert the card again: ${dev} is gone`);
  }
  return new AtlasError(
    'tool-failed',
    `${what} ${dev} failed: ${out || 'no message'}`,
    'close every window, terminal and program using the card (its volumes under /Volumes or /media), then try again',
  );
}

/**
 * macOS `diskutil unmountDisk force`: every volume of the disk unmounted (the disk stays attached).
 * Forced, as Raspberry Pi Imager unmounts (DiskArbitration's kDADiskUnmountOptionForce): Finder
 * and Spotlight open a card as soon as it is inserted, and a plain unmount is refused while they
 * hold it.
 */
export async function diskutilUnmountDisk(dev: string, opts: DiskutilOptions = {}): Promise<DiskutilResult> {
  const r = await diskutil(['unmountDisk', 'force', diskutilTarget(dev)], opts);
  if (r.code !== 0) throw unmountFailure('diskutil unmountDisk', dev, r.out);
  return { message: r.out };
}

const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  ms <= 0
    ? Promise.resolve()
    : new Promise((r) => {
        const t = setTimeout(r, ms);
        signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
      });

/**
 * Hands a card back after a write. macOS re-reads a written card and mounts its new FAT volume
 * (and Spotlight starts indexing it), so an eject right away is often refused: wait, unmount
 * again (forced), then eject, a few times. A card that is gone meanwhile counts as ejected.
 */
export async function diskutilEjectAfterWrite(
  dev: string,
  opts: DiskutilOptions = {},
): Promise<DiskutilResult> {
  const settle = opts.settleMs ?? 2000;
  let last: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    await pause(settle, opts.signal);
    try {
      await diskutilUnmountDisk(dev, opts);
      return await diskutilEject(dev, opts);
    } catch (e) {
      const gone = e instanceof AtlasError && e.code === 'not-found';
      // Not there at all: nothing to hand back. Gone after a try that found it: ejected meanwhile.
      if (gone && attempt === 0) throw e;
      if (gone) return { message: `${dev} is gone` };
      last = e;
    }
  }
  throw last;
}

/** macOS `diskutil eject`: unmounted and ejected. */
export async function diskutilEject(dev: string, opts: DiskutilOptions = {}): Promise<DiskutilResult> {
  const r = await diskutil(['eject', diskutilTarget(dev)], opts);
  if (r.code !== 0) throw unmountFailure('diskutil eject', dev, r.out);
  return { message: r.out };
}
