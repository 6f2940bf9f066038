/**
 * The identity of the medium in the reader, which the reader's model and serial do not give (a USB
 * reader keeps its serial when the card in it is swapped). Both the picking side and the re-checks
 * right before writing (recheckCard, the raw-disk helper) read it the same way:
 *   - Linux `medium`: the kernel's disk sequence number (`diskseq`, new for every medium inserted
 *     and every loop device attach), the card's CID on MMC/SD hosts, the backing file of a loop
 *     device, the WWN where the device has one;
 *   - macOS `medium`: diskutil's MediaName and partition scheme (Content). On a Mac MediaName is
 *     the reader's name and a whole disk has no Disk UUID, so this tells nothing about the card;
 *   - `table`: the partition table's own id, read from the device: the GPT disk GUID or the MBR
 *     disk signature (`gpt:…`, `dos:…`, `none`); on macOS from the raw node /dev/rdiskN (readable
 *     by root: the raw-disk helper, or the command line run with sudo).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { DiskInfo } from './diskutil.js';

async function sysfs(name: string, attr: string): Promise<string | undefined> {
  const v = await readFile(`/sys/class/block/${name}/${attr}`, 'utf8').catch(() => undefined);
  return v?.trim() || undefined;
}

/**
 * The card's CID for MMC/SD hosts, the backing file (path and inode) for a loop device; USB
 * readers expose nothing about the card, so for them this is undefined.
 */
export async function cardMedium(device: string): Promise<string | undefined> {
  const name = basename(device);
  const backing = await sysfs(name, 'loop/backing_file');
  if (backing) {
    const ino = await stat(backing).then(
      (s) => String(s.ino),
      () => 'gone',
    );
    return `loop:${backing}:${ino}`;
  }
  const cid = await sysfs(name, 'device/cid');
  return cid ? `mmc:${cid}` : undefined;
}

/** Linux: everything the kernel says about the medium now in the reader, as one string. */
export async function linuxMedium(device: string): Promise<string | undefined> {
  const name = basename(device);
  const parts = [
    (await sysfs(name, 'diskseq')) && `seq:${await sysfs(name, 'diskseq')}`,
    await cardMedium(device),
    ((await sysfs(name, 'wwid')) ?? (await sysfs(name, 'device/wwid'))) &&
      `wwid:${(await sysfs(name, 'wwid')) ?? (await sysfs(name, 'device/wwid'))}`,
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return parts.length ? parts.join(' ') : undefined;
}

const hex = (b: Buffer) => b.toString('hex');

/** The GPT disk GUID as it is printed (mixed-endian first three fields), upper case. */
function guid(b: Buffer): string {
  const le = (s: Buffer) => hex(Buffer.from(s).reverse());
  return [
    le(b.subarray(0, 4)),
    le(b.subarray(4, 6)),
    le(b.subarray(6, 8)),
    hex(b.subarray(8, 10)),
    hex(b.subarray(10, 16)),
  ]
    .join('-')
    .toUpperCase();
}

/** The partition table's id from its first sectors (pure): `gpt:GUID`, `dos:xxxxxxxx` or `none`. */
export function tableIdOf(head: Buffer): string {
  for (const sector of [512, 4096]) {
    const h = head.subarray(sector, sector + 92);
    if (h.length >= 72 && h.subarray(0, 8).toString('latin1') === 'EFI PART')
      return `gpt:${guid(h.subarray(56, 72))}`;
  }
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) {
    return `dos:${hex(Buffer.from(head.subarray(440, 444)).reverse())}`;
  }
  return 'none';
}

/** The partition table id read from the device itself; undefined when it cannot be read. */
export async function tableId(device: string): Promise<string | undefined> {
  const fh = await open(device, 'r').catch(() => undefined);
  if (!fh) return undefined;
  try {
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return tableIdOf(buf.subarray(0, bytesRead));
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/** macOS: the medium as diskutil describes the whole disk (the reader, and the table's kind). */
export function macMedium(disk: DiskInfo): { medium: string } {
  return { medium: `mac:${disk.mediaName ?? '-'}|${disk.content ?? '-'}` };
}
