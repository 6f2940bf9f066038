// Which partition tables are a Raspberry Pi card's: the first partition a FAT file system (MBR
// types 0x0b/0x0c/0x0e…, GPT basic data or EFI system), anything else said in words.
import { describe, expect, it } from 'vitest';
import { describeHead, piLayoutProblem } from '../../src-main/core/write/pi-layout.js';
import type { PartitionTable } from '../../src-main/core/rawio/used-blocks/partition-table.js';

const table = (scheme: PartitionTable['scheme'], types: string[]): PartitionTable => ({
  scheme,
  partitions: types.map((type, i) => ({
    index: i + 1,
    start: (8192 + i * 100_000) * 512,
    length: 1e6,
    type,
  })),
  tableAreas: [],
  notes: [],
});
const sector = Buffer.alloc(512, 0x41);

describe('a Raspberry Pi card layout', () => {
  it('accepts a FAT first partition, MBR or GPT', () => {
    for (const t of ['0x0c', '0x0b', '0x0e', '0x06'])
      expect(piLayoutProblem(table('mbr', [t, '0x83']), sector)).toBeUndefined();
    expect(
      piLayoutProblem(
        table('gpt', ['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', '0FC63DAF-8483-4772-8E79-3D69D8477DE4']),
        sector,
      ),
    ).toBeUndefined();
    expect(piLayoutProblem(table('gpt', ['C12A7328-F81F-11D2-BA4B-00A0C93EC93B']), sector)).toBeUndefined();
  });

  it('names what it found instead', () => {
    expect(piLayoutProblem(table('mbr', ['0x83']), sector)).toBe(
      'partition 1 is type 0x83 (Linux), not the FAT boot partition a Raspberry Pi starts from',
    );
    expect(piLayoutProblem(table('gpt', ['7C3457EF-0000-11AA-AA11-00306543ECAC']), sector)).toMatch(
      /\(Apple APFS\)/,
    );
    expect(piLayoutProblem(table('mbr', ['0xda']), sector)).toMatch(/^partition 1 is type 0xda, not/);
    expect(piLayoutProblem(table('mbr', []), sector)).toBe(
      'an MBR partition table without a first partition',
    );
  });

  it('says what a file without a table looks like', () => {
    expect(describeHead(Buffer.from('hello\nworld\n'))).toBe('it looks like a text file');
    expect(describeHead(Buffer.alloc(4096))).toBe('its first sector is all zeros');
    expect(describeHead(Buffer.alloc(0))).toBe('the file is empty');
    expect(describeHead(Buffer.from([1, 2, 3]))).toBe('it is only 3 bytes long');
    const random = Buffer.alloc(512);
    for (let i = 0; i < 512; i++) random[i] = (i * 7919) % 251;
    expect(describeHead(random)).toMatch(/no 55 AA boot signature/);
    expect(piLayoutProblem(table('none', []), Buffer.from('text\n'))).toBe(
      'no partition table: it looks like a text file',
    );
  });
});
