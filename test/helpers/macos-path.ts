// The PATH of a stock Mac, for the tests of the Mac path: a folder holding only what macOS itself
// ships (test/doubles/README.md cites the sources), the doubles of test/doubles/bin, and Node (the
// app's own runtime: Electron in the packaged app). A Mac-side step that starts anything else
// (xz, zstd, pigz, the Linux disk tools) fails with missing-tool, as it would on a real Mac.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ROOT, scratch } from './fixtures.js';

/** Commands in macOS 14's /bin, /sbin, /usr/bin and /usr/sbin that the code or its scripts may start. */
export const MACOS_COMMANDS = [
  ...['sh', 'bash', 'zsh', 'cat', 'cp', 'mv', 'rm', 'ln', 'ls', 'mkdir', 'rmdir', 'chmod', 'chown'],
  ...['df', 'du', 'dd', 'id', 'stat', 'env', 'awk', 'sed', 'grep', 'head', 'tail', 'tr', 'cut'],
  ...['sort', 'uniq', 'wc', 'tar', 'gzip', 'gunzip', 'zcat', 'bzip2', 'openssl', 'ssh', 'scp'],
  ...['curl', 'mount', 'umount', 'sudo', 'dirname', 'basename', 'mktemp', 'sleep', 'kill', 'ps'],
  ...['xargs', 'find', 'tee', 'touch', 'true', 'false', 'test', 'printf', 'uname', 'hostname'],
  ...['sync', 'expr', 'date', 'whoami', 'diff', 'cmp', 'od', 'file', 'which', 'getconf', 'shasum'],
  ...['mkfifo'],
];

/**
 * The Mac tests run the Linux card platform (platform/linux.ts) in place of darwin.ts (diskutil,
 * df): its tools stand in for those, and are the only Linux tools let in.
 */
export const CARD_PLATFORM_STANDINS = ['blockdev', 'udisksctl', 'pkexec'];

/** What a stock Mac lacks and the Mac side used to start. */
export const NOT_ON_A_MAC = ['xz', 'unxz', 'zstd', 'unzstd', 'pigz', 'unpigz'];

const FULL_PATH = process.env.PATH ?? '';

function which(cmd: string): string | undefined {
  for (const dir of FULL_PATH.split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

let made: string | undefined;

/**
 * Links `cmds` (those found on this box) and Node into DIR: a PATH that holds nothing else.
 * Returns DIR.
 */
export function pathOf(dir: string, cmds: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  link(process.execPath, join(dir, 'node'));
  for (const cmd of cmds) {
    const at = which(cmd);
    if (at) link(at, join(dir, cmd));
  }
  return dir;
}

/** A link made once: test files running side by side may make the same folder. */
function link(target: string, at: string): void {
  try {
    symlinkSync(target, at);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** The folder that is the whole PATH of a stock Mac here (made once per test file). */
export function macosPath(): string {
  if (made) return made;
  const dir = join(scratch('macos-path'), 'bin');
  mkdirSync(dir);
  const doubles = join(ROOT, 'test', 'doubles', 'bin');
  for (const name of readdirSync(doubles)) symlinkSync(join(doubles, name), join(dir, name));
  pathOf(dir, [...MACOS_COMMANDS, ...CARD_PLATFORM_STANDINS]);
  // The check means something only if the tools are installed here and not reachable there.
  for (const cmd of ['xz', 'zstd', 'pigz']) {
    if (!which(cmd)) throw new Error(`${cmd} is not installed on this test box`);
  }
  const leak = NOT_ON_A_MAC.filter((c) => existsSync(join(dir, c)));
  if (leak.length > 0) throw new Error(`the Mac PATH holds ${leak.join(', ')}`);
  made = dir;
  return dir;
}

/** Runs `fn` with the PATH of a stock Mac (restored after it, for the tests' own tools). */
export async function withMacosPath<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = macosPath();
  try {
    return await fn();
  } finally {
    process.env.PATH = saved;
  }
}

/** Whether `cmd` can be started with the PATH of a stock Mac. */
export function startsOnAMac(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { env: { PATH: macosPath() }, stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Runs a check of the test's own (sync, so no Mac-side step runs meanwhile) with this box's PATH. */
export function onTestBox<T>(fn: () => T): T {
  const saved = process.env.PATH;
  process.env.PATH = FULL_PATH;
  try {
    return fn();
  } finally {
    process.env.PATH = saved;
  }
}
