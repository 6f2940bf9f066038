/**
 * Reads a card's partition table: MBR (primary and logical partitions through the EBR chain) or,
 * behind a protective MBR, GPT (primary header, falling back to the backup header at the end of
 * the card when the primary is damaged). Besides the partitions it returns the table's own areas
 * (MBR/EBR sectors, both GPT headers and entry arrays) so a used-block copy or a mapped write
 * always carries them, including the backup GPT at the very end of the card.
 * Sectors are 512 bytes, as on every SD card.
 */
import { crc32 } from 'node:zlib';
import type { ByteReader } from './byte-reader.js';
import type { ByteRange } from './byte-ranges.js';
import { UsedMapError } from './map-error.js';

export const SECTOR = 512;

export interface Partition {
  /** Linux numbering: 1-4 primary (or GPT entry order), 5… logical. */
  index: number;
  /** Byte offset and length on the card, as the table states them (may exceed the card). */
  start: number;
  length: number;
  /** MBR type as `0x83`, GPT type GUID in upper case. */
  type: string;
  name?: string;
}

export interface PartitionTable {
  scheme: 'mbr' | 'gpt' | 'none';
  partitions: Partition[];
  /** Sectors that hold the table itself. */
  tableAreas: ByteRange[];
  /** Things worth telling the user (a damaged primary GPT, a broken EBR chain…). */
  notes: string[];
  /** MBR: the extended partition that holds the logical ones (byte offset and length). */
  extended?: { start: number; length: number; type: string };
}

const EXTENDED = new Set([0x05, 0x0f, 0x85]);
const PROTECTIVE = 0xee;

interface MbrEntry {
  status: number;
  type: number;
  lba: number;
  sectors: number;
}

function mbrEntries(sector: Buffer): MbrEntry[] {
  const out: MbrEntry[] = [];
  for (let i = 0; i < 4; i++) {
    const o = 446 + i * 16;
    out.push({
      status: sector[o]!,
      type: sector[o + 4]!,
      lba: sector.readUInt32LE(o + 8),
      sectors: sector.readUInt32LE(o + 12),
    });
  }
  return out;
}

function hasSignature(sector: Buffer): boolean {
  return sector[510] === 0x55 && sector[511] === 0xaa;
}

/** A boot sector of a file system also ends in 55 AA; an MBR's entries are well formed. */
function looksLikeMbr(entries: MbrEntry[]): boolean {
  const used = entries.filter((e) => e.type !== 0);
  return (
    used.length > 0 &&
    entries.every((e) => e.status === 0 || e.status === 0x80) &&
    used.every((e) => e.lba > 0 && e.sectors > 0)
  );
}

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

export async function readPartitionTable(reader: ByteReader): Promise<PartitionTable> {
  if (reader.size < SECTOR) return { scheme: 'none', partitions: [], tableAreas: [], notes: [] };
  const mbr = await reader.read(0, SECTOR);
  const entries = mbrEntries(mbr);
  if (!hasSignature(mbr) || !looksLikeMbr(entries)) {
    return { scheme: 'none', partitions: [], tableAreas: [], notes: [] };
  }
  if (entries.some((e) => e.type === PROTECTIVE)) return readGpt(reader);
  return readMbr(reader, entries);
}

async function readMbr(reader: ByteReader, entries: MbrEntry[]): Promise<PartitionTable> {
  const table: PartitionTable = {
    scheme: 'mbr',
    partitions: [],
    tableAreas: [{ start: 0, end: SECTOR }],
    notes: [],
  };
  entries.forEach((e, i) => {
    if (e.type === 0 || EXTENDED.has(e.type)) return;
    table.partitions.push({
      index: i + 1,
      start: e.lba * SECTOR,
      length: e.sectors * SECTOR,
      type: hex2(e.type),
    });
  });
  const extended = entries.find((e) => EXTENDED.has(e.type));
  if (extended) {
    table.extended = {
      start: extended.lba * SECTOR,
      length: extended.sectors * SECTOR,
      type: hex2(extended.type),
    };
    await readLogical(reader, extended.lba, table);
  }
  return table;
}

