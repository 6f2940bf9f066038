/**
 * Whether a FAT can be trusted, checked from the FAT alone (no directory is read):
 *   - the first entry carries the media byte;
 *   - every copy of the FAT agrees with the active one (unless FAT32 mirroring is off);
 *   - every link points at a cluster of the file system that is itself in use;
 *   - no cluster is linked from two others (cross-linked chains);
 *   - every chain ends: no loop;
 *   - FAT32: the root directory's first cluster exists and is in use.
 * What it does not check (fsck.fat does): that directory entries and chain lengths agree, and
 * lost chains (in use, but no file points at them; harmless for a copy).
 * Cost: every FAT copy read once (a 512 MiB boot partition with 4 KiB clusters: 512 KiB each);
 * memory 5 bytes per cluster, refused above MAX_CHECKED_CLUSTERS.
 */
import { open } from 'node:fs/promises';
import { AtlasError } from '../../errors.js';
import { handleReader, windowReader, type ByteReader } from './byte-reader.js';
import { fatEntries, parseFatBootSector, type FatGeometry } from './fat-layout.js';
import { UsedMapError } from './map-error.js';
import { readPartitionTable } from './partition-table.js';

export const MAX_CHECKED_CLUSTERS = 16 * 1024 * 1024;
const MAX_PROBLEMS = 10;

export interface FatCheck {
  geometry: FatGeometry;
  /** What is wrong, most important first; empty when the FAT is sound. */
  problems: string[];
  /** The active FAT's entry of every cluster 0..clusters+1 (28-bit values on FAT32). */
  entries: Uint32Array;
}

/** Checks the FATs of the file system described by `g` (see the module comment). */
export async function checkFatTables(reader: ByteReader, g: FatGeometry): Promise<FatCheck> {
  const problems: string[] = [];
  const add = (p: string): void => void (problems.length < MAX_PROBLEMS && problems.push(p));
  if (g.clusters > MAX_CHECKED_CLUSTERS) {
    return {
      geometry: g,
      problems: [`the FAT has ${g.clusters} clusters, more than ${MAX_CHECKED_CLUSTERS} are not checked`],
      entries: new Uint32Array(0),
    };
  }
  const n = g.clusters + 2;
  const next = new Uint32Array(n);
  for await (const [c, v] of fatEntries(reader, g)) next[c] = v;
  if ((next[0]! & 0xff) !== g.media)
    add('the first FAT entry does not match the media byte: the FAT is damaged');

  if (g.mirrored) {
    for (let copy = 0; copy < g.fats; copy++) {
      if (copy === g.activeFat) continue;
      let differ = 0;
      let first = -1;
      for await (const [c, v] of fatEntries(reader, g, copy)) {
        if (c !== 1 && v !== next[c]) {
          if (first < 0) first = c;
          differ++;
        }
      }
      if (differ) {
        add(
          `FAT copy ${copy + 1} differs from FAT copy ${g.activeFat + 1} in ${differ} entries (first: cluster ${first})`,
        );
      }
    }
  }

  const bad = g.type === 12 ? 0xff7 : g.type === 16 ? 0xfff7 : 0x0ffffff7;
  const isLink = (v: number): boolean => v >= 2 && v < n;
  // Bit 1: linked from another cluster; bit 2: reached walking a chain from its head.
  const state = new Uint8Array(n);
  for (let c = 2; c < n; c++) {
    const v = next[c]!;
    if (v === 0 || v >= bad) continue;
    if (!isLink(v)) {
      add(`FAT entry ${c} points to cluster ${v}, which does not exist`);
    } else if (next[v] === 0) {
      add(`cluster ${c} links to cluster ${v}, which is free`);
    } else if (state[v]! & 1) {
      add(`cluster ${v} is linked from two chains (cross-linked, one of them at cluster ${c})`);
    } else {
      state[v]! |= 1;
    }
  }
  // Walk every chain from its head; each cluster is visited once, so this ends whatever the FAT.
  for (let head = 2; head < n; head++) {
    if (next[head] === 0 || state[head]! & 3) continue;
    for (let x = head; !(state[x]! & 2);) {
      state[x]! |= 2;
      const v = next[x]!;
      if (!isLink(v) || next[v] === 0) break;
      x = v;
    }
  }
  let looped = 0;
  let firstLoop = -1;
  for (let c = 2; c < n; c++) {
    if (next[c] !== 0 && !(state[c]! & 2)) {
      if (firstLoop < 0) firstLoop = c;
      looped++;
    }
  }
  if (looped) add(`${looped} clusters are on cluster chains that loop (first: cluster ${firstLoop})`);
  if (g.type === 32 && (!isLink(g.rootCluster) || next[g.rootCluster] === 0)) {
    add(`the root directory starts at cluster ${g.rootCluster}, which is not in use or does not exist`);
  }
  return { geometry: g, problems, entries: next };
}

/** Checks the FAT file system at the start of `reader` (a partition). */
export async function checkFat(reader: ByteReader): Promise<FatCheck> {
  const g = parseFatBootSector(await reader.read(0, 512), reader.size);
  if (!g) throw new UsedMapError('fat', 'no FAT boot sector', 'check the partition with fsck.fat');
  return checkFatTables(reader, g);
}

/**
 * For a finished image (shrink, clone): throws AtlasError 'bad-input' naming what is wrong when
 * the FAT of partition `index` (default 1, the boot partition) is damaged or missing.
 */
export async function refuseDamagedFat(imagePath: string, index = 1): Promise<void> {
  const fh = await open(imagePath, 'r');
  const hint =
    'repair the boot partition on the card first (fsck.fat -a, or copy its files to a fresh FAT) and start again';
  try {
    const card = handleReader(fh, (await fh.stat()).size);
    const p = (await readPartitionTable(card)).partitions.find((x) => x.index === index);
    if (!p || p.start + p.length > card.size) {
      throw new AtlasError('bad-input', `${imagePath} has no partition ${index} inside the image`, hint);
    }
    const r = await checkFat(windowReader(card, p.start, p.length));
    if (r.problems.length) {
      throw new AtlasError(
        'bad-input',
        `the FAT of partition ${index} is damaged: ${r.problems.join('; ')}`,
        hint,
      );
    }
  } catch (err) {
    if (err instanceof UsedMapError) {
      throw new AtlasError('bad-input', `partition ${index}: ${err.message}`, hint, { cause: err });
    }
    throw err;
  } finally {
    await fh.close();
  }
}
