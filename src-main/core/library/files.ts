/**
 * Files in the library as every job handles them: a scratch folder the builder sees too, and
 * output that looks finished only once it is (written as .partial, published by rename,
 * discarded when the job fails or is cancelled).
 */
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';

/** A scratch directory inside the library, so the builder (VM) sees it too. */
export async function scratchDir(library: string): Promise<string> {
  const base = join(library, '.atlas-tmp');
  await mkdir(base, { recursive: true, mode: 0o700 });
  return mkdtemp(join(base, 'job-'));
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Removes a job's unfinished output; never throws (it runs while another error is on its way). */
export async function discard(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}

/** Gives finished output its final name (the only moment it starts to look finished). */
export async function publish(partial: string, final: string): Promise<void> {
  if (await exists(final))
    throw new AtlasError('exists', `${final} appeared while the job ran`, 'move it away and run again');
  await rename(partial, final);
}
