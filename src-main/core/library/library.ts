/**
 * The library is the work directory (default ~/atlas-build, as on jdl-mini-box): golden images,
 * clone sets and clone images, told apart by name and manifest. Anything still ending in
 * `.partial` is an unfinished job's output and is never listed as an artifact.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArtifactName } from '../naming.js';
import { isUnfinished } from '../../common/reserved-names.js';
import { loadManifest, manifestPathFor } from './manifest.js';
import { type LibraryEntry } from '../../common/artifacts.js';
export { type LibraryEntry } from '../../common/artifacts.js';

export const DEFAULT_LIBRARY = join(homedir(), 'atlas-build');

export const CLONE_SET_FILES = ['partition-table.dump', 'sdc1-boot.partclone.gz', 'sdc2-root.partclone.gz'];

export async function listLibrary(dir: string): Promise<{ entries: LibraryEntry[]; unfinished: string[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { entries: [], unfinished: [] };
  }
  const entries: LibraryEntry[] = [];
  const unfinished: string[] = [];
  for (const name of names.sort()) {
    if (isUnfinished(name)) {
      unfinished.push(name);
      continue;
    }
    const parsed = parseArtifactName(name);
    if (!parsed) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st) continue;
    if (parsed.kind === 'clone-set' && !st.isDirectory()) continue;
    if (parsed.kind !== 'clone-set' && !st.isFile()) continue;
    // A damaged manifest marks this entry as damaged; the others are listed as they are.
    const { manifest, damaged } = await loadManifest(manifestPathFor(path, parsed.kind));
    let bytes = st.size;
    let missing: string[] | undefined;
    if (parsed.kind === 'clone-set') {
      const files = await readdir(path);
      missing = CLONE_SET_FILES.filter((f) => !files.includes(f));
      bytes = 0;
      // lstat: a link in a set counts as itself, never as what it leads to.
      for (const f of files) bytes += (await lstat(join(path, f)).catch(() => ({ size: 0 }))).size;
    }
    const entry: LibraryEntry = {
      name,
      path,
      kind: parsed.kind,
      phase: parsed.phase,
      bytes,
      modifiedAt: st.mtime.toISOString(),
      hasManifest: manifest !== undefined,
    };
    const version = manifest?.version ?? parsed.version;
    const tag = manifest?.tag ?? parsed.tag;
    if (version) entry.version = version;
    if (tag) entry.tag = tag;
    if (manifest) entry.manifest = manifest;
    if (missing) entry.missing = missing;
    if (damaged) entry.damaged = damaged;
    entries.push(entry);
  }
  return { entries, unfinished };
}