/** Walks the EBR chain of an extended partition: each EBR holds one logical partition. */
async function readLogical(reader: ByteReader, extStart: number, table: PartitionTable): Promise<void> {
  let ebr = extStart;
  const seen = new Set<number>();
  for (let index = 5; index < 5 + 256; index++) {
    if (seen.has(ebr) || (ebr + 1) * SECTOR > reader.size) {
      table.notes.push(`the chain of logical partitions is broken at sector ${ebr}`);
      return;
    }
    seen.add(ebr);
    const sector = await reader.read(ebr * SECTOR, SECTOR);
    if (!hasSignature(sector)) {
      table.notes.push(`the logical partition table at sector ${ebr} has no signature`);
      return;
    }
    table.tableAreas.push({ start: ebr * SECTOR, end: (ebr + 1) * SECTOR });
    const [own, next] = mbrEntries(sector);
    if (own && own.type !== 0 && own.sectors > 0) {
      table.partitions.push({
        index,
        start: (ebr + own.lba) * SECTOR,
        length: own.sectors * SECTOR,
        type: hex2(own.type),
      });
    }
    if (!next || !EXTENDED.has(next.type) || next.lba === 0) return;
    ebr = extStart + next.lba;
  }
}

interface GptHeader {
  myLba: number;
  alternateLba: number;
  entriesLba: number;
  entryCount: number;
  entrySize: number;
  entriesCrc: number;
}

function u64(buf: Buffer, o: number): number {
  const v = buf.readBigUInt64LE(o);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new UsedMapError('gpt', `a GPT value is out of range (${v})`);
  return Number(v);
}

/** The largest entry array read (the usual one is 16 KiB: 128 entries of 128 bytes). */
export const MAX_GPT_ENTRY_BYTES = 1024 * 1024;
const ENTRY_SIZES = new Set([128, 256, 512, 1024, 2048, 4096]);

type Checked<T> = { ok: T } | { why: string };

/**
 * The GPT header at `lba`, checked before anything it describes is read: signature, header size
 * and CRC, its own LBA, an entry size of 128·2^n up to 4096 bytes, an entry array of at most
 * MAX_GPT_ENTRY_BYTES that lies on the card and not over the header.
 */
async function readGptHeader(reader: ByteReader, lba: number): Promise<Checked<GptHeader>> {
  if (lba <= 0 || (lba + 1) * SECTOR > reader.size) return { why: `sector ${lba} is not on the card` };
  const s = await reader.read(lba * SECTOR, SECTOR);
  if (s.toString('latin1', 0, 8) !== 'EFI PART') return { why: `no GPT signature at sector ${lba}` };
  const size = s.readUInt32LE(12);
  if (size < 92 || size > SECTOR)
    return { why: `the header at sector ${lba} has an impossible size (${size})` };
  const copy = Buffer.from(s.subarray(0, size));
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== s.readUInt32LE(16)) return { why: `the header at sector ${lba} has a wrong CRC` };
  let h: GptHeader;
  try {
    h = {
      myLba: u64(s, 24),
      alternateLba: u64(s, 32),
      entriesLba: u64(s, 72),
      entryCount: s.readUInt32LE(80),
      entrySize: s.readUInt32LE(84),
      entriesCrc: s.readUInt32LE(88),
    };
  } catch (err) {
    if (err instanceof UsedMapError) return { why: `the header at sector ${lba}: ${err.message}` };
    throw err;
  }
  const at = `the header at sector ${lba}`;
  if (h.myLba !== lba) return { why: `${at} says it is at sector ${h.myLba}` };
  if (!ENTRY_SIZES.has(h.entrySize)) {
    return { why: `${at} has an impossible entry size of ${h.entrySize} bytes (128, 256 … 4096)` };
  }
  const bytes = h.entryCount * h.entrySize;
  if (h.entryCount === 0 || bytes > MAX_GPT_ENTRY_BYTES) {
    return {
      why: `${at} describes ${h.entryCount} entries of ${h.entrySize} bytes (${bytes} bytes; at most ${MAX_GPT_ENTRY_BYTES} are read)`,
    };
  }
  const end = h.entriesLba * SECTOR + bytes;
  if (h.entriesLba === 0 || end > reader.size) {
    return { why: `${at} places its entries at sector ${h.entriesLba}, past the end of the card` };
  }
  if (h.entriesLba <= lba && end > lba * SECTOR) return { why: `${at} places its entries over itself` };
  return { ok: h };
}

