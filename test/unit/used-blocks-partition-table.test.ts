// The partition table reader against tables written by sfdisk, and against damaged ones.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch } from '../helpers/fixtures.js';
import { sfdiskJson } from '../helpers/disk-tools.js';
import { handleReader } from '../../src-main/core/rawio/used-blocks/byte-reader.js';
import { readPartitionTable } from '../../src-main/core/rawio/used-blocks/partition-table.js';
import { UsedMapError } from '../../src-main/core/rawio/used-blocks/map-error.js';
import { mapCard } from '../../src-main/core/rawio/used-blocks/used-ranges.js';

const MiB = 1024 * 1024;
let dir: string;

function image(name: string, bytes: number, table?: string): string {
  const p = join(dir, name);
  writeFileSync(p, '');
  execFileSync('truncate', ['-s', String(bytes), p]);
  if (table) execFileSync('sfdisk', ['-q', p], { input: table, stdio: ['pipe', 'ignore', 'pipe'] });
  return p;
}

async function read(path: string) {
  const fh = await open(path, 'r');
  try {
    return await readPartitionTable(handleReader(fh, (await fh.stat()).size));
  } finally {
    await fh.close();
  }
}

function zeroSector(path: string, lba: number): void {
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(512), 0, 512, lba * 512);
  closeSync(fd);
}

/** Our partitions in sfdisk's terms (start and size in sectors). */
function asSectors(t: Awaited<ReturnType<typeof read>>) {
  return t.partitions.map((p) => ({ start: p.start / 512, size: p.length / 512 }));
}

beforeAll(() => {
  dir = scratch('ptable');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readPartitionTable', () => {
  it('reads an MBR like the Armbian one: the same partitions as sfdisk, the MBR sector as table area', async () => {
    const p = image(
      'mbr.img',
      64 * MiB,
      'label: dos\nstart=8192, size=32768, type=c\nstart=40960, size=81920, type=83\n',
    );
    const t = await read(p);
    expect(t.scheme).toBe('mbr');
    expect(asSectors(t)).toEqual(sfdiskJson(p).partitions.map((q) => ({ start: q.start, size: q.size })));
    expect(t.partitions.map((q) => [q.index, q.type])).toEqual([
      [1, '0x0c'],
      [2, '0x83'],
    ]);
    expect(t.tableAreas).toEqual([{ start: 0, end: 512 }]);
  });

  it('follows the chain of logical partitions in an extended partition', async () => {
    const p = image(
      'ext.img',
      64 * MiB,
      'label: dos\nstart=2048, size=8192, type=83\nstart=10240, size=100000, type=5\nstart=12288, size=8192, type=83\nstart=22528, size=8192, type=82\nstart=32768, size=4096, type=83\n',
    );
    const t = await read(p);
    const theirs = sfdiskJson(p).partitions.filter((q) => q.type !== '5');
    expect(asSectors(t)).toEqual(theirs.map((q) => ({ start: q.start, size: q.size })));
    expect(t.partitions.map((q) => q.index)).toEqual([1, 5, 6, 7]);
    // The MBR and one EBR per logical partition are table areas.
    expect(t.tableAreas).toHaveLength(4);
    expect(t.tableAreas[1]).toEqual({ start: 10240 * 512, end: 10241 * 512 });
  });

  it('reads a GPT behind its protective MBR, with names, type GUIDs and both table copies', async () => {
    const p = image(
      'gpt.img',
      64 * MiB,
      'label: gpt\nfirst-lba: 2048\nstart=8192, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="RPICFG"\nstart=40960, size=81920, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="armbi_root"\n',
    );
    const t = await read(p);
    expect(t.scheme).toBe('gpt');
    expect(asSectors(t)).toEqual(sfdiskJson(p).partitions.map((q) => ({ start: q.start, size: q.size })));
    expect(t.partitions.map((q) => [q.type, q.name])).toEqual([
      ['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', 'RPICFG'],
      ['0FC63DAF-8483-4772-8E79-3D69D8477DE4', 'armbi_root'],
    ]);
    const last = (64 * MiB) / 512 - 1;
    expect(t.tableAreas).toContainEqual({ start: 512, end: 1024 }); // primary header
    expect(t.tableAreas).toContainEqual({ start: 2 * 512, end: 34 * 512 }); // primary entries
    expect(t.tableAreas).toContainEqual({ start: last * 512, end: (last + 1) * 512 }); // backup header
    expect(t.tableAreas).toContainEqual({ start: (last - 32) * 512, end: last * 512 }); // backup entries
    expect(t.notes).toEqual([]);
  });

  it('uses the backup GPT when the primary header is damaged, and says so', async () => {
    const p = image(
      'gpt-damaged.img',
      32 * MiB,
      'label: gpt\nstart=2048, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n',
    );
    zeroSector(p, 1);
    const t = await read(p);
    expect(t.scheme).toBe('gpt');
    expect(asSectors(t)).toEqual([{ start: 2048, size: 20480 }]);
    expect(t.notes.join()).toMatch(/primary GPT is damaged/);
    // The primary area still counts as table: a copy must carry whatever is there.
    expect(t.tableAreas).toContainEqual({ start: 512, end: 34 * 512 });
  });

  it('notes a missing backup GPT', async () => {
    const p = image(
      'gpt-nobackup.img',
      32 * MiB,
      'label: gpt\nstart=2048, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n',
    );
    zeroSector(p, (32 * MiB) / 512 - 1);
    const t = await read(p);
    expect(t.partitions).toHaveLength(1);
    expect(t.notes.join()).toMatch(/backup GPT .* missing or damaged/);
  });

  it('raises a map error when a protective MBR has no valid GPT at all', async () => {
    const p = image(
      'gpt-gone.img',
      32 * MiB,
      'label: gpt\nstart=2048, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n',
    );
    zeroSector(p, 1);
    zeroSector(p, (32 * MiB) / 512 - 1);
    await expect(read(p)).rejects.toBeInstanceOf(UsedMapError);
  });

  it('finds no table on a blank card or on a file system written to the whole card', async () => {
    expect((await read(image('blank.img', 8 * MiB))).scheme).toBe('none');
    const fat = image('superfloppy.img', 32 * MiB);
    execFileSync('mkfs.vfat', ['-F', '16', fat], { stdio: 'ignore' });
    const t = await read(fat);
    expect(t.scheme).toBe('none');
    expect(t.partitions).toEqual([]);
  });
});

