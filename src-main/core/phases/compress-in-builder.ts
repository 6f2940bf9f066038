/**
 * A distributable compressed by the builder (compress_image.sh): on a Mac the VM does it, since
 * macOS ships neither xz nor zstd. The output file is made here first, empty and the user's own
 * (0600, never over an existing file), and the builder fills it; the checksums of both sides come
 * back as the script's results.
 */
import { open } from 'node:fs/promises';
import type { Builder } from '../builder/builder.js';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import type { CompressedFile, DistCompression } from '../images/compression.js';

export async function compressInBuilder(
  builder: Builder,
  src: string,
  dest: string,
  kind: DistCompression,
  ctx: JobContext,
): Promise<CompressedFile> {
  await (await open(dest, 'wx', 0o600)).close();
  const out = await builder.runScript(
    'compress_image.sh',
    [builder.toBuilderPath(src), builder.toBuilderPath(dest), kind],
    ctx,
  );
  const one = (k: string) => out.results.get(k)?.[0] ?? '';
  const r = {
    bytes: Number(one('out-bytes')),
    sha256: one('out-sha256'),
    sourceBytes: Number(one('image-bytes')),
    sourceSha256: one('image-sha256'),
  };
  const hex = /^[0-9a-f]{64}$/;
  if (!(r.bytes > 0 && r.sourceBytes > 0 && hex.test(r.sha256) && hex.test(r.sourceSha256))) {
    throw new AtlasError(
      'tool-failed',
      `compress_image.sh did not report the sizes and checksums of ${dest}`,
      'shrink again; if it fails again, run the VM doctor',
    );
  }
  return r;
}
