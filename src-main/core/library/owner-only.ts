/**
 * Golden images, clone sets and clone images carry atlas_secrets.conf (the root password, the
 * enrolment keys): everything the engine writes into the library, the archive or the staging
 * folder is readable by its owner only. Files are created 0600 and folders 0700 where they are
 * made; what a builder script writes (it runs as root, with its own umask) is tightened before
 * the output gets its final name. The library itself is created 0700, and an existing library
 * that others can read is tightened, as the seed's ~/atlas-build holds the same secrets.
 */
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { JobContext } from '../jobs/job.js';

export const OWNER_FILE = 0o600;
export const OWNER_DIR = 0o700;

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** A folder for output: created 0700 when new; an existing one is left as it is. */
export async function ensureOwnerDir(dir: string): Promise<void> {
  const made = await mkdir(dir, { recursive: true, mode: OWNER_DIR });
  if (made !== undefined) await chmod(dir, OWNER_DIR); // the umask may have taken bits off
}

/**
 * The library: created 0700; an existing one with group or other bits is tightened to 0700,
 * unless it is a folder others rely on (a sticky folder such as /tmp, the home folder, /), which
 * is only warned about.
 */
export async function ensureLibraryDir(library: string, ctx?: JobContext): Promise<void> {
  const dir = resolve(library);
  const made = await mkdir(dir, { recursive: true, mode: OWNER_DIR });
  if (made !== undefined) {
    await chmod(dir, OWNER_DIR);
    return;
  }
  const st = await stat(dir);
  if ((st.mode & 0o077) === 0) return;
  const shared = (st.mode & 0o1000) !== 0 || dir === resolve(homedir()) || dir === '/';
  if (shared) {
    ctx?.log(
      `warning: the library ${dir} is readable by other users (mode ${octal(st.mode)}); its images are owner-only, but use a private library folder`,
    );
    return;
  }
  await chmod(dir, OWNER_DIR);
  ctx?.log(`the library ${dir} was readable by other users (mode ${octal(st.mode)}): now 0700`);
}

/** Takes group and other bits off a finished file or folder (recursively), keeping the owner's. */
export async function makeOwnerOnly(path: string): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    await chmod(path, OWNER_DIR);
    for (const name of await readdir(path)) await makeOwnerOnly(join(path, name));
    return;
  }
  await chmod(path, (st.mode & 0o700) | OWNER_FILE);
}

/** The folder an output goes to: the library (kept private), or another folder (created 0700). */
export async function ensureOutputDir(outDir: string, library: string, ctx?: JobContext): Promise<void> {
  if (resolve(outDir) === resolve(library)) await ensureLibraryDir(library, ctx);
  else await ensureOwnerDir(outDir);
}
