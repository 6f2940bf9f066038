/**
 * Test fixtures: Armbian-shaped card images built by test/fixtures/make-card-image.sh (no mounting),
 * cached under test-output/fixtures by variant + options + the generator's own checksum.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const OUTPUT = join(ROOT, 'test-output');

/** The files of a clone set folder, sorted. */
/** The files of a clone set a clone job lists (its result's `files`), in order. */
export const CLONE_FILES = [
  'partition-table.dump',
  'restore_golden.sh',
  'sdc1-boot.partclone.gz',
  'sdc2-root.partclone.gz',
];
/** Every file in a clone set's folder, sorted: the clone's files and the manifest. */
export const CLONE_SET_FILES = ['manifest.json', ...CLONE_FILES];
const GENERATOR = join(ROOT, 'test', 'fixtures', 'make-card-image.sh');

export type Variant = 'base' | 'golden' | 'provisioned' | 'provisioned-booted' | 'no-ext4';

export interface FixtureOptions {
  rootMiB?: number;
  fillMiB?: number;
  label?: 'mbr' | 'gpt';
  seed?: string;
  /** Hostile layouts: [PATH, TARGET] makes PATH in the root a symlink to TARGET (applied in order). */
  links?: Array<[string, string]>;
  /** Extra files in the root: [PATH, TEXT] (printf %b escapes). */
  puts?: Array<[string, string]>;
  /** The boot partition's cmdline.txt (printf %b escapes). */
  cmdline?: string;
}

/** Path of a cached fixture image. Treat it as read-only: copy it before writing. */
export function fixture(variant: Variant, opts: FixtureOptions = {}): string {
  const args = [variant];
  if (opts.rootMiB) args.push('--root-mib', String(opts.rootMiB));
  if (opts.fillMiB !== undefined) args.push('--fill-mib', String(opts.fillMiB));
  if (opts.label) args.push('--label', opts.label);
  if (opts.seed) args.push('--seed', opts.seed);
  for (const [path, text] of opts.puts ?? []) args.push('--put', `${path}=${text}`);
  for (const [path, target] of opts.links ?? []) args.push('--link', `${path}=${target}`);
  if (opts.cmdline !== undefined) args.push('--cmdline', opts.cmdline);
  const key = createHash('sha256')
    .update(readFileSync(GENERATOR))
    .update(args.join(' '))
    .digest('hex')
    .slice(0, 16);
  const dir = join(OUTPUT, 'fixtures');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${variant}-${key}.img`);
  if (!existsSync(path)) {
    // Several test processes may build the same fixture at once: each writes its own temp file.
    const tmp = `${path}.${process.pid}.tmp`;
    execFileSync('bash', [GENERATOR, variant, tmp, ...args.slice(1)], { stdio: 'pipe' });
    renameSync(tmp, path);
  }
  return path;
}

const made: string[] = [];

/** A fresh scratch directory for one test (removed when its test file is done). */
export function scratch(name: string): string {
  const base = join(OUTPUT, 'scratch');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, `${name}-`));
  made.push(dir);
  return dir;
}

/** Removes this file's scratch folders, except any that still has something mounted in it. */
export function removeScratch(): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  for (const dir of made.splice(0)) {
    if (mounts.includes(` ${dir}`)) continue;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Copies a fixture into `dir` (sparse) so a test may modify it. */
export function copyFixture(src: string, dir: string, name: string): string {
  const dest = join(dir, name);
  try {
    execFileSync('cp', ['--sparse=always', src, dest]);
  } catch {
    copyFileSync(src, dest);
  }
  return dest;
}
