/**
 * Clone sets live in more than one place: the library (golden-clone-NAME/ with a manifest), the
 * places the user adds, and, found by default when they exist, the folder tools/ods-sd writes
 * (~/Documents/GitHub/ods-player-os-atlas/clones/NAME/, no manifest) and the lab's ~/atlas-build.
 * The places a user added are kept in the library, in `.elsewhere/places.json`; what the library
 * knows of a set elsewhere (its manifest, once checked) is kept beside it, in `.elsewhere/`, never
 * in the set's own folder.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { AtlasError } from '../errors.js';
import { CLONE_SET_PREFIX, cloneSetDirName } from '../naming.js';
import { validateNotReserved } from '../validate.js';
import { isUnfinished } from '../../common/reserved-names.js';
import { CLONE_SET_FILES } from './library.js';
import { odsSdClonesDir } from './ods-sd-layout.js';

export type SetPlaceKind = 'library' | 'added' | 'ods-sd' | 'lab';

export interface SetPlace {
  path: string;
  kind: SetPlaceKind;
}

/** A clone set found in a place: the library's own, or one elsewhere. */
export interface FoundSet {
  name: string;
  path: string;
  place: SetPlace;
  /** The seed's three files that are missing. */
  missing: string[];
  bytes: number;
  modifiedAt: string;
}

export const ELSEWHERE_DIR = '.elsewhere';

function placesFile(library: string): string {
  return join(resolve(library), ELSEWHERE_DIR, 'places.json');
}

export async function addedPlaces(library: string): Promise<string[]> {
  try {
    const list = JSON.parse(await readFile(placesFile(library), 'utf8')) as unknown;
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && isAbsolute(p)) : [];
  } catch {
    return [];
  }
}

async function writePlaces(library: string, list: string[]): Promise<void> {
  const file = placesFile(library);
  await mkdir(join(resolve(library), ELSEWHERE_DIR), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.partial`, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.partial`, file);
}

/** Adds a folder where clone sets are looked for (it must exist). */
export async function addPlace(library: string, dir: string): Promise<string[]> {
  const path = resolve(dir);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isDirectory()) throw new AtlasError('not-found', `no folder at ${path}`);
  const list = await addedPlaces(library);
  if (!list.includes(path)) list.push(path);
  await writePlaces(library, list);
  return list;
}

export async function removePlace(library: string, dir: string): Promise<string[]> {
  const list = (await addedPlaces(library)).filter((p) => p !== resolve(dir));
  await writePlaces(library, list);
  return list;
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() === true;
}

/** The library first, then the added places, then the default ones that exist; each once. */
export async function setPlaces(library: string, home: string = homedir()): Promise<SetPlace[]> {
  const lib = resolve(library);
  const out: SetPlace[] = [{ path: lib, kind: 'library' }];
  const candidates: SetPlace[] = [
    ...(await addedPlaces(lib)).map((path): SetPlace => ({ path, kind: 'added' })),
    { path: odsSdClonesDir(home), kind: 'ods-sd' },
    { path: join(home, 'atlas-build'), kind: 'lab' },
  ];
  for (const c of candidates) {
    if (out.some((p) => p.path === resolve(c.path))) continue;
    if (await isDir(c.path)) out.push({ ...c, path: resolve(c.path) });
  }
  return out;
}

async function describe(path: string, name: string, place: SetPlace): Promise<FoundSet | undefined> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  const files = await readdir(path).catch(() => [] as string[]);
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(path, f)).catch(() => ({ size: 0 }))).size;
  return {
    name,
    path,
    place,
    missing: CLONE_SET_FILES.filter((f) => !files.includes(f)),
    bytes,
    modifiedAt: st.mtime.toISOString(),
  };
}

/**
 * The sets of one place. In the library (and the lab's folder, laid out alike) a set is a
 * golden-clone-NAME folder; elsewhere any folder holding one of the seed's three files.
 */
export async function setsIn(place: SetPlace): Promise<FoundSet[]> {
  const names = (await readdir(place.path).catch(() => [] as string[])).sort();
  const out: FoundSet[] = [];
  for (const name of names) {
    if (name.startsWith('.') || isUnfinished(name)) continue;
    const path = join(place.path, name);
    if (place.kind === 'library' || place.kind === 'lab') {
      if (!name.startsWith(CLONE_SET_PREFIX)) continue;
    } else {
      const files = await readdir(path).catch(() => [] as string[]);
      if (!CLONE_SET_FILES.some((f) => files.includes(f))) continue;
    }
    const found = await describe(path, name, place);
    if (found) out.push(found);
  }
  return out;
}

/** Every set of every place, the library's first. */
export async function allSets(library: string, home?: string): Promise<FoundSet[]> {
  const out: FoundSet[] = [];
  for (const place of await setPlaces(library, home)) out.push(...(await setsIn(place)));
  return out;
}

/**
 * A set by path, or by name: the library's golden-clone-NAME first; else the one set named NAME
 * (or golden-clone-NAME) in another place. Two such sets elsewhere are ambiguous: the error names
 * both, and a path picks one.
 */
export async function findSet(library: string, nameOrPath: string, home?: string): Promise<FoundSet> {
  const places = await setPlaces(library, home);
  if (nameOrPath.includes('/')) {
    const path = resolve(nameOrPath);
    validateNotReserved(basename(path));
    const place = places.find((p) => resolve(path, '..') === p.path) ?? {
      path: resolve(path, '..'),
      kind: 'added' as const,
    };
    const found = await describe(path, basename(path), place);
    if (found) return found;
    throw new AtlasError('not-found', `no clone set at ${path}`, undefined, { next: [{ do: 'list-sets' }] });
  }
  const own = join(places[0]!.path, cloneSetDirName(nameOrPath));
  const mine = await describe(own, basename(own), places[0]!);
  if (mine) return mine;
  const wanted = new Set([nameOrPath, cloneSetDirName(nameOrPath)]);
  const elsewhere = (await Promise.all(places.slice(1).map(setsIn))).flat().filter((s) => wanted.has(s.name));
  if (elsewhere.length === 1) return elsewhere[0]!;
  if (elsewhere.length > 1) {
    throw new AtlasError(
      'bad-input',
      `${elsewhere.length} clone sets are named ${nameOrPath}: ${elsewhere.map((s) => s.path).join(', ')}`,
      'give the path of the one you mean',
    );
  }
  throw new AtlasError(
    'not-found',
    `no clone set ${nameOrPath} (looked for ${own}${
      places.length > 1
        ? ` and in ${places
            .slice(1)
            .map((p) => p.path)
            .join(', ')}`
        : ''
    })`,
    undefined,
    { next: [{ do: 'list-sets' }] },
  );
}

/** Where the library keeps what it knows of a set elsewhere (its manifest), keyed by its path. */
export function elsewhereManifestPath(library: string, setPath: string): string {
  const key = createHash('sha256').update(resolve(setPath)).digest('hex').slice(0, 16);
  return join(resolve(library), ELSEWHERE_DIR, `${basename(setPath)}-${key}.manifest.json`);
}
