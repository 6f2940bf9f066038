/**
 * The builder scripts cannot read the TypeScript tables, so this writes what they share with the
 * app into marked blocks of the scripts, from one source each:
 *
 *   atlas_exit_status   from ERROR_CODES (src-main/common/error-codes.ts): 2 when a failure is the
 *                       input's fault, 1 otherwise, like the CLI; in atlas-common.sh and
 *                       restore_golden.sh
 *   atlas_layout        from src-main/common/card-layout.ts: the table areas cleared before a write,
 *                       the backup GPT, the partition heads, the root's headroom, the fit's least
 *                       room and work reserve, the system mounts; in the same two scripts
 *   atlas_common        in restore_golden.sh only: a copy of every part of atlas-common.sh between
 *                       "# BEGIN standalone" and "# END standalone" (restore_golden.sh travels
 *                       alone inside every clone set, so it carries them itself)
 *
 * `npm run build` writes the blocks; `--check` (in lint) fails when one is out of date, whether
 * its source changed or the block was edited by hand.
 *
 *   node scripts/sh-blocks.mjs [--check] [--root DIR]   (reads the built tables in dist/; the
 *                                                      scripts under DIR, default: this project)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const COMMON = 'lima/scripts/atlas-common.sh';
export const STANDALONE = 'lima/scripts/restore_golden.sh';
/** The scripts that carry the exit status and the layout. */
export const SCRIPTS = [COMMON, STANDALONE];
const STANDALONE_BEGIN = '# BEGIN standalone';
const STANDALONE_END = '# END standalone';

const begin = (id) => `# BEGIN ${id}`;
const end = (id) => `# END ${id}`;
const header = (id, from) => `${begin(id)} (written from ${from} by scripts/sh-blocks.mjs: do not edit)`;

/** The failure codes (error codes and the scripts' own codes) that are the input's fault, sorted. */
export function inputCodes(errorCodes, scriptCodes) {
  const codes = Object.keys(errorCodes).filter((c) => errorCodes[c].input);
  for (const [c, e] of Object.entries(scriptCodes))
    if (errorCodes[e]?.input && !codes.includes(c)) codes.push(c);
  return codes.sort();
}

/** The exit status block, markers included. */
export function exitStatusBlock(errorCodes, scriptCodes) {
  return [
    header('atlas_exit_status', 'ERROR_CODES'),
    "atlas_exit_status() { # atlas_exit_status CODE: prints 2 if a failure CODE is the input's fault, else 1",
    '  case "$1" in',
    `    ${inputCodes(errorCodes, scriptCodes).join(' | ')}) echo 2 ;;`,
    '    *) echo 1 ;;',
    '  esac',
    '}',
    end('atlas_exit_status'),
  ].join('\n');
}

/** The numbers of common/card-layout.ts the scripts use, as ATLAS_* variables. */
const LAYOUT_NUMBERS = [
  ['TABLE_SECTORS', "the table area at the card's start: made invalid first, written last"],
  ['BACKUP_GPT_SECTORS', 'the backup GPT at the end of a GPT card'],
  ['FIRST_PARTITION_SECTOR', 'no partition starts before it (the MBR and the primary GPT)'],
  ['PARTITION_HEAD_SECTORS', 'made invalid where each new partition starts'],
  ['ROOT_HEADROOM_PERCENT', "the root keeps this much over its file system's minimum (percent)"],
  ['FIT_MIN_ROOT_SECTORS', 'a root fitted onto a smaller card gets more than this'],
  ['WORK_RESERVE_BYTES', 'a work folder keeps this much free after a root restored into it'],
];

/** The layout block, markers included, from the card-layout module. */
export function layoutBlock(layout) {
  const lines = [
    header('atlas_layout', 'src-main/common/card-layout.ts'),
    '# shellcheck disable=SC2034 # not every script reads every number',
    '{',
  ];
  for (const [name, what] of LAYOUT_NUMBERS) {
    const v = layout[name];
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`card-layout.ts: ${name} is not a count`);
    lines.push(`  ATLAS_${name}=${v} # ${what}`);
  }
  for (const m of layout.SYSTEM_MOUNTS)
    if (!/^\/[A-Za-z0-9/_.-]*(\/\*)?$/.test(m)) throw new Error(`card-layout.ts: bad system mount ${m}`);
  lines.push(
    '}',
    'atlas_system_mount() { # atlas_system_mount MOUNTPOINT: true when a disk with it holds the running system',
    `  case "$1" in ${layout.SYSTEM_MOUNTS.join(' | ')}) return 0 ;; esac`,
    '  return 1',
    '}',
    "atlas_tail_sectors() { # atlas_tail_sectors LABEL: the sectors a table keeps at the card's end (gpt: the backup GPT)",
    `  if [ "$1" = gpt ]; then echo ${layout.tableTailSectors('gpt')}; else echo ${layout.tableTailSectors('dos')}; fi`,
    '}',
    end('atlas_layout'),
  );
  return lines.join('\n');
}

