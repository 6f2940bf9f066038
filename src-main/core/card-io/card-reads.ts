/**
 * Raw card access for the phases: identify a card, read a whole card (or its used blocks) into a
 * new sparse file. Card devices are opened by the raw-disk helper
 * (src-main/privileged/raw-disk-helper.ts, started through helper-client.ts) with the rights to
 * open them; image files standing in for cards are read here directly. Writing an image onto a
 * card is the write pipeline's one entry, writeImage (src-main/core/write/write-pipeline.ts).
 */
import { resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { JobContext } from '../jobs/job.js';
import { copyToSparseFile } from '../rawio/block-copy.js';
import { readUsedToSparseFile } from '../rawio/used-blocks/read-used.js';
import type { DiskutilOptions } from '../cards/diskutil.js';
import { cardPlatform } from '../cards/platform/index.js';
import { namedPipes } from '../cards/helper-session.js';
import {
  expectOf,
  runHelper,
  unmountFirst,
  type RawCard,
  type RawDiskOptions,
  type RawResult,
} from '../cards/helper-client.js';

export {
  defaultLauncher,
  directLauncher,
  HELPER_PATH,
  osascriptLauncher,
  pkexecLauncher,
  sudoLauncher,
  type HelperLauncher,
  type RawCard,
  type RawDiskOptions,
  type RawResult,
} from '../cards/helper-client.js';

// --- identity ----------------------------------------------------------------------------------

/**
 * The card at `path`, identified the way the helper identifies it again before touching it. Call
 * this when the user picks the card, and pass the result to readCardToFile or writeImage.
 */
export async function identifyRawCard(
  path: string,
  opts: { platform?: NodeJS.Platform; diskutil?: DiskutilOptions } = {},
): Promise<RawCard> {
  return cardPlatform(opts.platform).identify(path, opts.diskutil);
}

// --- reading a card ----------------------------------------------------------------------------

/** Reads the first `length` bytes (default: all) of a card into a new sparse file at `dest`. */
export async function readCardToFile(
  card: RawCard,
  dest: string,
  ctx: JobContext,
  opts: RawDiskOptions & { length?: number } = {},
): Promise<RawResult> {
  const target = resolve(dest);
  const length = opts.length ?? card.bytes;
  const label = `Reading ${card.path} into ${target}`;
  if (card.kind === 'file') {
    ctx.step('read', label, length);
    const r = await copyToSparseFile(card.path, target, length, ctx);
    return { bytes: r.bytes, sha256: r.sha256, verified: false };
  }
  await unmountFirst(card, opts);
  ctx.step('read', label, length);
  return runHelper(
    {
      op: 'read',
      device: cardPlatform(opts.platform).rawPath(card.path),
      expect: expectOf(card),
      dest: target,
      ...(opts.length !== undefined ? { length: opts.length } : {}),
    },
    ctx,
    'read',
    { read: label, write: label, verify: label },
    opts,
    card.path,
  );
}

/**
 * Reads only what a card holds (partition tables, file system metadata, used blocks) into a new
 * sparse file of the card's size; a partition whose file system is not understood is read whole.
 */
export async function readUsedCardToFile(
  card: RawCard,
  dest: string,
  ctx: JobContext,
  opts: RawDiskOptions = {},
): Promise<Required<Pick<RawResult, 'bytes' | 'mappedBytes' | 'fallbacks'>>> {
  const target = resolve(dest);
  if (card.kind === 'file') {
    const r = await readUsedToSparseFile(card.path, target, ctx, { length: card.bytes });
    return { bytes: r.bytes, mappedBytes: r.mappedBytes, fallbacks: r.fallbacks };
  }
  await unmountFirst(card, opts);
  const label = `Reading the used blocks of ${card.path}`;
  ctx.step('read-used', label, card.bytes);
  const r = await runHelper(
    {
      op: 'read',
      device: cardPlatform(opts.platform).rawPath(card.path),
      expect: expectOf(card),
      dest: target,
      used: true,
    },
    ctx,
    'read',
    { read: label, write: label, verify: label },
    opts,
    card.path,
  );
  return { bytes: r.bytes, mappedBytes: r.mappedBytes ?? r.bytes, fallbacks: r.fallbacks ?? [] };
}

// --- reading a card and imaging a partition at once -------------------------------------------------

export interface PartcloneRequest {
  /** The partition whose ext file system is imaged (2: the root). */
  partition: number;
  /** partclone's version, written in the image's header (the builder's `partclone.ext4 -v`). */
  version: string;
}

export interface UsedReadOutcome {
  bytes: number;
  mappedBytes: number;
  fallbacks: string[];
  /** The image's size, or why it was not made while reading. */
  partclone?: { bytes: number; refused?: string };
}

export interface UsedReadWithImage {
  /**
   * The partition's partclone image (rawio/used-blocks/partclone-image.ts) while the copy goes on; absent
   * when the partition could not be imaged so (the copy is then complete, the reason in `done`).
   * A copy that fails cuts the image short: only `done` says whether it is whole.
   */
  image?: Readable;
  /** The copy (readUsedCardToFile's), resolved once the card's used blocks are all in `dest`. */
  done: Promise<UsedReadOutcome>;
}

/** Resolves to true once `image` has bytes, false when it ended empty or the copy ended first. */
function imageStarted(image: Readable, done: Promise<unknown>): Promise<boolean> {
  return new Promise((resolvePromise, reject) => {
    const settle = () => {
      image.off('readable', settle);
      resolvePromise(image.readableLength > 0);
    };
    image.once('readable', settle);
    done.then(settle, (e: unknown) => {
      image.off('readable', settle);
      reject(e);
    });
  });
}

/**
 * readUsedCardToFile, which also makes the partclone image of one partition from the same reads,
 * so a clone's image is compressed while the card is read instead of after. Resolves as soon as
 * the image has started (or is known not to be made).
 */
export async function readUsedCardWithImage(
  card: RawCard,
  dest: string,
  ctx: JobContext,
  request: PartcloneRequest,
  opts: RawDiskOptions = {},
): Promise<UsedReadWithImage> {
  const target = resolve(dest);
  let image: Readable;
  let done: Promise<UsedReadOutcome>;
  if (card.kind === 'file') {
    const out = new PassThrough({ highWaterMark: 4 << 20 });
    image = out;
    done = readUsedToSparseFile(card.path, target, ctx, {
      length: card.bytes,
      partclone: { ...request, out },
    }).then((r) => ({
      bytes: r.bytes,
      mappedBytes: r.mappedBytes,
      fallbacks: r.fallbacks,
      ...(r.partclone ? { partclone: r.partclone } : {}),
    }));
  } else {
    await unmountFirst(card, opts);
    const label = `Reading the used blocks of ${card.path}, cloning the root partition from them`;
    ctx.step('read-used', label, card.bytes);
    const pipes = await namedPipes();
    pipes.input.destroy(); // only the helper → here direction carries the image
    image = pipes.output;
    done = runHelper(
      {
        op: 'read',
        device: cardPlatform(opts.platform).rawPath(card.path),
        expect: expectOf(card),
        dest: target,
        used: true,
        partclone: { ...request, to: pipes.args[3]! },
      },
      ctx,
      'read',
      { read: label, write: label, verify: label },
      opts,
      card.path,
    ).then(
      (r) => {
        // The helper has closed its end: what is left in the pipe is the image's end.
        pipes.release();
        void pipes.unlink();
        if (r.partclone?.refused) {
          ctx.log(
            `the partclone image of partition ${request.partition} is made after the copy: ${r.partclone.refused}`,
          );
        }
        return {
          bytes: r.bytes,
          mappedBytes: r.mappedBytes ?? r.bytes,
          fallbacks: r.fallbacks ?? [],
          ...(r.partclone ? { partclone: r.partclone } : {}),
        };
      },
      async (e: unknown) => {
        await pipes.cleanup();
        throw e;
      },
    );
  }
  done.catch(() => undefined);
  if (await imageStarted(image, done)) return { image, done };
  image.destroy();
  return { done };
}
