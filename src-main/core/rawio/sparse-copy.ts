/**
 * A copy of an image file that keeps its holes, at the file system's own speed, and the source's
 * sha256 from a read of it at the same time:
 *   - Linux: `cp --sparse=always --reflink=auto` (a reflink where the file system can; otherwise
 *     the data extents found with SEEK_DATA/SEEK_HOLE, copied in the kernel);
 *   - macOS: clonefile(2) where APFS can (copyFile with COPYFILE_FICLONE), else a plain copy.
 * Neither looks at the image's bytes in JavaScript: the only pass over them here is the hash. The
 * copy is made owner-only (it becomes an image that holds secrets).
 */
import { constants } from 'node:fs';
import { chmod, copyFile, stat } from 'node:fs/promises';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { runTool } from '../tools/run-tool.js';
import { hashRange } from './block-copy.js';

function copyWithHoles(source: string, dest: string, signal: AbortSignal): Promise<unknown> {
  if (process.platform === 'linux') {
    return runTool('cp', ['--sparse=always', '--reflink=auto', '--', source, dest], { signal });
  }
  return copyFile(source, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
}

/** Copies `source` (`bytes` long) to the new file `dest`, keeping holes; returns the source's sha256. */
export async function sparseCopyHashed(
  source: string,
  dest: string,
  bytes: number,
  ctx: JobContext,
): Promise<{ sha256: string }> {
  if (await stat(dest).catch(() => undefined)) {
    throw new AtlasError('exists', `${dest} exists already`, 'move it away and run again');
  }
  const copying = copyWithHoles(source, dest, ctx.signal);
  const hashing = hashRange(source, bytes, ctx);
  const [copied, hashed] = await Promise.allSettled([copying, hashing]);
  if (copied.status === 'rejected') throw copied.reason;
  if (hashed.status === 'rejected') throw hashed.reason;
  await chmod(dest, 0o600);
  const { size } = await stat(dest);
  if (size !== bytes) {
    throw new AtlasError(
      'tool-failed',
      `the copy of ${source} has ${size} bytes, not ${bytes}`,
      'run it again',
    );
  }
  return { sha256: hashed.value };
}
