/**
 * The used areas of a FAT12/16/32 file system: the reserved sectors (boot sector, FSInfo,
 * backup boot sector), all FAT copies, the FAT12/16 root directory, and every cluster whose FAT
 * entry is not 0 (files, directories, end-of-chain and bad-cluster marks alike). The active FAT
 * is read (FAT32 may turn mirroring off). The type follows from the cluster count, as the FAT
 * specification defines it. A boot sector or FAT that does not add up raises UsedMapError.
 */
import type { ByteReader } from './byte-reader.js';
import { UnitBitmap } from './byte-ranges.js';
import type { FsUsedMap } from './fs-map.js';
import { UsedMapError } from './map-error.js';

export interface FatGeometry {
  type: 12 | 16 | 32;
  bytesPerSector: number;
  clusterBytes: number;
  reservedSectors: number;
  fats: number;
  fatSectors: number;
  rootDirSectors: number;
  totalSectors: number;
  /** First byte of cluster 2. */
  dataOffset: number;
  clusters: number;
  /** Which FAT copy holds the allocation (FAT32 with mirroring off). */
  activeFat: number;
  media: number;
  label: string;
}

function fail(message: string): never {
  throw new UsedMapError('fat', message, 'this partition is copied in full instead; check it with fsck.fat');
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Reads the BIOS parameter block; undefined when the sector is not a FAT boot sector. */
export function parseFatBootSector(b: Buffer, partitionBytes: number): FatGeometry | undefined {
  if (b.length < 512 || b[510] !== 0x55 || b[511] !== 0xaa) return undefined;
  if (b[0] !== 0xeb && b[0] !== 0xe9) return undefined;
  const bytesPerSector = b.readUInt16LE(0x0b);
  const spc = b[0x0d]!;
  const reservedSectors = b.readUInt16LE(0x0e);
  const fats = b[0x10]!;
  const rootEntries = b.readUInt16LE(0x11);
  const media = b[0x15]!;
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || !isPow2(spc) || reservedSectors < 1)
    return undefined;
  if (fats < 1 || fats > 4 || media < 0xf0) return undefined;
  const totalSectors = b.readUInt16LE(0x13) || b.readUInt32LE(0x20);
  const fatSectors = b.readUInt16LE(0x16) || b.readUInt32LE(0x24);
  if (!totalSectors || !fatSectors) return undefined;

  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const dataSector = reservedSectors + fats * fatSectors + rootDirSectors;
  if (dataSector >= totalSectors) fail('the FAT boot sector describes no data area');
  if (totalSectors * bytesPerSector > partitionBytes) {
    fail(`the FAT file system (${totalSectors * bytesPerSector} bytes) is larger than its partition`);
  }
  const clusters = Math.floor((totalSectors - dataSector) / spc);
  const type = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  if (type === 32 && (rootEntries !== 0 || b.readUInt16LE(0x16) !== 0))
    fail('a FAT32 boot sector with FAT16 fields');
  if (type !== 32 && rootEntries === 0) fail('a FAT12/16 file system without a root directory');
  const needed = Math.ceil((((clusters + 2) * (type === 12 ? 1.5 : type / 8)) | 0) / bytesPerSector);
  if (fatSectors < needed) fail(`the FAT (${fatSectors} sectors) is too small for ${clusters} clusters`);
  const extFlags = type === 32 ? b.readUInt16LE(0x28) : 0;
  const activeFat = extFlags & 0x80 ? extFlags & 0x0f : 0;
  if (activeFat >= fats) fail(`the active FAT ${activeFat} does not exist`);
  const labelAt = type === 32 ? 0x47 : 0x2b;
  return {
    type,
    bytesPerSector,
    clusterBytes: spc * bytesPerSector,
    reservedSectors,
    fats,
    fatSectors,
    rootDirSectors,
    totalSectors,
    dataOffset: dataSector * bytesPerSector,
    clusters,
    activeFat,
    media,
    label: b.toString('latin1', labelAt, labelAt + 11).trim(),
  };
}

/** The FAT entry of every cluster 0..clusters+1, read a slice at a time. */
async function* fatEntries(reader: ByteReader, g: FatGeometry): AsyncGenerator<[number, number]> {
  const fatStart = (g.reservedSectors + g.activeFat * g.fatSectors) * g.bytesPerSector;
  const entries = g.clusters + 2;
  if (g.type === 12) {
    const data = await reader.read(fatStart, Math.ceil(entries * 1.5));
    for (let c = 0; c < entries; c++) {
      const o = Math.floor(c * 1.5);
      const v = data[o]! | (data[o + 1]! << 8);
      yield [c, c & 1 ? v >> 4 : v & 0xfff];
    }
    return;
  }
  const width = g.type / 8;
  const perSlice = (1024 * 1024) / width;
  for (let first = 0; first < entries; first += perSlice) {
    const n = Math.min(perSlice, entries - first);
    const data = await reader.read(fatStart + first * width, n * width);
    for (let k = 0; k < n; k++) {
      yield [first + k, width === 2 ? data.readUInt16LE(k * 2) : data.readUInt32LE(k * 4) & 0x0fffffff];
    }
  }
}

export async function mapFat(reader: ByteReader): Promise<FsUsedMap> {
  const g = parseFatBootSector(await reader.read(0, 512), reader.size);
  if (!g) fail('no FAT boot sector');
  const bad = g.type === 12 ? 0xff7 : g.type === 16 ? 0xfff7 : 0x0ffffff7;
  const used = new UnitBitmap(g.clusters);
  for await (const [c, v] of fatEntries(reader, g)) {
    if (c === 0) {
      if ((v & 0xff) !== g.media)
        fail('the first FAT entry does not match the media byte: the FAT is damaged');
      continue;
    }
    if (c === 1 || v === 0) continue;
    // A link must point at a cluster of this file system (or be a bad / end-of-chain mark).
    if (v < bad && (v < 2 || v > g.clusters + 1))
      fail(`FAT entry ${c} points to cluster ${v}, which does not exist`);
    used.set(c - 2);
  }
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
