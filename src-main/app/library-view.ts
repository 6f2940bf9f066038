/**
 * The library as the app shows it: every golden image, clone set and clone image of the work
 * directory (core listLibrary), plus where each one also is: in the archive (the seed's
 * NVME_VAULT) and staged on the Desktop (one image at a time).
 */
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { AtlasError } from '../core/errors.js';
import { listLibrary, type LibraryEntry } from '../core/library/library.js';
import { parseArtifactName } from '../core/naming.js';
import type { ElsewhereSet, LibraryItem, LibraryView } from '../common/contract.js';
import { allSets } from '../core/library/set-places.js';
import { setRecord } from '../core/phases/set-elsewhere.js';

export interface Places {
  library: string;
  archiveDir: string;
  stagingDir: string;
}

export function isInside(parent: string, p: string): boolean {
  const rel = relative(parent, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

async function size(p: string): Promise<number | undefined> {
  return stat(p).then(
    (s) => s.size,
    () => undefined,
  );
}

/** Is the archive reachable? The vault's folder may be created, but its volume must be there. */
export async function archiveAvailability(
  archiveDir: string,
): Promise<{ available: boolean; reason?: string }> {
  const here = await stat(archiveDir).catch(() => undefined);
  if (here?.isDirectory()) return { available: true };
  if (here) return { available: false, reason: `${archiveDir} is not a folder` };
  const parent = await stat(dirname(archiveDir)).catch(() => undefined);
  if (parent?.isDirectory()) return { available: true };
  return {
    available: false,
    reason: `${dirname(archiveDir)} is not connected`,
  };
}

/** The Atlas image staged on the Desktop, if any (the first by name: there should be one). */
export async function stagedImage(stagingDir: string): Promise<string | null> {
  const names = await readdir(stagingDir).catch(() => [] as string[]);
  const images = names.filter((n) => {
    const a = parseArtifactName(n);
    return a !== undefined && a.kind !== 'clone-set';
  });
  return images.sort()[0] ?? null;
}

async function isArchived(entry: LibraryEntry, archiveDir: string): Promise<boolean> {
  const there = join(archiveDir, entry.name);
  if (entry.kind !== 'clone-set') return (await size(there)) === entry.bytes;
  const st = await stat(there).catch(() => undefined);
  return st?.isDirectory() === true;
}

export async function libraryView(places: Places): Promise<LibraryView> {
  const { entries, unfinished } = await listLibrary(places.library);
  const staged = await stagedImage(places.stagingDir);
  const stagedBytes = staged ? await size(join(places.stagingDir, staged)) : undefined;
  const archive = await archiveAvailability(places.archiveDir);
  const items: LibraryItem[] = [];
  for (const e of entries) {
    const item: LibraryItem = {
      name: e.name,
      path: e.path,
      kind: e.kind,
      phase: e.phase,
      bytes: e.bytes,
      modifiedAt: e.modifiedAt,
      hasManifest: e.hasManifest,
      archived: archive.available ? await isArchived(e, places.archiveDir) : false,
      staged: staged === e.name && stagedBytes === e.bytes,
    };
    if (e.version) item.version = e.version;
    if (e.tag) item.tag = e.tag;
    if (e.missing) item.missing = e.missing;
    if (e.damaged) item.damaged = e.damaged;
    const sha = e.kind !== 'clone-set' ? e.manifest?.files[0]?.sha256 : undefined;
    if (sha) item.sha256 = sha;
    const source = e.manifest?.source.description ?? e.manifest?.source.path;
    if (source) item.source = source;
    items.push(item);
  }
  const elsewhere: ElsewhereSet[] = [];
  for (const set of await allSets(places.library)) {
    if (set.place.kind === 'library') continue;
    elsewhere.push({
      name: set.name,
      path: set.path,
      place: { path: set.place.path, kind: set.place.kind },
      bytes: set.bytes,
      modifiedAt: set.modifiedAt,
      missing: set.missing,
      checked: (await setRecord(places.library, set)) !== undefined,
    });
  }
  return {
    library: places.library,
    items,
    elsewhere,
    unfinished,
    archive: { dir: places.archiveDir, ...archive },
    staging: { dir: places.stagingDir, staged },
  };
}

/** The library item at `path`; anything else (a path outside the library, a partial) is refused. */
export async function findItem(library: string, path: string): Promise<LibraryEntry> {
  const { entries } = await listLibrary(library);
  const entry = entries.find((e) => e.path === path);
  if (!entry) {
    throw new AtlasError(
      'not-found',
      `${path} is not an item of the library ${library}`,
      'refresh the library: it may have been moved or deleted',
    );
  }
  return entry;
}
