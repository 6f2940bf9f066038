/**
 * A compressed image decompressed into a plain one, in the work folder: what a card smaller than
 * the image needs first (the root is shrunk to fit from a plain copy, fit_image.sh). The copy is
 * sparse (blocks of zeros are not written), so it takes the room of the image's data, not of its
 * size; the work folder must have that room (the block map's mapped bytes, when there is one).
 */
import { open, statfs, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { AtlasError, toAtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { copyStreamTo } from '../rawio/block-copy.js';
import { decompressFrom, type Compression } from '../images/compression.js';
import { imageStream } from './run-plan.js';

export interface Packed {
  path: string;
  /** The image, opened once: read through this. */
  handle: FileHandle;
  compression: Exclude<Compression, 'none'>;
  /** Bytes of the decompressed image, when known. */
  bytes: number | undefined;
  /** Bytes of it that hold data, at least (a block map's mapped bytes), when known. */
  dataBytes?: number;
}

/** Decompresses `image` into `dest` (a new file), sparse; returns the plain image's size. */
export async function unpackImage(
  image: Packed,
  dest: string,
  workDir: string,
  ctx: JobContext,
): Promise<number> {
  if (image.dataBytes) {
    const s = await statfs(workDir);
    const free = s.bavail * s.bsize;
    if (free < image.dataBytes) {
      throw new AtlasError(
        'no-space',
        `the work folder ${workDir} has ${free} bytes free; decompressing ${basename(image.path)} there needs ${image.dataBytes}; nothing was written`,
        'free some space in the library folder (a smaller card needs the image decompressed there first), or use a card the image fits whole',
      );
    }
  }
  ctx.step('unpack', `Decompressing ${basename(image.path)} into the work folder`, image.bytes ?? 0);
  const out = await open(dest, 'wx', 0o600);
  const d = decompressFrom(imageStream(image), image.compression, basename(image.path));
  try {
    const r = await copyStreamTo(d.stream, out, { ctx, totalBytes: image.bytes ?? 0, sparse: true });
    await d.done;
    await out.truncate(r.bytes);
    if (image.bytes !== undefined && r.bytes !== image.bytes) {
      throw new AtlasError(
        'bad-input',
        `${basename(image.path)} ended after ${r.bytes} of its ${image.bytes} bytes`,
        'the image is truncated or damaged: nothing was written; download or copy it again',
      );
    }
    return r.bytes;
  } catch (e) {
    d.kill();
    const err = toAtlasError(e);
    if ((e as NodeJS.ErrnoException).code === 'ENOSPC' || err.code === 'no-space') {
      throw new AtlasError(
        'no-space',
        `the work folder ${workDir} ran out of space while ${basename(image.path)} was decompressed into it; nothing was written`,
        'free some space in the library folder (a smaller card needs the image decompressed there first), or use a card the image fits whole',
      );
    }
    throw e;
  } finally {
    await out.close();
  }
}