/** The standalone parts of atlas-common.sh (between marker lines), in order, without the markers. */
export function standaloneParts(common) {
  const parts = [];
  let part;
  for (const line of common.split('\n')) {
    if (line === STANDALONE_BEGIN) {
      if (part) throw new Error(`${COMMON}: "${STANDALONE_BEGIN}" inside a standalone part`);
      part = [];
    } else if (line === STANDALONE_END) {
      if (!part) throw new Error(`${COMMON}: "${STANDALONE_END}" without "${STANDALONE_BEGIN}"`);
      parts.push(part.join('\n'));
      part = undefined;
    } else part?.push(line);
  }
  if (part) throw new Error(`${COMMON}: "${STANDALONE_BEGIN}" without "${STANDALONE_END}"`);
  if (!parts.length) throw new Error(`${COMMON} marks no standalone part`);
  return parts;
}

/** restore_golden.sh's copy of atlas-common.sh's standalone parts, markers included. */
export function commonBlock(common) {
  return [
    header('atlas_common', 'the standalone parts of atlas-common.sh'),
    ...standaloneParts(common),
    end('atlas_common'),
  ].join('\n');
}

/** The script's text with the block (named by its first line) replaced; throws if it has none. */
export function withBlock(text, block, name = 'script') {
  const id = /^# BEGIN (\S+)/.exec(block)?.[1];
  const start = text.indexOf(`${begin(id)} `);
  const stop = text.indexOf(`${end(id)}\n`, start);
  if (!id || start < 0 || stop < 0) throw new Error(`${name} has no ${id} block`);
  return text.slice(0, start) + block + text.slice(stop + end(id).length);
}

/** The blocks each script carries, from the tables and atlas-common.sh's text. */
export function scriptBlocks(tables, common) {
  const shared = [exitStatusBlock(tables.ERROR_CODES, tables.SCRIPT_CODES), layoutBlock(tables.layout)];
  return new Map([
    [COMMON, shared],
    [STANDALONE, [...shared, commonBlock(common)]],
  ]);
}

/**
 * The scripts under `root` with every block written (write) or, without write, the list of the
 * blocks that are out of date: `[{ script, block }]`. atlas-common.sh is written first, so the copy
 * restore_golden.sh carries is of its blocks as they will be.
 */
export function updateScripts(root, tables, write) {
  const stale = [];
  const read = (rel) => readFileSync(join(root, rel), 'utf8');
  let common = read(COMMON);
  for (const rel of SCRIPTS) {
    const text = rel === COMMON ? common : read(rel);
    let next = text;
    for (const block of scriptBlocks(tables, common).get(rel)) {
      const after = withBlock(next, block, rel);
      if (after !== next) stale.push({ script: rel, block: /^# BEGIN (\S+)/.exec(block)[1] });
      next = after;
    }
    if (rel === COMMON) common = next;
    if (write && next !== text) writeFileSync(join(root, rel), next);
  }
  return stale;
}

/** The tables the blocks are written from, as built in dist/. */
export async function builtTables(root = ROOT) {
  const load = (m) => import(pathToFileURL(join(root, 'dist/src-main/common', m)).href);
  const [codes, layout] = await Promise.all([load('error-codes.js'), load('card-layout.js')]);
  return { ERROR_CODES: codes.ERROR_CODES, SCRIPT_CODES: codes.SCRIPT_CODES, layout };
}

async function main(check, root) {
  let tables;
  try {
    tables = await builtTables();
  } catch {
    console.error('error: dist/src-main/common/ is missing or out of date: run npm run build first');
    return 1;
  }
  const stale = updateScripts(root, tables, !check);
  if (!check) return 0;
  for (const { script, block } of stale)
    console.error(
      `error: ${script}: the ${block} block is out of date or was edited by hand (run npm run build)`,
    );
  return stale.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf('--root');
  process.exitCode = await main(process.argv.includes('--check'), at > 0 ? process.argv[at + 1] : ROOT);
}
