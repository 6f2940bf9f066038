/**
 * Output names shown before a job runs, and the names the app suggests: the next safety-net clone
 * set after the newest one (v8-0-6-FLASH -> v8-0-7-FLASH, the seed's sprint pattern) and versions
 * that follow the newest golden and clone images.
 */
import { join } from 'node:path';
import { toAtlasError } from '../core/errors.js';
import { listLibrary, type LibraryEntry } from '../core/library/library.js';
import { COMPRESSED_SUFFIX } from '../core/images/compression.js';
import {
  cloneImageName,
  cloneSetDirName,
  goldenImageName,
  parseArtifactName,
  suggestNextSetName,
  versionSlug,
} from '../core/naming.js';
import { exists } from '../core/library/files.js';
import { allSets } from '../core/library/set-places.js';
import type { NamePlanRequest, NameSuggestions, NextSetName, OutputPlan } from '../common/contract.js';

function newest(entries: LibraryEntry[], kind: LibraryEntry['kind']): LibraryEntry | undefined {
  return entries
    .filter((e) => e.kind === kind && e.version && e.tag)
    .sort((a, b) => a.modifiedAt.localeCompare(b.modifiedAt))
    .at(-1);
}

/** 9.1.7 -> 9.1.8 */
export function bumpVersion(version: string): string {
  const parts = version.split('.').map(Number);
  parts[parts.length - 1] = (parts[parts.length - 1] ?? 0) + 1;
  return parts.join('.');
}

/**
 * The newest clone set named by version and tag, in the library or anywhere else sets are found
 * (tools/ods-sd's clones folder, the lab's ~/atlas-build, added places): the safety net's last name.
 */
async function newestSet(library: string): Promise<{ name: string; tag: string } | undefined> {
  const named = (await allSets(library))
    .map((s) => ({ s, parsed: parseArtifactName(cloneSetDirName(s.name)) }))
    .filter((x) => x.parsed?.version && x.parsed.tag && x.parsed.name)
    .sort((a, b) => a.s.modifiedAt.localeCompare(b.s.modifiedAt))
    .at(-1);
  return named ? { name: named.parsed!.name!, tag: named.parsed!.tag! } : undefined;
}

export async function suggestNames(library: string): Promise<NameSuggestions> {
  const { entries } = await listLibrary(library);
  const golden = newest(entries, 'golden-image');
  const image = newest(entries, 'clone-image');
  const set = await newestSet(library);
  const setName = set?.name ?? null;
  return {
    golden: golden
      ? { version: bumpVersion(golden.version!), tag: golden.tag! }
      : { version: '1.0.0', tag: 'ORIGIN' },
    cloneImage: image
      ? { version: bumpVersion(image.version!), tag: image.tag! }
      : { version: golden?.version ?? '1.0.0', tag: 'FLASH' },
    lastSet: setName,
    lastSetTag: set?.tag ?? null,
  };
}

export async function nextSetName(library: string, tag: string): Promise<NextSetName> {
  const previous = (await newestSet(library))?.name ?? null;
  return { previous, next: suggestNextSetName(previous ?? undefined, tag) };
}

/** Which field of a name that does not validate is wrong: the version is checked first. */
function fieldOf(req: NamePlanRequest): 'version' | 'tag' | 'name' {
  if (req.kind === 'clone-set') return 'name';
  try {
    versionSlug(req.version);
    return 'tag';
  } catch {
    return 'version';
  }
}

export async function planOutput(library: string, req: NamePlanRequest): Promise<OutputPlan> {
  let name: string;
  try {
    name =
      req.kind === 'clone-set'
        ? cloneSetDirName(req.name)
        : req.kind === 'golden-image'
          ? goldenImageName(req.version, req.tag)
          : cloneImageName(req.version, req.tag);
  } catch (e) {
    return { name: '', path: '', exists: false, error: toAtlasError(e).toJSON(), field: fieldOf(req) };
  }
  // A distributable carries the compression suffix; shrink refuses it when the plain image of
  // the same name exists too (they would share the block map).
  const plain = join(library, name);
  const compress = req.kind === 'clone-image' ? req.compress : undefined;
  if (compress) name = `${name}${COMPRESSED_SUFFIX[compress]}`;
  const path = join(library, name);
  return { name, path, exists: (await exists(path)) || (await exists(plain)) };
}
