// A refused partition-table.dump line is quoted no further than the field that failed, escaped:
// the file may be a secret (a link to /etc/shadow in a received set) or carry terminal escapes.
import { describe, expect, it } from 'vitest';
import { parsePartitionDump } from '../../src-main/core/library/partition-dump.js';

const GOOD = `label: dos
label-id: 0x1234abcd
device: /dev/sdc
unit: sectors
sector-size: 512

/dev/sdc1 : start=        8192, size=     1048576, type=c, bootable
/dev/sdc2 : start=     1056768, size=      327680, type=83
`;

function message(text: string): string {
  try {
    parsePartitionDump(text);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe('a refused dump line', () => {
  it('quotes no more of a line from another file than its first field', () => {
    const m = message('root:$y$j9T$SECRETSALT$SECRETHASH:19000:0:99999:7:::\nlabel: dos\n');
    expect(m).toMatch(/line 1 is not one sfdisk writes/);
    expect(m).not.toContain('SECRET');
    expect(m).toContain('"root"');
  });

  it('names the partition field that failed, and only that field', () => {
    const m = message(GOOD.replace('type=83', 'type=83, secret=hunter2-hunter2'));
    expect(m).toContain('"secret=hunter2-hunter2"');
    expect(m).not.toContain('start=');
    const swapped = message(GOOD.replace('size=      327680, type=83', 'type=83, size=      327680'));
    expect(swapped).toMatch(/field 2 is not size=: "type=83"/);
  });

  it('escapes control characters and cuts a long field', () => {
    const m = message(`\u001b[2J${'x'.repeat(200)}: 1\n${GOOD}`);
    expect(m).not.toContain('\u001b');
    expect(m).toContain('\\x1b[2J');
    expect(m).toContain('…');
    expect(m.length).toBeLessThan(300);
  });
});
