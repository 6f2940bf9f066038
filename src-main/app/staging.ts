/**
 * Staging, the seed's ~/Desktop rule: one image at a time is put where the flashing tools and the
 * user expect it. Staging an image replaces the one staged before, but only when that one is a
 * copy of a library image (same name and size, same checksum when its manifest has one), so
 * nothing that exists only on the Desktop is ever removed.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../core/errors.js';
import type { JobContext } from '../core/jobs/job.js';
import { listLibrary, type LibraryEntry } from '../core/library/library.js';
import { hashRange } from '../core/rawio/block-copy.js';
import { discard, publish } from '../core/library/files.js';
import type { StageResultDto } from '../common/contract.js';
import { copyVerified } from './archive.js';
import { stagedImage } from './library-view.js';

/** Proves that the image already on the Desktop is a copy of a library image. */
async function assertReplaceable(
  staged: string,
  stagingDir: string,
  library: string,
  ctx: JobContext,
): Promise<void> {
  const path = join(stagingDir, staged);
  const { size } = await stat(path);
  const original = (await listLibrary(library)).entries.find((e) => e.name === staged);
  const refuse = (why: string): never => {
    throw new AtlasError(
      'exists',
      `${staged} is on the Desktop and ${why}`,
      `move ${staged} into the library or somewhere else first: only one image is staged at a time`,
    );
  };
  if (!original) return refuse('is not in the library');
  if (original.bytes !== size) refuse('differs from the library copy (another size)');
  const sha = original.manifest?.files[0]?.sha256;
  if (sha) {
    ctx.step('check-staged', `Checking that ${staged} on the Desktop is a copy of the library image`, size);
    if ((await hashRange(path, size, ctx)) !== sha)
      refuse('differs from the library copy (another checksum)');
  }
}

export async function stageImage(
  entry: LibraryEntry,
  library: string,
  stagingDir: string,
  ctx: JobContext,
): Promise<StageResultDto> {
  if (entry.kind === 'clone-set') {
    throw new AtlasError(
      'unsupported',
      `${entry.name} is a clone set: only images are staged`,
      'restore the clone set onto a card instead, or shrink a card to an ods-atlas-clone image',
    );
  }
  const dest = join(stagingDir, entry.name);
  const previous = await stagedImage(stagingDir);
  if (previous) await assertReplaceable(previous, stagingDir, library, ctx);

  const partial = `${dest}.partial`;
  await discard(partial);
  try {
    const sum = await copyVerified(entry.path, partial, ctx, entry.manifest?.files[0]?.sha256);
    if (previous) await rm(join(stagingDir, previous), { force: true });
    await publish(partial, dest);
    return {
      staged: dest,
      bytes: sum.bytes,
      sha256: sum.sha256,
      replaced: previous ? join(stagingDir, previous) : null,
    };
  } catch (e) {
    await discard(partial);
    throw e;
  }
}
