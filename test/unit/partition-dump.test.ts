// partition-table.dump from a clone set someone else made: only what sfdisk writes for the card is
// read. The app reads it with parsePartitionDump, a clone set's restore_golden.sh with atlas_read_dump
// (atlas-common.sh, copied into the script): every case below goes through both, with one verdict.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpBytesNeeded, parsePartitionDump } from '../../src-main/core/library/partition-dump.js';
import { ROOT } from '../helpers/fixtures.js';

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
const gpt = sfdiskDump('gpt');

/** What a reader made of a dump: [label, p1 start, p1 sectors, p2 start, p2 sectors], or its refusal. */
type Verdict = { read: [string, number, number, number, number] } | { refused: string };

function byApp(text: string): Verdict {
  try {
    const d = parsePartitionDump(text);
    return {
      read: [
        d.label,
        d.partitions[0]!.start,
        d.partitions[0]!.size,
        d.partitions[1]!.start,
        d.partitions[1]!.size,
      ],
    };
  } catch (e) {
    return { refused: (e as Error).message };
  }
}

let n = 0;
function byScript(text: string): Verdict {
  const file = join(dir, `partition-table.dump.${n++}`);
  writeFileSync(file, text);
  const r = spawnSync(
    'bash',
    [
      '-c',
      'source "$0"; atlas_read_dump "$1"; echo "$DUMP_LABEL $DUMP_P1_START $DUMP_P1_SECTORS $DUMP_P2_START $DUMP_P2_SECTORS"',
      join(ROOT, 'lima/scripts/atlas-common.sh'),
      file,
    ],
    { encoding: 'utf8' },
  );
  if (r.status === 0) {
    const [label, ...nums] = r.stdout.trim().split(' ');
    return { read: [label!, ...(nums.map(Number) as [number, number, number, number])] };
  }
  expect(r.status, r.stderr).toBe(2);
  return { refused: r.stderr.trim() };
}

const third = `${good}/dev/x3 : start=     2000000, size=        2048, type=83\n`;
const p2 = /^(\S+2 : .*)$/m.exec(good)![1]!;
const p1 = /^(\S+1 : .*)$/m.exec(good)![1]!;
const withP2 = (extra: string) => good.replace(p2, `${p2}${extra}`);

