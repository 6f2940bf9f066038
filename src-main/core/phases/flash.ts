/**
 * Flash: an image (.img, .img.xz, .img.gz, .img.zst) -> a card, then a read-back verification.
 * The first 1 MiB (partition table) is written last; the card's identity is checked right
 * before it is opened; writes never go past the end of an image-file card.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import {
  assertWritableCard,
  describeCard,
  identifyCard,
  recheckCard,
  type CardIdentity,
} from '../cards/card.js';
import { detectCompression, decompress, uncompressedSize } from '../images/compression.js';
import { BLOCK, copyStreamTo, hashRange } from '../rawio/block-copy.js';
import { runTool } from '../tools/run-tool.js';
import type { Env } from './env.js';

export interface FlashParams {
  image: string;
  card: string;
  verify?: boolean;
  expected?: CardIdentity;
}

export interface FlashResult {
  card: string;
  image: string;
  bytes: number;
  sha256: string;
  verified: boolean;
}

/** Is the image stored on the card itself (on the device or one of its partitions)? */
async function imageOnCard(imagePath: string, card: CardIdentity): Promise<boolean> {
  if (card.kind !== 'device') return false;
  const { dev } = await stat(imagePath);
  const here = `${(dev >> 8) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
  const name = basename(card.path);
  const dir = `/sys/class/block/${name}`;
  const nodes = [await readFile(`${dir}/dev`, 'utf8').catch(() => '')];
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (entry.startsWith(name)) nodes.push(await readFile(`${dir}/${entry}/dev`, 'utf8').catch(() => ''));
  }
  return nodes.some((n) => n.trim() === here);
}

export async function flash(_env: Env, params: FlashParams, ctx: JobContext): Promise<FlashResult> {
  const st = await stat(params.image).catch(() => undefined);
  if (!st?.isFile()) throw new AtlasError('not-found', `no image at ${params.image}`);
  const compression = await detectCompression(params.image);
  const size = compression === 'none' ? st.size : await uncompressedSize(params.image, compression);
  const card = params.expected ?? (await identifyCard(params.card));
  if (card.kind === 'file' && card.node === st.ino) {
    throw new AtlasError('unsafe-target', 'the card and the image are the same file', 'pick another card');
  }
  if (await imageOnCard(params.image, card)) {
    throw new AtlasError(
      'unsafe-target',
      `${params.image} is stored on ${card.path}, the card to be written`,
      'copy the image elsewhere first',
    );
  }
  await assertWritableCard(card, size ?? 0);

  ctx.step('write', `Writing ${basename(params.image)} to ${describeCard(card)}`, size ?? 0);
  await recheckCard(card);
  const source =
    compression === 'none'
      ? {
          stream: createReadStream(params.image, { highWaterMark: BLOCK }),
          done: Promise.resolve(),
          kill: () => undefined,
        }
      : decompress(params.image, compression);
  const fh = await open(card.path, 'r+');
  let written;
  try {
    const limited = limitStream(source.stream, card.bytes, () => source.kill());
    written = await copyStreamTo(limited, fh, { ctx, totalBytes: size ?? 0, firstBlockLast: true });
  } finally {
    await fh.close();
  }
  await source.done;
  if (size !== undefined && written.bytes !== size) {
    throw new AtlasError(
      'verify-failed',
      `only ${written.bytes} of the image's ${size} bytes reached the card`,
      'the image could not be read to its end: check it (or download it again) and flash again',
    );
  }
  if (card.kind === 'device') await runTool('blockdev', ['--flushbufs', card.path]);

  let verified = false;
  if (params.verify !== false) {
    ctx.step('verify', 'Verifying: reading the card back', written.bytes);
    const back = await hashRange(card.path, written.bytes, ctx);
    if (back !== written.sha256) {
      throw new AtlasError(
        'verify-failed',
        `verification failed: what was read back from ${card.path} differs from the image`,
        'the card may be failing or fake: try another card',
      );
    }
    verified = true;
  }
  return { card: card.path, image: params.image, bytes: written.bytes, sha256: written.sha256, verified };
}

/** Fails the copy when the image turns out larger than the card (known only after decompressing). */
async function* limitStream(
  source: AsyncIterable<Buffer>,
  max: number,
  stop: () => void,
): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    if (n > max) {
      stop();
      throw new AtlasError(
        'too-small',
        `the image is larger than the card (${max} bytes)`,
        'use a larger card',
      );
    }
    yield chunk;
  }
}
