/**
 * Raw card access for the phases: read a whole card (or its used blocks) into a new sparse file,
 * and write an image onto a card. Card devices are opened by the raw-disk helper
 * (src-main/privileged/raw-disk-helper.ts, started through helper-client.ts) with the rights to
 * open them; image files standing in for cards are read and written here directly. Writing goes
 * through the one write pipeline (src-main/core/write/).
 */
import { resolve } from 'node:path';
import type { JobContext } from '../jobs/job.js';
import { copyToSparseFile } from '../rawio/block-copy.js';
import { readUsedToSparseFile } from '../rawio/used-blocks/read-used.js';
import { writeImage } from '../write/write-pipeline.js';
import type { DiskutilOptions } from '../cards/diskutil.js';
import type { TargetContext } from '../cards/target-guards.js';
import { cardPlatform } from '../cards/platform/index.js';
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
 * this when the user picks the card, and pass the result to readCardToFile/writeImageToCard.
 */
export async function identifyRawCard(
  path: string,
  opts: { platform?: NodeJS.Platform; diskutil?: DiskutilOptions } = {},
): Promise<RawCard> {
  return cardPlatform(opts.platform).identify(path, opts.diskutil);
}

// --- the two operations -------------------------------------------------------------------------

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

/**
 * Writes an image (plain or .xz/.gz/.zst) onto a card through the write pipeline: the card's table
 * areas made invalid first, the image (whole, or with `mapped` its block map) written, the first
 * MiB last, then (with verify) read back. The helper checks the card is still `card`.
 */
export async function writeImageToCard(
  image: string,
  card: RawCard,
  ctx: JobContext,
  opts: RawDiskOptions & { verify: boolean; mapped?: boolean; guard?: TargetContext },
): Promise<RawResult> {
  const r = await writeImage(image, card, ctx, { ...opts, map: opts.mapped === true });
  return {
    bytes: r.bytes,
    sha256: r.sha256,
    verified: r.verified,
    ...(r.mappedBytes !== undefined ? { mappedBytes: r.writtenBytes } : {}),
  };
}
