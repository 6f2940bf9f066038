/**
 * What a clone set can hold: the seed's layout, partition 1 (boot) and partition 2 (root). A card
 * with more (a third primary partition, or an extended partition with logical ones) would be
 * "cloned" without them and restored with their space left as it was, so it is refused, naming
 * what would be lost. Read from the clone's own partition-table.dump (sfdisk --dump).
 *
 * And what partclone can copy: it copies the blocks the file system's own maps mark used, so a
 * file system whose maps are damaged (a block bitmap that lost a file's blocks, FAT copies that
 * differ, a looping chain) would be cloned without that data. The card's maps are cross-checked
 * first (the used-block map's checks) and such a card is refused until it is repaired.
 */
import { open } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { handleReader } from '../rawio/used-blocks/byte-reader.js';
import { mapCard } from '../rawio/used-blocks/used-ranges.js';

export interface DumpPartition {
  index: number;
  start: number;
  size: number;
  type: string;
}

const EXTENDED = new Set(['5', 'f', '85']);

/** The partitions of an `sfdisk --dump` text: `NODE : start=S, size=N, type=T, …`. */
export function dumpPartitions(dump: string): DumpPartition[] {
  const out: DumpPartition[] = [];
  for (const line of dump.split('\n')) {
    const m = /^(\S*?)(\d+)\s*:\s*(.*)$/.exec(line.trim());
    if (!m) continue;
    const fields = new Map<string, string>();
    for (const part of m[3]!.split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    out.push({
      index: Number(m[2]),
      start: Number(fields.get('start') ?? 0),
      size: Number(fields.get('size') ?? 0),
      type: (fields.get('type') ?? '').toLowerCase(),
    });
  }
  return out;
}

/** Throws 'unsupported' unless the card has exactly partitions 1 and 2. */
export function refuseUnclonedPartitions(dump: string): void {
  const parts = dumpPartitions(dump);
  const extra = parts.filter((p) => p.index !== 1 && p.index !== 2);
  if (!extra.length) return;
  const logical = extra.filter((p) => p.index >= 5).map((p) => p.index);
  const what = extra
    .filter((p) => p.index < 5)
    .map((p) =>
      EXTENDED.has(p.type)
        ? `partition ${p.index} is an extended partition${logical.length ? ` holding logical partitions ${logical.join(', ')}` : ''}`
        : `partition ${p.index} (type ${p.type})`,
    );
  if (logical.length && !extra.some((p) => p.index < 5 && EXTENDED.has(p.type))) {
    what.push(`logical partitions ${logical.join(', ')}`);
  }
  throw new AtlasError(
    'unsupported',
    `the card has partitions a clone set cannot hold: ${what.join('; ')}. A clone set keeps partition 1 (boot) and partition 2 (root) only, so these would be lost`,
    'remove the extra partitions from a copy of the card first',
    { next: [{ do: 'copy-whole-card' }] },
  );
}

/** The refusal of a card whose maps are damaged (`why`: the map's reason, one per partition). */
export function damagedMapsError(why: string[]): AtlasError {
  return new AtlasError(
    'bad-input',
    `the card's file system maps are damaged, so partclone would leave data out of the clone: ${why
      .map((w) => w.replace(/; copied in full$/, ''))
      .join('; ')}`,
    'repair the card (or a copy of it) first: e2fsck -f on the root partition, fsck.fat -a on the boot partition; then clone again',
  );
}

/**
 * Cross-checks the maps of partitions 1 and 2 of the card (or staged copy) at `path` and throws
 * 'bad-input' when one is damaged. Where this process may not read the card (a device, not
 * root: the builder reads it through sudo) the check is skipped and the job log says so.
 */
export async function refuseDamagedMaps(path: string, bytes: number, ctx: JobContext): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    ctx.log(`the file system maps of ${path} were not cross-checked: no permission to read it here`);
    return;
  }
  try {
    const map = await mapCard(handleReader(fh, bytes));
    const damaged = map.partitions.filter((p) => p.damaged && (p.index === 1 || p.index === 2));
    for (const p of map.partitions) if (p.fallback && !p.damaged) ctx.log(p.fallback);
    if (damaged.length) throw damagedMapsError(damaged.map((p) => p.fallback!));
  } finally {
    await fh.close();
  }
}
