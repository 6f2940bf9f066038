/**
 * What a clone set can hold: the seed's layout, partition 1 (boot) and partition 2 (root). A card
 * with more (a third primary partition, or an extended partition with logical ones) would be
 * "cloned" without them and restored with their space left as it was, so it is refused, naming
 * what would be lost. Read from the clone's own partition-table.dump (sfdisk --dump).
 */
import { AtlasError } from '../errors.js';

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
    'copy the card whole as an image instead (ods-sd shrink or a raw copy), or remove the extra partitions from a copy of the card first',
  );
}
