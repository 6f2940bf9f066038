// The raw-disk helper runs in the tests as it ships: the bundle in dist/privileged. `npm test`
// builds it before the lanes start; a test file run alone builds it only when it is missing or
// older than a source its source map names. Never rebuilt while the lanes run: the build empties
// dist/privileged, and a helper started meanwhile by another lane would not be found.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HELPER_PATH } from '../../src-main/core/cards/helper-client.js';
import { PACKAGE_ROOT as ROOT } from '../../src-main/core/paths.js';

/** Why the bundle cannot be used as it is (missing, or older than one of its sources), or undefined. */
export function helperBundleStale(): string | undefined {
  if (!existsSync(HELPER_PATH) || !existsSync(`${HELPER_PATH}.map`)) return `${HELPER_PATH} is missing`;
  const { sources } = JSON.parse(readFileSync(`${HELPER_PATH}.map`, 'utf8')) as { sources: string[] };
  const ours = sources.map((s) => resolve(dirname(HELPER_PATH), s)).filter((s) => s.includes('/src-main/'));
  if (!ours.includes(join(ROOT, 'src-main', 'privileged', 'raw-disk-helper.ts'))) {
    return `${HELPER_PATH} was not built from src-main/privileged/raw-disk-helper.ts`;
  }
  const built = statSync(HELPER_PATH).mtimeMs;
  const newer = ours.find((s) => !existsSync(s) || statSync(s).mtimeMs > built);
  return newer ? `${HELPER_PATH} is older than ${newer}` : undefined;
}

/** Builds the bundle when it is stale (npm run build:helper); otherwise leaves it alone. */
export function ensureHelperBundle(): void {
  if (helperBundleStale() === undefined) return;
  execFileSync('npm', ['run', '--silent', 'build:helper'], { cwd: ROOT });
}
