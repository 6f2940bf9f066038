/**
 * partition-table.dump, the `sfdisk -d` of a clone's card, read as hostile input: a clone set can
 * come from anyone, and the restore hands this text to sfdisk as root. Only what sfdisk writes for a
 * two-partition card is accepted (its header lines, and partitions 1 and 2 in sectors, in its own
 * field order), the partitions must not overlap, and every number must be exact. restore_golden.sh
 * makes the same checks before it writes anything (atlas_read_dump, in atlas-common.sh), so the set
 * is refused alike on either path: test/unit/partition-dump.test.ts runs one table through both.
 */
import { AtlasError } from '../errors.js';
import { shownExcerpt } from '../../common/shown-text.js';
import {
  FIRST_PARTITION_SECTOR,
  FIT_MIN_ROOT_SECTORS,
  SECTOR_BYTES,
  tableTailSectors,
} from '../../common/card-layout.js';

export interface DumpPartition {
  n: number;
  start: number;
  size: number;
}

export interface PartitionDump {
  label: 'dos' | 'gpt';
  partitions: DumpPartition[];
}

const HEADER =
  /^(?:label: (?:dos|gpt)|label-id: [0-9A-Fa-fx-]{1,40}|device: \S.{0,4095}|unit: sectors|sector-size: 512|(?:first-lba|last-lba|grain|table-length): \d{1,15})$/;
const PARTITION =
  /^\S.{0,4095}?(\d{1,3}) : start= *(\d{1,15}), size= *(\d{1,15}), type=[0-9A-Fa-f-]{1,36}(?:, (?:bootable|uuid=[0-9A-Fa-f-]{36}|name="[^"]{0,72}"|attrs="[^"]{0,200}"))*$/;

const FIELD_ORDER = ['start', 'size', 'type'];
const FIELD =
  /^(?:start= *\d{1,15}|size= *\d{1,15}|type=[0-9A-Fa-f-]{1,36}|bootable|uuid=[0-9A-Fa-f-]{36}|name="[^"]{0,72}"|attrs="[^"]{0,200}")$/;

/**
 * What is wrong with a line that is not one sfdisk writes, quoting no more than the field that
 * failed (at most 40 characters, escaped): the file may be anything (a link to a secret was read
 * before links were refused), and an error is shown, logged and kept in the JSON.
 */
function lineProblem(line: string): string {
  const quote = (t: string) => JSON.stringify(shownExcerpt(t, 40));
  const part = /^\S+ : (.*)$/.exec(line);
  if (part) {
    const fields = part[1]!.split(', ');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const key = f.split('=')[0]!;
      if (i < FIELD_ORDER.length && key !== FIELD_ORDER[i])
        return `field ${i + 1} is not ${FIELD_ORDER[i]}=: ${quote(f)}`;
      if (!FIELD.test(f)) return `its field ${quote(f)} is not one sfdisk writes`;
    }
    return 'it is not a partition line sfdisk writes';
  }
  const colon = line.indexOf(':');
  if (colon > 0) return `its key ${quote(line.slice(0, colon))} is not one sfdisk writes with that value`;
  return 'it is neither a header nor a partition line';
}

function refuse(where: string, why: string): never {
  throw new AtlasError(
    'bad-input',
    `${where} is not a partition table this clone set could have: ${why}`,
    'clone the card again, or use a clone set you made yourself',
  );
}

/** Parses and checks a dump; `where` names it in the error. */
export function parsePartitionDump(text: string, where = 'partition-table.dump'): PartitionDump {
  let label: 'dos' | 'gpt' | undefined;
  const partitions: DumpPartition[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw;
    if (line.trim() === '') return;
    if (line.length > 4096) refuse(where, `line ${i + 1} is too long`);
    const part = PARTITION.exec(line);
    if (part) {
      partitions.push({ n: Number(part[1]), start: Number(part[2]), size: Number(part[3]) });
      return;
    }
    if (!HEADER.test(line)) refuse(where, `line ${i + 1} is not one sfdisk writes (${lineProblem(line)})`);
    if (line.startsWith('label: ')) label = line.slice(7) as 'dos' | 'gpt';
  });
  if (!label) refuse(where, 'it has no "label: dos" or "label: gpt" line');
  if (partitions.length !== 2 || partitions[0]!.n !== 1 || partitions[1]!.n !== 2) {
    refuse(
      where,
      `it lists ${partitions.length} partitions; a clone set has partition 1 (boot) and 2 (root)`,
    );
  }
  const [boot, root] = partitions as [DumpPartition, DumpPartition];
  for (const p of partitions) {
    if (p.size === 0) refuse(where, `partition ${p.n} has no size`);
    if (p.start < FIRST_PARTITION_SECTOR)
      refuse(where, `partition ${p.n} starts at sector ${p.start}, inside the partition table`);
  }
  if (boot.start + boot.size > root.start) refuse(where, 'partition 1 runs into partition 2');
  return { label, partitions };
}

/** Bytes a card needs for this dump: the end of root (+ the backup GPT at the card's end). */
export function dumpBytesNeeded(dump: PartitionDump): number {
  const root = dump.partitions[1]!;
  return (root.start + root.size + tableTailSectors(dump.label)) * SECTOR_BYTES;
}

/**
 * The least a card must have before the restore script is asked to fit the clone onto it: the
 * boot partition as it is, and a little room for root (the script finds the real minimum from the
 * restored file system).
 */
export function dumpBytesBeforeRoot(dump: PartitionDump): number {
  return (dump.partitions[1]!.start + tableTailSectors(dump.label) + FIT_MIN_ROOT_SECTORS) * SECTOR_BYTES;
}
