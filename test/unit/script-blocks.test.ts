// What the builder scripts share with the app is written into them from one source
// (scripts/sh-blocks.mjs): the exit status from ERROR_CODES, the layout from common/card-layout.ts,
// and restore_golden.sh's copy of atlas-common.sh's standalone parts. A block edited by hand fails
// the check (npm run lint), and the scripts act on the numbers as the app does.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, SCRIPT_CODES } from '../../src-main/common/error-codes.js';
import * as layout from '../../src-main/common/card-layout.js';
import { COMMON, SCRIPTS, STANDALONE, standaloneParts, updateScripts } from '../../scripts/sh-blocks.mjs';
import { ROOT } from '../helpers/fixtures.js';

const tables = { ERROR_CODES, SCRIPT_CODES, layout };
const dir = mkdtempSync(join(tmpdir(), 'sh-blocks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the scripts with `edit` applied to one of them. */
function copyWith(name: string, rel: string, edit: (text: string) => string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'lima/scripts'), { recursive: true });
  for (const s of SCRIPTS) cpSync(join(ROOT, s), join(root, s));
  const text = readFileSync(join(root, rel), 'utf8');
  const next = edit(text);
  expect(next, 'the edit changes the script').not.toBe(text);
  writeFileSync(join(root, rel), next);
  return root;
}

/** Runs bash with atlas-common.sh sourced. */
function bash(script: string, ...args: string[]) {
  return spawnSync('bash', ['-c', `source "$0"; ${script}`, join(ROOT, COMMON), ...args], {
    encoding: 'utf8',
  });
}

describe('the blocks written into the scripts', () => {
  it('are up to date in every script (npm run build writes them)', () => {
    expect(updateScripts(ROOT, tables, false)).toEqual([]);
  });

  it('restore_golden.sh carries every standalone part of atlas-common.sh', () => {
    const parts = standaloneParts(readFileSync(join(ROOT, COMMON), 'utf8'));
    const standalone = readFileSync(join(ROOT, STANDALONE), 'utf8');
    for (const part of parts) expect(standalone).toContain(part);
    expect(parts.join('\n')).toMatch(/^atlas_size\(\)/m);
    expect(parts.join('\n')).toMatch(/^atlas_read_dump\(\)/m);
    expect(standalone).not.toMatch(/^source /m);
  });

  it.each([
    [
      'a copied function in restore_golden.sh',
      STANDALONE,
      'atlas_common',
      (t: string) => t.replace('printf "%.1f %s"', 'printf "%.2f %s"'),
    ],
    [
      'a layout number in restore_golden.sh',
      STANDALONE,
      'atlas_layout',
      (t: string) => t.replace('ATLAS_BACKUP_GPT_SECTORS=33', 'ATLAS_BACKUP_GPT_SECTORS=34'),
    ],
    [
      'the system mounts in atlas-common.sh',
      COMMON,
      'atlas_layout',
      (t: string) => t.replace('/boot/* | ', ''),
    ],
    [
      'the exit status in atlas-common.sh',
      COMMON,
      'atlas_exit_status',
      (t: string) => t.replace('bad-input | ', ''),
    ],
  ])('fail the check when %s is edited by hand', (_what, rel, block, edit) => {
    const root = copyWith(block + rel.replace(/\W/g, '-'), rel, edit);
    expect(updateScripts(root, tables, false)).toEqual([{ script: rel, block }]);
    // The same through the command npm run lint runs (it reads the tables built in dist/).
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/sh-blocks.mjs'), '--check', '--root', root], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${rel}: the ${block} block is out of date or was edited by hand`);
  });

  it('fail the check when a standalone part of atlas-common.sh changes and restore_golden.sh is not rewritten', () => {
    const root = copyWith('common-part', COMMON, (t) => t.replace('atlas_log() {', 'atlas_log() { :;'));
    expect(updateScripts(root, tables, false)).toEqual([{ script: STANDALONE, block: 'atlas_common' }]);
    expect(updateScripts(root, tables, true)).toEqual([{ script: STANDALONE, block: 'atlas_common' }]);
    expect(updateScripts(root, tables, false)).toEqual([]);
  });
});

