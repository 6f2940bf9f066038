/**
 * The places whose files are never written as a card, and whose disks are never written at all:
 * the library, the archive, and whatever a caller adds (the staging folder, the image being
 * written). The CLI and the app build them here, so both protect the same places.
 */
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { ProtectedPlace } from '../../common/raw-disk-protocol.js';

/** The seed's permanent archive: /Volumes/NVME_VAULT/golden-atlas-img (a Mac's mount point). */
export function defaultArchiveDir(platform: string = process.platform): string {
  if (platform === 'darwin') return '/Volumes/NVME_VAULT/golden-atlas-img';
  let user = 'root';
  try {
    user = userInfo().username;
  } catch {
    user = 'root';
  }
  return join('/media', user, 'NVME_VAULT', 'golden-atlas-img');
}

/**
 * The protected places of a job that writes a card: the library, the archive (the default one
 * unless `extra` names the archive), then `extra`; every path absolute.
 */
export function writeGuardPlaces(
  library: string | undefined,
  extra: readonly ProtectedPlace[] = [],
): ProtectedPlace[] {
  const archive = extra.some((p) => p.what === 'the archive')
    ? []
    : [{ what: 'the archive', path: defaultArchiveDir() }];
  return [...(library ? [{ what: 'the library', path: library }] : []), ...archive, ...extra].map((p) => ({
    ...p,
    path: resolve(p.path),
  }));
}
