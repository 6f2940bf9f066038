/**
 * Is this a Raspberry Pi card image? The Pi's boot ROM and firmware start from the first partition
 * of an MBR (or GPT) table, a FAT file system holding config.txt, cmdline.txt and the kernel.
 * Anything else (a text file, random bytes, a disk image of another machine, an image whose first
 * partition is ext4) boots nothing, and writing it would erase the card for nothing: flash refuses
 * it before any byte is written, saying what it found; `force` writes it all the same.
 */
import { AtlasError } from '../errors.js';
import type { PartitionTable } from '../rawio/used-blocks/partition-table.js';

/** MBR types of a FAT file system: FAT12, FAT16 (<32M, >32M, LBA), FAT32 (CHS, LBA). */
const FAT_MBR_TYPES = new Set(['0x01', '0x04', '0x06', '0x0e', '0x0b', '0x0c']);
/** GPT types a Pi's firmware reads FAT from: Microsoft basic data, EFI system. */
const FAT_GPT_TYPES = new Set([
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
]);

const MBR_NAMES: Record<string, string> = {
  '0x83': 'Linux',
  '0x82': 'Linux swap',
  '0x07': 'NTFS/exFAT',
  '0xee': 'GPT',
};
const GPT_NAMES: Record<string, string> = {
  '0FC63DAF-8483-4772-8E79-3D69D8477DE4': 'Linux file system',
  '48465300-0000-11AA-AA11-00306543ECAC': 'Apple HFS+',
  '7C3457EF-0000-11AA-AA11-00306543ECAC': 'Apple APFS',
};

/** What the first bytes of a file without a partition table look like, in a few words. */
export function describeHead(head: Buffer): string {
  const first = head.subarray(0, 512);
  if (first.length === 0) return 'the file is empty';
  if (first.every((b) => b === 0)) return 'its first sector is all zeros';
  const printable = first.filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)).length;
  if (printable / first.length > 0.95) return 'it looks like a text file';
  if (first.length < 512) return `it is only ${first.length} bytes long`;
  return 'its first sector has no partition table (no 55 AA boot signature)';
}

/** Why this table is not a Raspberry Pi card's (undefined: it is one). Pure. */
export function piLayoutProblem(table: PartitionTable, head: Buffer): string | undefined {
  if (table.scheme === 'none') return `no partition table: ${describeHead(head)}`;
  const first = table.partitions.find((p) => p.index === 1);
  if (!first) return `an ${table.scheme.toUpperCase()} partition table without a first partition`;
  const fat = table.scheme === 'gpt' ? FAT_GPT_TYPES.has(first.type) : FAT_MBR_TYPES.has(first.type);
  if (fat) return undefined;
  const name = (table.scheme === 'gpt' ? GPT_NAMES : MBR_NAMES)[first.type];
  return `partition 1 is type ${first.type}${name ? ` (${name})` : ''}, not the FAT boot partition a Raspberry Pi starts from`;
}

/** Refuses an image that is not a Raspberry Pi card image, unless `force`. */
export function assertPiLayout(image: string, problem: string | undefined, force: boolean): void {
  if (problem && !force) throw notPiImage(image, problem);
}

/** The refusal of an image that is not a Raspberry Pi card image. */
export function notPiImage(image: string, problem: string): AtlasError {
  return new AtlasError(
    'bad-input',
    `${image} is not a Raspberry Pi card image: ${problem}; nothing was written`,
    'pick a Raspberry Pi image (.img, .img.xz, .img.gz, .img.zst)',
    { next: [{ do: 'flash-anyway' }] },
  );
}
