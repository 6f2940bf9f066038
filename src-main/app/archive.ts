/**
 * Copy to the archive (the seed's /Volumes/NVME_VAULT/golden-atlas-img): every file is copied
 * with its sha256 computed on the way, checked against the artifact's manifest, then read back
 * from the archive and compared. The copy is written as NAME.partial and renamed only when every
 * check passed; a failed or cancelled copy leaves nothing behind.
 */
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AtlasError } from '../core/errors.js';
import type { JobContext } from '../core/jobs/job.js';
import type { LibraryEntry } from '../core/library/library.js';
import { manifestPathFor } from '../core/library/manifest.js';
import { imageSidecars } from '../core/naming.js';
import { ensureOwnerDir, OWNER_DIR } from '../core/library/owner-only.js';
import { copyToSparseFile, hashRange } from '../core/rawio/block-copy.js';
import { discard, exists, publish } from '../core/library/files.js';
import type { ArchiveResultDto, FileSum } from '../common/contract.js';
import { archiveAvailability } from './library-view.js';

/** Copies one file and proves the copy: sha256 on the way in, manifest match, read-back match. */
export async function copyVerified(
  src: string,
  dest: string,
  ctx: JobContext,
  expectedSha256?: string,
): Promise<FileSum> {
  const name = basename(src);
  // A set from elsewhere may hold a link (to a file of the user's) or a pipe (which never ends):
  // only regular files are copied.
  const st = await lstat(src);
  if (!st.isFile()) {
    throw new AtlasError(
      'bad-input',
      `${src} is not a regular file (${st.isSymbolicLink() ? 'a link' : 'a device, a pipe or a folder'}): Atlas copies only files`,
      'remove it from the library folder, then try again',
    );
  }
  const { size } = st;
  ctx.step(`copy-${name}`, `Copying ${name}`, size);
  const r = await copyToSparseFile(src, dest, size, ctx);
  if (expectedSha256 && r.sha256 !== expectedSha256) {
    throw new AtlasError(
      'verify-failed',
      `${name} in the library does not match the checksum in its manifest`,
      'the library copy may be damaged: do not archive it; rebuild it or take it from an older archive copy',
    );
  }
  ctx.step(`verify-${name}`, `Verifying ${name}: reading the copy back`, size);
  const back = await hashRange(dest, size, ctx);
  if (back !== r.sha256) {
    throw new AtlasError(
      'verify-failed',
      `the copy of ${name} read back from ${dirname(dest)} differs from the original`,
      'the archive disk may be failing: check it, then copy again',
    );
  }
  return { name, bytes: size, sha256: r.sha256 };
}

/** An image's manifest, .bmap and .sha256, as [library path, archive path] pairs. */
function sidecars(image: string, dest: string, kind: LibraryEntry['kind']): Array<[string, string]> {
  return [
    [manifestPathFor(image, kind), manifestPathFor(dest, kind)],
    [imageSidecars(image).bmap, imageSidecars(dest).bmap],
    [imageSidecars(image).sha256, imageSidecars(dest).sha256],
  ];
}

function expectedSums(entry: LibraryEntry): Map<string, string> {
  return new Map((entry.manifest?.files ?? []).map((f) => [f.name, f.sha256]));
}

async function alreadyArchived(
  entry: LibraryEntry,
  dest: string,
  ctx: JobContext,
): Promise<FileSum[] | null> {
  if (!(await exists(dest))) return null;
  const sums = expectedSums(entry);
  const names = entry.kind === 'clone-set' ? (await readdir(dest)).filter((n) => sums.has(n)) : [entry.name];
  if (sums.size === 0 || names.length !== sums.size) return null;
  ctx.step('compare', `${entry.name} is already in the archive: comparing checksums`);
  const files: FileSum[] = [];
  for (const n of names) {
    const p = entry.kind === 'clone-set' ? join(dest, n) : dest;
    const { size } = await stat(p);
    const sha256 = await hashRange(p, size, ctx);
    if (sha256 !== sums.get(n)) return null;
    files.push({ name: n, bytes: size, sha256 });
  }
  return files;
}

export async function archiveItem(
  entry: LibraryEntry,
  archiveDir: string,
  ctx: JobContext,
): Promise<ArchiveResultDto> {
  const where = await archiveAvailability(archiveDir);
  if (!where.available) {
    throw new AtlasError(
      'not-found',
      `the archive is not available: ${where.reason}`,
      'connect the archive disk (NVME_VAULT), or choose another archive folder in Library settings',
    );
  }
  await ensureOwnerDir(archiveDir);
  const dest = join(archiveDir, entry.name);
  const same = await alreadyArchived(entry, dest, ctx);
  if (same) return { source: entry.path, dest, files: same, alreadyArchived: true };
  if (await exists(dest)) {
    throw new AtlasError(
      'exists',
      `${dest} exists in the archive and differs from the library's ${entry.name}`,
      'rename or remove the archive copy first: Atlas never overwrites the archive',
    );
  }

  const sums = expectedSums(entry);
  const partial = `${dest}.partial`;
  await discard(partial);
  try {
    const files: FileSum[] = [];
    if (entry.kind === 'clone-set') {
      await mkdir(partial, { mode: OWNER_DIR });
      for (const name of (await readdir(entry.path)).sort()) {
        files.push(await copyVerified(join(entry.path, name), join(partial, name), ctx, sums.get(name)));
      }
    } else {
      files.push(await copyVerified(entry.path, partial, ctx, sums.get(entry.name)));
      // The sidecars travel with the image: its manifest and its block map.
      for (const [from, to] of sidecars(entry.path, dest, entry.kind)) {
        if (!(await exists(from))) continue;
        await discard(to);
        files.push(await copyVerified(from, to, ctx));
      }
    }
    await publish(partial, dest);
    return { source: entry.path, dest, files, alreadyArchived: false };
  } catch (e) {
    await discard(partial);
    if (entry.kind !== 'clone-set') {
      for (const [, to] of sidecars(entry.path, dest, entry.kind)) await rm(to, { force: true });
    }
    throw e;
  }
}
