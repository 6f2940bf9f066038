/**
 * The VM cannot see the app's own lima/scripts folder (it is inside the app bundle, or a checkout
 * that is not shared), so the builder scripts are copied into the shared work dir, under
 * `.atlas-scripts/<content hash>/`. The hash covers every script's name and content: a new app
 * version gets a new folder, an unchanged one reuses the copy. A folder whose content no longer
 * matches its name (edited by hand) is replaced, and a copy appears only complete (it is written
 * beside and renamed into place).
 */
import { createHash, randomUUID } from 'node:crypto';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const STAGED_SCRIPTS_DIR = '.atlas-scripts';

async function scriptNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.sh')).sort();
}

/** Hash of the .sh files of a folder (names and contents); undefined if it cannot be read. */
export async function scriptsHash(dir: string): Promise<string | undefined> {
  try {
    const hash = createHash('sha256');
    for (const name of await scriptNames(dir)) {
      hash
        .update(name)
        .update('\0')
        .update(await readFile(join(dir, name)))
        .update('\0');
    }
    return hash.digest('hex').slice(0, 16);
  } catch {
    return undefined;
  }
}

/** Copies scriptsDir/*.sh into <sharedDir>/.atlas-scripts/<hash>/ (once) and returns that folder. */
export async function stageScripts(scriptsDir: string, sharedDir: string): Promise<string> {
  const hash = await scriptsHash(scriptsDir);
  if (!hash) throw new Error(`cannot read the builder scripts in ${scriptsDir}`);
  const base = join(sharedDir, STAGED_SCRIPTS_DIR);
  const dir = join(base, hash);
  if ((await scriptsHash(dir)) === hash) return dir;

  await mkdir(base, { recursive: true });
  const tmp = join(base, `.${hash}.${randomUUID()}`);
  await mkdir(tmp);
  try {
    for (const name of await scriptNames(scriptsDir)) {
      await copyFile(join(scriptsDir, name), join(tmp, name));
      await chmod(join(tmp, name), 0o755);
    }
    await rm(dir, { recursive: true, force: true });
    try {
      await rename(tmp, dir);
    } catch (e) {
      // Another job staged the same scripts at the same moment: theirs is as good as ours.
      if ((await scriptsHash(dir)) !== hash) throw e;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}
