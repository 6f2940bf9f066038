/**
 * The tie (lima/scripts/atlas-tie.sh): the launcher that ties a tool's life to this process's, so
 * that nothing started here outlives it, even when it is killed with -9. Found upward from this
 * file (from source and from dist alike), once, when first needed; a bundle shipped without the
 * scripts (the raw-disk helper) has none and runs its few short tools untied.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TIE = join('lima', 'scripts', 'atlas-tie.sh');
let found: string | null | undefined;

/** The tie's path, or undefined where it cannot run (not Linux, or not shipped). */
export function tieScript(): string | undefined {
  if (found === undefined) found = process.platform === 'linux' ? locate() : null;
  return found ?? undefined;
}

function locate(): string | null {
  const fromEnv = process.env.ATLAS_IMAGER_ROOT;
  if (fromEnv && existsSync(join(fromEnv, TIE))) return join(fromEnv, TIE);
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.url));
  } catch {
    return null;
  }
  for (;;) {
    if (existsSync(join(dir, TIE)) && existsSync(join(dir, 'package.json'))) return join(dir, TIE);
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * Whether `command` can be started (a path that is executable, or a name found in PATH): a
 * command started through the tie would otherwise only fail inside it, with exit 127.
 */
export function commandExists(command: string, path = process.env.PATH ?? ''): boolean {
  const ok = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return ok(isAbsolute(command) ? command : join(process.cwd(), command));
  return path.split(delimiter).some((d) => d !== '' && ok(join(d, command)));
}
