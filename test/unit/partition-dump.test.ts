// partition-table.dump from a clone set someone else made: only what sfdisk writes for the card is read.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpBytesNeeded, parsePartitionDump } from '../../src-main/core/library/partition-dump.js';

const dir = mkdtempSync(join(tmpdir(), 'dump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The dump sfdisk itself writes of a card file with this table. */
function sfdiskDump(label: 'dos' | 'gpt'): string {
  const card = join(dir, `${label}.img`);
  execFileSync('truncate', ['-s', '700M', card]);
  const type = label === 'dos' ? ['c', '83'] : ['EBD0A0A2-B9E5-4433-87C0-68B6B72699C7', 'L'];
  const table = `label: ${label}\nstart=8192, size=1048576, type=${type[0]}${label === 'dos' ? ', bootable' : ', name="boot"'}\nstart=1056768, size=327680, type=${type[1]}\n`;
  execFileSync('sfdisk', ['-q', card], { input: table });
  return execFileSync('sfdisk', ['-d', card], { encoding: 'utf8' });
}

const good = sfdiskDump('dos');

describe('partition-table.dump', () => {
  it('reads the dumps sfdisk writes, MBR and GPT', () => {
    expect(parsePartitionDump(good)).toEqual({
      label: 'dos',
      partitions: [
        { n: 1, start: 8192, size: 1048576 },
        { n: 2, start: 1056768, size: 327680 },
      ],
    });
    const gpt = parsePartitionDump(sfdiskDump('gpt'));
    expect(gpt.label).toBe('gpt');
    expect(dumpBytesNeeded(gpt)).toBe((1056768 + 327680 + 33) * 512);
  });

  it('refuses fields out of order, units, other directives, extra partitions and overlaps', () => {
    const swap = good.replace(/start=\s*8192, size=\s*1048576, type=c/, 'start=8192, type=c, size=1048576');
    expect(() => parsePartitionDump(swap)).toThrow(/line \d+ is not one sfdisk writes/);
    expect(() => parsePartitionDump(good.replace(/start=\s*8192,/, 'start=4MiB,'))).toThrow(/not one sfdisk/);
    expect(() => parsePartitionDump(good.replace(/size=\s*327680/, 'size=+'))).toThrow(/not one sfdisk/);
    expect(() => parsePartitionDump(`${good}last-lba: 99999999\n`)).not.toThrow(); // sfdisk's own header
    expect(() => parsePartitionDump(`${good}  last-lba: 99999999\n`)).toThrow(/not one sfdisk/);
    expect(() => parsePartitionDump(`${good}sector-size: 4096\n`)).toThrow(/not one sfdisk/);
    expect(() => parsePartitionDump(`${good}write\n`)).toThrow(/not one sfdisk/);
    const third = `${good}/dev/x3 : start=     2000000, size=        2048, type=83\n`;
    expect(() => parsePartitionDump(third)).toThrow(/lists 3 partitions/);
    expect(() => parsePartitionDump(good.replace(/size=\s*1048576/, 'size= 1048577'))).toThrow(
      /runs into partition 2/,
    );
    expect(() => parsePartitionDump(good.replace(/size=\s*327680/, 'size= 0'))).toThrow(/no size/);
    expect(() => parsePartitionDump(good.replace(/start=\s*8192/, 'start= 1'))).toThrow(
      /inside the partition table/,
    );
    expect(() => parsePartitionDump(good.replace(/size=\s*327680/, `size= ${'9'.repeat(16)}`))).toThrow(
      /not one sfdisk/,
    );
    expect(() => parsePartitionDump(good.replace(/^label: dos\n/m, ''))).toThrow(/no "label: dos"/);
  });
});
