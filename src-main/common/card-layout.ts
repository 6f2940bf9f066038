/**
 * The numbers of a card's layout that the app and the builder scripts both act on: the areas
 * cleared before a write, the backup GPT, the root's headroom over its minimum, the mounts that
 * mean "the running system is on this disk". This file is their one source: scripts/sh-blocks.mjs
 * writes them into the `atlas_layout` block of atlas-common.sh and restore_golden.sh (`npm run
 * build`), and `npm run lint` fails when a block no longer says what this file says.
 */

export const SECTOR_BYTES = 512;

/** The table area at the card's start (MBR or protective MBR + primary GPT, boot area): 1 MiB,
 * made invalid before anything else is written and written last. */
export const TABLE_SECTORS = 2048;

/** The backup GPT at the end of a card: 32 sectors of entries and its header. */
export const BACKUP_GPT_SECTORS = 33;

/** The first sector a partition may start at: after the (protective) MBR, the GPT header and its
 * 32 sectors of entries. */
export const FIRST_PARTITION_SECTOR = 34;

/** Enough of each partition's start to hold a FAT boot sector and an ext4 superblock (+1024):
 * 64 KiB, made invalid where every new partition starts. */
export const PARTITION_HEAD_SECTORS = 128;

/** The root keeps this share (percent) over its file system's minimum: the seed's buffer a
 * flashed card needs to boot. A shrunk image's root partition is the file system + this much. */
export const ROOT_HEADROOM_PERCENT = 5;

/** A root fitted onto a smaller card gets more than this many sectors (1 MiB), or the card is
 * refused before the root is restored anywhere. */
export const FIT_MIN_ROOT_SECTORS = 2048;

/** A root fitted onto a smaller card is restored into a work folder first: its data, and this
 * much to spare. */
export const WORK_RESERVE_BYTES = 64 * 1024 * 1024;

/** Mount points that mean "the running system is on this disk"; `/boot/*` is any mount below
 * /boot (/boot/efi, /boot/firmware…). */
export const SYSTEM_MOUNTS: readonly string[] = ['/', '/boot', '/boot/*', '/usr', '/var', '/home'];

export const TABLE_BYTES = TABLE_SECTORS * SECTOR_BYTES;
export const BACKUP_GPT_BYTES = BACKUP_GPT_SECTORS * SECTOR_BYTES;
export const PARTITION_HEAD_BYTES = PARTITION_HEAD_SECTORS * SECTOR_BYTES;

/** True when a disk with this mount point holds the running system (SYSTEM_MOUNTS). */
export function isSystemMount(mountPoint: string): boolean {
  return SYSTEM_MOUNTS.some((m) =>
    m.endsWith('/*') ? mountPoint.startsWith(m.slice(0, -1)) : m === mountPoint,
  );
}

/** The sectors a table keeps at the card's end: the backup GPT of a GPT card, nothing for MBR. */
export function tableTailSectors(label: string): number {
  return label === 'gpt' ? BACKUP_GPT_SECTORS : 0;
}
