/**
 * What the app keeps is never written as a card. An image file (or a loop device over one) stands
 * in for a card only when it lies outside every protected place: the library (golden images,
 * clone sets, block maps, manifests), the staging folder, the archive, the image being written.
 * Whatever reaches the file is judged by the file itself, not by the path given:
 *   - a symbolic link, a `..` or a bind mount: each folder above the file's real path is compared
 *     with each place by device and inode (a bind mount of the library has the library's);
 *   - a hard link (a second name for the same inode, anywhere): when the file has more than one
 *     name, the places are searched for the same device and inode.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { ProtectedPlace } from '../../common/raw-disk-protocol.js';

/** How deep and how wide a place is searched for a hard link (the library is shallow). */
const SEARCH_DEPTH = 4;
const SEARCH_ENTRIES = 50_000;

const sameNode = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

/** The folders above `real` (and `real` itself), nearest first, up to the root. */
function* selfAndAncestors(real: string): Generator<string> {
  let p = real;
  for (;;) {
    yield p;
    const up = dirname(p);
    if (up === p) return;
    p = up;
  }
}

/** A file in `dir` (searched to SEARCH_DEPTH) that is the same inode as `file`, if any. */
async function sameInodeIn(dir: string, file: Stats): Promise<string | undefined> {
  let seen = 0;
  const walk = async (d: string, depth: number): Promise<string | undefined> => {
    const names = await readdir(d).catch(() => [] as string[]);
    for (const name of names) {
      if (++seen > SEARCH_ENTRIES) return undefined;
      const p = join(d, name);
      const st = await lstat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isFile() && sameNode(st, file)) return p;
      if (st.isDirectory() && depth < SEARCH_DEPTH) {
        const found = await walk(p, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(dir, 0);
}

/**
 * Why the file at `path` must not be written as a card (undefined: it may be): it is, or lies in,
 * one of `places`, by whatever path or link it was reached.
 */
export async function protectedFileReason(
  path: string,
  places: readonly ProtectedPlace[],
): Promise<string | undefined> {
  const real = await realpath(path).catch(() => undefined);
  const file = real && (await stat(real).catch(() => undefined));
  if (!real || !file) return undefined;
  const placeStats = await Promise.all(
    places.map(async (place) => ({ place, st: await stat(place.path).catch(() => undefined) })),
  );
  const known = placeStats.filter((p): p is { place: ProtectedPlace; st: Stats } => p.st !== undefined);
  for (const at of selfAndAncestors(real)) {
    const st = await stat(at).catch(() => undefined);
    if (!st) continue;
    const hit = known.find((p) => sameNode(p.st, st));
    if (hit) {
      return at === real
        ? `is ${hit.place.what} (${hit.place.path})`
        : `is in ${hit.place.what} (${hit.place.path})`;
    }
  }
  if (file.isFile() && file.nlink > 1) {
    for (const { place, st } of known) {
      if (!st.isDirectory()) continue;
      const twin = await sameInodeIn(place.path, file);
      if (twin) return `is another name (a hard link) of ${twin}, in ${place.what}`;
    }
  }
  return undefined;
}

/** Throws when the file at `path` must not be written as a card (protectedFileReason). */
export async function refuseProtectedFile(path: string, places: readonly ProtectedPlace[]): Promise<void> {
  const why = await protectedFileReason(path, places);
  if (why) {
    throw new AtlasError(
      'unsafe-target',
      `${path} ${why}: what the library keeps is never written as a card`,
      'pick a card; to write an image file, copy it out of the library and name the copy',
    );
  }
}
