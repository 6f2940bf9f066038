/**
 * The used areas of a FAT12/16/32 file system: the reserved sectors (boot sector, FSInfo,
 * backup boot sector), all FAT copies, the FAT12/16 root directory, and every cluster whose FAT
 * entry is not 0 (files, directories, end-of-chain and bad-cluster marks alike). The active FAT
 * is read (FAT32 may turn mirroring off). The type follows from the cluster count, as the FAT
 * specification defines it. A boot sector that does not add up, or a FAT that fails the checks
 * of fat-check.ts (copies that differ, links out of range or to free clusters, cross-links,
 * loops), raises UsedMapError: the partition is then copied in full.
 */
import type { ByteReader } from './byte-reader.js';
import { UnitBitmap } from './byte-ranges.js';
import type { FsUsedMap } from './fs-map.js';
import { fail, parseFatBootSector } from './fat-layout.js';
import { checkFatTables } from './fat-check.js';

export { parseFatBootSector, type FatGeometry } from './fat-layout.js';

export async function mapFat(reader: ByteReader): Promise<FsUsedMap> {
  const g = parseFatBootSector(await reader.read(0, 512), reader.size);
  if (!g) fail('no FAT boot sector');
  const check = await checkFatTables(reader, g);
  if (check.problems.length) fail(check.problems.join('; '));
  const used = new UnitBitmap(g.clusters);
  for (let c = 2; c < g.clusters + 2; c++) if (check.entries[c] !== 0) used.set(c - 2);
  const ranges = [{ start: 0, end: g.dataOffset }, ...used.toByteRanges(g.clusterBytes, g.dataOffset)];
  const usedClusters = used.count();
  return {
    fs: `fat${g.type}`,
    label: g.label,
    fsBytes: g.totalSectors * g.bytesPerSector,
    ranges,
    usedBytes: g.dataOffset + usedClusters * g.clusterBytes,
    details: `FAT${g.type}, ${g.clusterBytes}-byte clusters, ${usedClusters} of ${g.clusters} clusters used`,
  };
}

/** True when the partition starts with a FAT boot sector. */
export async function looksLikeFat(reader: ByteReader): Promise<boolean> {
  if (reader.size < 512) return false;
  try {
    return parseFatBootSector(await reader.read(0, 512), reader.size) !== undefined;
  } catch {
    // A boot sector that parses but does not add up is still FAT: mapFat reports why.
    return true;
  }
}