describe('the layout, in TypeScript and in bash', () => {
  it('the same system mounts', () => {
    const mounts = [
      '/',
      '/boot',
      '/boot/efi',
      '/boot/firmware',
      '/boot/anything',
      '/bootx',
      '/usr',
      '/usr/local',
      '/var',
      '/var/lib',
      '/home',
      '/mnt/card',
      '/media/pi/boot',
      '',
    ];
    const r = bash(
      'for m in "$@"; do if atlas_system_mount "$m"; then echo yes; else echo no; fi; done',
      ...mounts,
    );
    expect(r.stdout.trim().split('\n')).toEqual(mounts.map((m) => (layout.isSystemMount(m) ? 'yes' : 'no')));
    expect(mounts.filter((m) => layout.isSystemMount(m))).toEqual([
      '/',
      '/boot',
      '/boot/efi',
      '/boot/firmware',
      '/boot/anything',
      '/usr',
      '/var',
      '/home',
    ]);
  });

  it('the same table tail', () => {
    const r = bash('echo "$(atlas_tail_sectors gpt) $(atlas_tail_sectors dos)"');
    expect(r.stdout.trim()).toBe(`${layout.tableTailSectors('gpt')} ${layout.tableTailSectors('dos')}`);
    expect(layout.tableTailSectors('gpt')).toBe(33);
  });

  // [card bytes, label, root start, block size, minimum blocks] -> what fit_image.sh and
  // restore_golden.sh make of it: no room, or the blocks, least card and headroom.
  const MiB = 1024 * 1024;
  /** A card whose root, from sector 2048, has room for exactly this many 4 KiB blocks (+ the tail). */
  const card = (blocks: number, tail = 0) => (2048 + blocks * 8 + tail) * 512;
  it.each([
    [
      'room for the minimum and 5 %',
      1000 * MiB,
      'dos',
      2048,
      4096,
      100_000,
      { blocks: 255_744, headroom: 'ok' },
    ],
    [
      'exactly 5 % over the minimum',
      card(105_000),
      'dos',
      2048,
      4096,
      100_000,
      { blocks: 105_000, headroom: 'ok' },
    ],
    [
      'one block under 5 %',
      card(104_999) + 4095,
      'dos',
      2048,
      4096,
      100_000,
      { blocks: 104_999, headroom: 'low' },
    ],
    [
      'the backup GPT taken off the end',
      card(4000, 33),
      'gpt',
      2048,
      4096,
      3000,
      { blocks: 4000, headroom: 'ok' },
    ],
    ['the same card without it', card(4000, 33), 'dos', 2048, 4096, 3000, { blocks: 4004, headroom: 'ok' }],
    [
      'data larger than the card',
      100 * MiB,
      'dos',
      2048,
      4096,
      30_000,
      { blocks: 25_344, headroom: 'low', fits: false },
    ],
    ['no more than 1 MiB for root', card(256), 'dos', 2048, 4096, 1, 'no room'],
    ['just over 1 MiB for root', card(256) + 512, 'dos', 2048, 512, 1, { blocks: 2049, headroom: 'ok' }],
  ] as const)('the fit: %s', (_what, bytes, label, start, blockSize, minBlocks, expected) => {
    const r = bash(
      'atlas_fit_room "$1" "$2" "$3" || { echo "no room"; exit 0; }; fits=true; atlas_fit_root "$1" "$4" "$5" || fits=false; echo "$FIT_BLOCKS $FIT_SECTORS $FIT_MIN_BYTES $FIT_HEADROOM $fits"',
      String(start),
      label,
      String(bytes),
      String(blockSize),
      String(minBlocks),
    );
    expect(r.status, r.stderr).toBe(0);
    if (expected === 'no room') return expect(r.stdout.trim()).toBe('no room');
    const [blocks, sectors, minBytes, headroom, fits] = r.stdout.trim().split(' ');
    const tail = layout.tableTailSectors(label);
    expect({ blocks: Number(blocks), headroom, fits: fits === 'true' }).toEqual({ fits: true, ...expected });
    expect(Number(blocks)).toBe(Math.floor(((Math.floor(bytes / 512) - tail - start) * 512) / blockSize));
    expect(Number(sectors)).toBe((Number(blocks) * blockSize) / 512);
    expect(Number(minBytes)).toBe((start + tail) * 512 + minBlocks * blockSize);
    expect(headroom === 'ok').toBe(Number(blocks) * 100 >= minBlocks * (100 + layout.ROOT_HEADROOM_PERCENT));
  });
});
