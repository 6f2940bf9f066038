/**
 * The on-disk layout of FAT12/16/32: the BIOS parameter block (validated: sizes add up, the type
 * follows from the cluster count as the FAT specification defines it) and the entries of the
 * active FAT, read a slice at a time.
 */
import type { ByteReader } from './byte-reader.js';
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
  /** Whether all FAT copies are kept equal (always, except FAT32 with mirroring off). */
  mirrored: boolean;
  /** FAT32: the first cluster of the root directory (0 on FAT12/16). */
  rootCluster: number;
  media: number;
  label: string;
}

export function fail(message: string): never {
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
    mirrored: (extFlags & 0x80) === 0,
    rootCluster: type === 32 ? b.readUInt32LE(0x2c) : 0,
    media,
    label: b.toString('latin1', labelAt, labelAt + 11).trim(),
  };
}

/** The entry of every cluster 0..clusters+1 in FAT copy `copy` (default: the active one). */
export async function* fatEntries(
  reader: ByteReader,
  g: FatGeometry,
  copy = g.activeFat,
): AsyncGenerator<[number, number]> {
  const fatStart = (g.reservedSectors + copy * g.fatSectors) * g.bytesPerSector;
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
