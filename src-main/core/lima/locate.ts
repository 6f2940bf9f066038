/**
 * Where Lima lives on this machine: the limactl executable and LIMA_HOME.
 *
 * An app started from Finder does not get the shell's PATH (Homebrew's bin folders are missing),
 * so limactl is looked up in ATLAS_LIMACTL, then PATH, then Homebrew's two default prefixes.
 * LIMA_HOME must stay short: Lima keeps unix sockets in every instance folder, and ssh adds 17
 * characters to the control socket's name, which must stay under UNIX_PATH_MAX (104 on macOS,
 * 108 on Linux). Lima itself refuses `create` past that (pkg/instance/create.go).
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { AtlasError } from '../errors.js';

export const HOMEBREW_LIMACTL = ['/opt/homebrew/bin/limactl', '/usr/local/bin/limactl'];

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The candidates, in the order they are tried. */
export function limactlCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.ATLAS_LIMACTL) out.push(env.ATLAS_LIMACTL);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isAbsolute(dir)) out.push(join(dir, 'limactl'));
  }
  out.push(...HOMEBREW_LIMACTL);
  return out;
}

/** The limactl to use, or undefined when Lima is not installed. */
export function findLimactl(
  env: NodeJS.ProcessEnv = process.env,
  usable: (path: string) => boolean = isExecutableFile,
): string | undefined {
  if (env.ATLAS_LIMACTL) {
    // An explicit choice is never silently replaced by another limactl.
    return usable(env.ATLAS_LIMACTL) ? env.ATLAS_LIMACTL : undefined;
  }
  return limactlCandidates(env).find((p) => usable(p));
}

export function limactlNotFound(env: NodeJS.ProcessEnv = process.env): AtlasError {
  const where = env.ATLAS_LIMACTL
    ? `ATLAS_LIMACTL=${env.ATLAS_LIMACTL} is not an executable file`
    : `looked in PATH, ${HOMEBREW_LIMACTL.join(', ')}`;
  return new AtlasError(
    'missing-tool',
    `limactl (Lima) is not installed: ${where}`,
    'install Lima (brew install lima), or set ATLAS_LIMACTL to the path of limactl',
  );
}

/** $LIMA_HOME or ~/.lima, with symlinks resolved as Lima does (/tmp is /private/tmp on macOS). */
export function limaHome(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.LIMA_HOME || join(homedir(), '.lima');
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** The longest socket Lima creates in an instance folder: ssh's control socket while it is made. */
export const LONGEST_SOCKET = 'ssh.sock.1234567890123456';

export function unixPathMax(platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' ? 108 : 104;
}

/** Refuses (with the way out) an instance whose socket paths would be too long for the OS. */
export function checkSocketPathLength(
  home: string,
  instance: string,
  platform: NodeJS.Platform = process.platform,
): void {
  const worst = join(home, instance, LONGEST_SOCKET);
  const max = unixPathMax(platform);
  if (worst.length >= max) {
    throw new AtlasError(
      'bad-input',
      `LIMA_HOME is too long for the ${instance} VM: its socket path ${worst} has ${worst.length} characters, the limit is ${max - 1}`,
      `set LIMA_HOME to a shorter folder (at most ${max - 1 - (worst.length - home.length)} characters, for example ~/.lima) and try again`,
    );
  }
}