/** [what, dump, what both readers make of it: the partitions read, or a refusal matching this]. */
const CASES: Array<[string, string, [string, number, number, number, number] | RegExp]> = [
  ['the MBR dump sfdisk writes', good, ['dos', 8192, 1048576, 1056768, 327680]],
  ['the GPT dump sfdisk writes', gpt, ['gpt', 8192, 1048576, 1056768, 327680]],
  ['sfdisk’s own last-lba header', `${good}last-lba: 99999999\n`, ['dos', 8192, 1048576, 1056768, 327680]],
  ['blank lines of spaces', `\n   \n${good}\t\n`, ['dos', 8192, 1048576, 1056768, 327680]],
  [
    'mmcblk partition names',
    good.replace(/\/dev\/sdc(\d)/g, '/dev/mmcblk0p$1'),
    ['dos', 8192, 1048576, 1056768, 327680],
  ],
  [
    'a name with a comma, and options repeated',
    withP2(', name="a, b", bootable, bootable'),
    ['dos', 8192, 1048576, 1056768, 327680],
  ],
  ['a name of 72 characters', withP2(`, name="${'n'.repeat(72)}"`), ['dos', 8192, 1048576, 1056768, 327680]],
  [
    'a name of 36 two-byte characters',
    withP2(`, name="${'é'.repeat(36)}"`),
    ['dos', 8192, 1048576, 1056768, 327680],
  ],
  [
    'a partition from sector 34',
    good.replace(/start=\s*8192/, 'start=34'),
    ['dos', 34, 1048576, 1056768, 327680],
  ],
  ['two label lines: the last', `label: gpt\n${good}`, ['dos', 8192, 1048576, 1056768, 327680]],
  [
    'fields out of order',
    good.replace(/start=\s*8192, size=\s*1048576, type=c/, 'start=8192, type=c, size=1048576'),
    /line \d+ is not one sfdisk writes/,
  ],
  ['a size in MiB', good.replace(/start=\s*8192,/, 'start=4MiB,'), /not one sfdisk/],
  ['a relative size', good.replace(/size=\s*327680/, 'size=+'), /not one sfdisk/],
  ['an indented header', `${good}  last-lba: 99999999\n`, /not one sfdisk/],
  ['another sector size', `${good}sector-size: 4096\n`, /not one sfdisk/],
  ['an sfdisk command', `${good}write\n`, /not one sfdisk/],
  [
    'a line of another file',
    `root:$y$j9T$SALT$HASH:19000:0:99999:7:::\n${good}`,
    /line 1 is not one sfdisk writes/,
  ],
  ['an unknown field', withP2(', secret=hunter2'), /not one sfdisk/],
  ['a trailing comma', withP2(', '), /not one sfdisk/],
  ['a name of 73 characters', withP2(`, name="${'n'.repeat(73)}"`), /not one sfdisk/],
  ['an unterminated name', withP2(', name="boot'), /not one sfdisk/],
  ['attributes of 201 characters', withP2(`, attrs="${'a'.repeat(201)}"`), /not one sfdisk/],
  ['a uuid of 35 characters', withP2(`, uuid=${'A'.repeat(35)}`), /not one sfdisk/],
  ['a type of 37 characters', good.replace('type=83', `type=${'8'.repeat(37)}`), /not one sfdisk/],
  [
    'a label-id of 41 characters',
    good.replace(/^label-id: .*$/m, `label-id: 0x${'a'.repeat(39)}`),
    /not one sfdisk/,
  ],
  ['a 16-digit header number', `${good}first-lba: ${'9'.repeat(16)}\n`, /not one sfdisk/],
  ['a 16-digit size', good.replace(/size=\s*327680/, `size= ${'9'.repeat(16)}`), /not one sfdisk/],
  ['a carriage return in the device line', good.replace(/^device: (.*)$/m, 'device: $1\r'), /not one sfdisk/],
  ['a line of 4097 characters', `${good}device: /dev/${'x'.repeat(4097 - 13)}\n`, /line \d+ is too long/],
  ['no label line', good.replace(/^label: dos\n/m, ''), /no "label: dos"/],
  ['a third partition', third, /lists 3 partitions/],
  ['partitions 2 and 1', good.replace(`${p1}\n${p2}`, `${p2}\n${p1}`), /lists 2 partitions/],
  ['partitions 1 and 3', good.replace(p2, p2.replace(/2 : /, '3 : ')), /lists 2 partitions/],
  ['overlapping partitions', good.replace(/size=\s*1048576/, 'size= 1048577'), /runs into partition 2/],
  ['an empty partition', good.replace(/size=\s*327680/, 'size= 0'), /no size/],
  ['a partition inside the table', good.replace(/start=\s*8192/, 'start= 1'), /inside the partition table/],
];

describe('partition-table.dump, read by the app and by the scripts alike', () => {
  it.each(CASES)('%s', (_what, text, expected) => {
    const verdicts = { app: byApp(text), script: byScript(text) };
    for (const [reader, v] of Object.entries(verdicts)) {
      if (expected instanceof RegExp) {
        expect(v, reader).toHaveProperty('refused');
        expect((v as { refused: string }).refused, reader).toMatch(
          /partition-table\.dump\S* is not a partition table this clone set could have/,
        );
        expect((v as { refused: string }).refused, reader).toMatch(expected);
      } else expect(v, reader).toEqual({ read: expected });
    }
  });

  it('the bytes a card needs for a GPT dump include the backup GPT', () => {
    expect(dumpBytesNeeded(parsePartitionDump(gpt))).toBe((1056768 + 327680 + 33) * 512);
  });
});