describe('readPartitionTable: a GPT is checked before anything it describes is read', () => {
  const GiB = 1024 * MiB;

  /** Rewrites fields of the GPT header at `lba` and its CRC, as a crafted card would carry them. */
  function craftHeader(
    path: string,
    lba: number,
    fields: { count?: number; size?: number; entriesLba?: bigint },
  ): void {
    const fd = openSync(path, 'r+');
    try {
      const s = Buffer.alloc(512);
      readSync(fd, s, 0, 512, lba * 512);
      if (fields.count !== undefined) s.writeUInt32LE(fields.count, 80);
      if (fields.size !== undefined) s.writeUInt32LE(fields.size, 84);
      if (fields.entriesLba !== undefined) s.writeBigUInt64LE(fields.entriesLba, 72);
      s.writeUInt32LE(0, 16);
      s.writeUInt32LE(crc32(s.subarray(0, s.readUInt32LE(12))), 16);
      writeSync(fd, s, 0, 512, lba * 512);
    } finally {
      closeSync(fd);
    }
  }

  /** Fails the test at once (a plain Error, not a map error) on any read larger than 16 MiB. */
  async function readBounded(path: string) {
    const fh = await open(path, 'r');
    try {
      const inner = handleReader(fh, (await fh.stat()).size);
      return await readPartitionTable({
        size: inner.size,
        read: (offset, length) => {
          if (length > 16 * MiB) throw new Error(`a read of ${length} bytes`);
          return inner.read(offset, length);
        },
      });
    } finally {
      await fh.close();
    }
  }

  const table = 'label: gpt\nstart=2048, size=20480, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n';

  it('an entry array of 4 GiB (4096 entries of 1 MiB) on a 5 GiB card is refused without reading it', async () => {
    const p = image('gpt-huge.img', 5 * GiB, table);
    const last = (5 * GiB) / 512 - 1;
    craftHeader(p, 1, { count: 4096, size: MiB });
    // The backup is still good: used, with the reason the primary was not.
    const t = await readBounded(p);
    expect(asSectors(t)).toEqual([{ start: 2048, size: 20480 }]);
    expect(t.notes.join()).toMatch(/primary GPT is damaged \(.*impossible entry size of 1048576 bytes/);
    craftHeader(p, last, { count: 4096, size: MiB });
    const err = await readBounded(p).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UsedMapError);
    expect((err as UsedMapError).message).toMatch(
      /neither GPT is valid: primary: .*entry size of 1048576 bytes.*; backup: .*entry size of 1048576 bytes/,
    );
    // mapCard turns it into a full copy with the reason, never an internal error.
    const fh = await open(p, 'r');
    try {
      const m = await mapCard(handleReader(fh, 5 * GiB));
      expect(m.fallbacks.join()).toMatch(/neither GPT is valid/);
    } finally {
      await fh.close();
    }
  });

  it('too many entries, an array past the end of the card, or one with a wrong CRC', async () => {
    const p = image('gpt-count.img', 32 * MiB, table);
    const last = (32 * MiB) / 512 - 1;
    craftHeader(p, 1, { count: 1 << 20 });
    craftHeader(p, last, { entriesLba: 1n << 40n });
    const msg = await readBounded(p).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(msg).toMatch(/primary: .*describes 1048576 entries of 128 bytes/);
    expect(msg).toMatch(/backup: .*places its entries at sector 1099511627776, past the end of the card/);
    const q = image('gpt-crc.img', 32 * MiB, table);
    const fd = openSync(q, 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, 2 * 512 + 200); // inside the primary entry array
    closeSync(fd);
    const t = await readBounded(q);
    expect(t.notes.join()).toMatch(/entry array of the header at sector 1 has a wrong CRC/);
  });
});
