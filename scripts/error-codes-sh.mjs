/**
 * The builder scripts' exit status comes from the one error-code table (ERROR_CODES in
 * src-main/common/error-codes.ts): 2 when the failure is the input's fault, 1 otherwise, like the
 * CLI. The scripts cannot read the table, so this writes a shell function, `atlas_exit_status CODE`,
 * into the marked block of each script that needs it (atlas-common.sh, and restore_golden.sh, which
 * travels alone inside every clone set). `npm run build` writes the blocks; `--check` (in lint)
 * fails when one is out of date.
 *
 *   node scripts/error-codes-sh.mjs [--check]      (reads the built table in dist/)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCRIPTS = ['lima/scripts/atlas-common.sh', 'lima/scripts/restore_golden.sh'];
const BEGIN = '# BEGIN atlas_exit_status';
const END = '# END atlas_exit_status';

/** The failure codes (error codes and the scripts' own codes) that are the input's fault, sorted. */
export function inputCodes(errorCodes, scriptCodes) {
  const codes = Object.keys(errorCodes).filter((c) => errorCodes[c].input);
  for (const [c, e] of Object.entries(scriptCodes))
    if (errorCodes[e]?.input && !codes.includes(c)) codes.push(c);
  return codes.sort();
}

/** The shell block, markers included. */
export function exitStatusBlock(errorCodes, scriptCodes) {
  return [
    `${BEGIN} (written from ERROR_CODES by scripts/error-codes-sh.mjs: do not edit)`,
    "atlas_exit_status() { # atlas_exit_status CODE: prints 2 if a failure CODE is the input's fault, else 1",
    '  case "$1" in',
    `    ${inputCodes(errorCodes, scriptCodes).join(' | ')}) echo 2 ;;`,
    '    *) echo 1 ;;',
    '  esac',
    '}',
    END,
  ].join('\n');
}

/** The script's text with its block replaced; throws if it has no block. */
export function withBlock(text, block, name = 'script') {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error(`${name} has no atlas_exit_status block`);
  return text.slice(0, start) + block + text.slice(end + END.length);
}

async function main(check) {
  let table;
  try {
    table = await import(pathToFileURL(join(ROOT, 'dist/src-main/common/error-codes.js')).href);
  } catch {
    console.error('error: dist/src-main/common/error-codes.js is missing: run npm run build first');
    return 1;
  }
  const block = exitStatusBlock(table.ERROR_CODES, table.SCRIPT_CODES);
  let stale = 0;
  for (const rel of SCRIPTS) {
    const file = join(ROOT, rel);
    const text = readFileSync(file, 'utf8');
    const next = withBlock(text, block, rel);
    if (next === text) continue;
    if (check) {
      console.error(`error: ${rel}: atlas_exit_status is out of date with ERROR_CODES (run npm run build)`);
      stale++;
    } else writeFileSync(file, next);
  }
  return stale ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.includes('--check'));
}
