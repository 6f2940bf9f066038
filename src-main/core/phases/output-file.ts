/**
 * A phase's output file in the library: before it is made, its name is free and there is room
 * for it; once made, its size and checksum for the manifest.
 */
import { stat, statfs } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { exists } from '../library/files.js';
import { hashRange } from '../rawio/block-copy.js';
import { formatBytes } from '../../common/format-bytes.js';

export async function refuseExisting(path: string): Promise<void> {
  if (await exists(path)) {
    throw new AtlasError(
      'exists',
      `${path} already exists`,
      'choose another version/tag/name, or move the old one away first',
    );
  }
}

/** Fails early when `dir` has less than `bytes` free. */
export async function ensureFreeSpace(dir: string, bytes: number, what: string): Promise<void> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  if (free < bytes) {
    throw new AtlasError(
      'no-space',
      `not enough free space in ${dir} for ${what}: ${formatBytes(free, { unit: 'GB', digits: 2 })} free, ${formatBytes(bytes, { unit: 'GB', digits: 2 })} needed`,
      'free some space',
      { next: [{ do: 'choose-library' }] },
    );
  }
}

export async function sha256File(path: string, ctx: JobContext): Promise<{ bytes: number; sha256: string }> {
  const { size } = await stat(path);
  return { bytes: size, sha256: await hashRange(path, size, ctx) };
}