function entrySectors(h: GptHeader): number {
  return Math.ceil((h.entryCount * h.entrySize) / SECTOR);
}

/** The entry array of a checked header (at most MAX_GPT_ENTRY_BYTES), if its CRC matches. */
async function readGptEntries(reader: ByteReader, h: GptHeader): Promise<Checked<Buffer>> {
  const data = await reader.read(h.entriesLba * SECTOR, h.entryCount * h.entrySize);
  return crc32(data) === h.entriesCrc
    ? { ok: data }
    : { why: `the entry array of the header at sector ${h.myLba} has a wrong CRC` };
}

/** A GUID as text: the first three fields are little-endian on disk. */
function guid(b: Buffer): string {
  const h = b.toString('hex');
  const le = (s: string): string => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`.toUpperCase();
}

async function readGpt(reader: ByteReader): Promise<PartitionTable> {
  const notes: string[] = [];
  const lastLba = Math.floor(reader.size / SECTOR) - 1;
  const both = async (lba: number): Promise<Checked<[GptHeader, Buffer]>> => {
    const h = await readGptHeader(reader, lba);
    if (!('ok' in h)) return h;
    const e = await readGptEntries(reader, h.ok);
    return 'ok' in e ? { ok: [h.ok, e.ok] } : e;
  };
  const primaryHeader = await readGptHeader(reader, 1);
  const primaryFull = 'ok' in primaryHeader ? await both(1) : primaryHeader;
  const primary = 'ok' in primaryHeader ? primaryHeader.ok : undefined;
  const alternate = primary?.alternateLba ?? lastLba;
  let backupHeader = await readGptHeader(reader, alternate);
  if (!('ok' in backupHeader) && alternate !== lastLba) backupHeader = await readGptHeader(reader, lastLba);
  const backup = 'ok' in backupHeader ? backupHeader.ok : undefined;
  const backupFull = backup ? await both(backup.myLba) : (backupHeader as { why: string });

  let header: GptHeader;
  let data: Buffer;
  if ('ok' in primaryFull) {
    [header, data] = primaryFull.ok;
    if (!('ok' in backupFull))
      notes.push(`the backup GPT at the end of the card is missing or damaged (${backupFull.why})`);
  } else if ('ok' in backupFull) {
    notes.push(
      `the primary GPT is damaged (${primaryFull.why}); the backup GPT at the end of the card was used`,
    );
    [header, data] = backupFull.ok;
  } else {
    throw new UsedMapError(
      'gpt',
      `the card has a protective MBR but neither GPT is valid: primary: ${primaryFull.why}; backup: ${backupFull.why}`,
      'the whole card is copied in full; repair the table with gdisk or sfdisk first',
    );
  }

  const tableAreas: ByteRange[] = [{ start: 0, end: SECTOR }];
  const addHeader = (h: GptHeader): void => {
    tableAreas.push({ start: h.myLba * SECTOR, end: (h.myLba + 1) * SECTOR });
    tableAreas.push({ start: h.entriesLba * SECTOR, end: (h.entriesLba + entrySectors(h)) * SECTOR });
  };
  if (primary) addHeader(primary);
  else tableAreas.push({ start: SECTOR, end: (2 + 32) * SECTOR });
  if (backup) addHeader(backup);
  else {
    // Where the backup belongs: the last sector, its entries right before it.
    const at = Math.min(header.alternateLba, lastLba);
    tableAreas.push({ start: Math.max(0, at - entrySectors(header)) * SECTOR, end: (at + 1) * SECTOR });
  }

  const partitions: Partition[] = [];
  for (let i = 0; i < header.entryCount; i++) {
    const e = data.subarray(i * header.entrySize, (i + 1) * header.entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const first = u64(e, 32);
    const last = u64(e, 40);
    if (last < first) {
      notes.push(`GPT entry ${i + 1} ends before it starts; ignored`);
      continue;
    }
    const name = e.toString('utf16le', 56, 128).replace(/\0.*$/s, '');
    partitions.push({
      index: i + 1,
      start: first * SECTOR,
      length: (last - first + 1) * SECTOR,
      type: guid(e.subarray(0, 16)),
      ...(name ? { name } : {}),
    });
  }
  return { scheme: 'gpt', partitions, tableAreas, notes };
}
