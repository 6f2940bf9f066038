/**
 * Where a builder script works on a card. The local builder opens the card itself (partclone then
 * reads only used blocks). A builder that cannot see the host's devices (the Lima VM on a Mac)
 * gets the card attached as a block device when it can (Builder.attachCard: NBD served by the
 * privileged raw-disk helper, so partclone reads only what it needs, in one pass, and nothing
 * card-sized lands on the Mac); otherwise a used-block copy of the card in the shared work dir,
 * read by the host through the same helper: the card reader carries used blocks only, never free
 * space. The job log says which, and why.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import type { CardIdentity } from '../cards/card.js';
import type { TargetContext } from '../cards/target-guards.js';
import { readUsedCardToFile, readUsedCardWithImage, type PartcloneRequest } from '../card-io/card-reads.js';
import { writeImage } from '../write/write-pipeline.js';
import { discard, scratchDir } from '../library/files.js';
import type { Env } from './env.js';

export interface StagedCard {
  /** The card as the builder sees it: hand it to the builder scripts as it is. */
  builderPath: string;
  /** A host file or device with the card's data (the card, or its copy); none when attached. */
  hostPath?: string;
  /** direct: the builder opens the card; block-device: attached in the builder; staged: a copy. */
  via: 'direct' | 'block-device' | 'staged';
  staged: boolean;
  /** Bytes read from the card (staged: when copying; block-device: once released). */
  readBytes?: number;
  fallbacks: string[];
  /** block-device with checkMaps: the partitions whose file system maps are damaged. */
  damaged?: string[];
  /**
   * staged, when asked for and possible: the partition's partclone image, made from the card's
   * blocks while they are copied. The copy is then still running: `complete` says when it is done.
   */
  image?: Readable;
  /** Resolves once the staged copy is complete (at once, unless `image`); rejects if it fails. */
  complete: Promise<void>;
  release(): Promise<void>;
}

function builderSees(env: Env, path: string): boolean {
  try {
    env.builder.toBuilderPath(path);
    return true;
  } catch (e) {
    if (e instanceof AtlasError) return false;
    throw e;
  }
}

/** True when the builder can work on the card where it is. */
export function builderReachesCard(env: Env, card: CardIdentity): boolean {
  return card.kind === 'file' ? builderSees(env, card.path) : env.builder.seesHostDevices;
}

export async function stageCard(
  env: Env,
  card: CardIdentity,
  ctx: JobContext,
  options: { checkMaps?: boolean; image?: PartcloneRequest } = {},
): Promise<StagedCard> {
  const b = env.builder;
  if (builderReachesCard(env, card)) {
    return {
      builderPath: b.toBuilderPath(card.path),
      hostPath: card.path,
      via: 'direct',
      staged: false,
      fallbacks: [],
      complete: Promise.resolve(),
      release: async () => undefined,
    };
  }
  const attached = await b.attachCard?.(card, { writable: false, ...options }, ctx);
  if (attached) {
    for (const n of attached.notes) ctx.log(n);
    const out: StagedCard = {
      builderPath: attached.device,
      via: 'block-device',
      staged: false,
      fallbacks: attached.notes,
      damaged: attached.damaged,
      complete: Promise.resolve(),
      release: async () => {
        const r = await attached.release();
        out.readBytes = r.readBytes;
        ctx.log(`card access: ${r.readBytes} bytes read from the card through ${attached.device}`);
      },
    };
    return out;
  }
  const dir = await scratchDir(env.library);
  const path = join(dir, 'card.img');
  try {
    const staged: StagedCard = {
      builderPath: b.toBuilderPath(path),
      hostPath: path,
      via: 'staged',
      staged: true,
      fallbacks: [],
      complete: Promise.resolve(),
      // A copy still running (the builder stopped reading its image, say) ends before its folder
      // goes: its image is closed first, so it does not wait for a reader any more.
      release: () => {
        staged.image?.destroy();
        return staged.complete.then(
          () => discard(dir),
          () => discard(dir),
        );
      },
    };
    const copied = (r: { mappedBytes: number; fallbacks: string[] }) => {
      for (const f of r.fallbacks) ctx.log(`read in full: ${f}`);
      staged.readBytes = r.mappedBytes;
      staged.fallbacks = r.fallbacks;
    };
    if (options.image) {
      const r = await readUsedCardWithImage(card, path, ctx, options.image);
      if (r.image) {
        staged.image = r.image;
        staged.complete = r.done.then(copied);
        staged.complete.catch(() => undefined);
        return staged;
      }
      copied(await r.done);
      return staged;
    }
    copied(await readUsedCardToFile(card, path, ctx));
    return staged;
  } catch (e) {
    await discard(dir);
    throw e;
  }
}

/**
 * For a restore the builder cannot do on the card: an empty, sparse, card-sized image in the
 * work dir for the builder to restore into, and a way to put its used blocks onto the card (the
 * restore ran the write's preflight on the card before the builder started).
 */
export async function restoreTarget(
  env: Env,
  card: CardIdentity,
  guard: TargetContext = {},
): Promise<{
  /** The card-sized image as the builder sees it. */
  builderPath: string;
  path: string;
  finish(ctx: JobContext): Promise<{ writtenBytes: number }>;
  release(): Promise<void>;
}> {
  const dir = await scratchDir(env.library);
  const path = join(dir, 'restore.img');
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'wx', 0o600);
  await fh.truncate(card.bytes);
  await fh.close();
  return {
    builderPath: env.builder.toBuilderPath(path),
    path,
    finish: async (ctx) => {
      const r = await writeImage(path, card, ctx, { verify: true, guard, preflighted: true });
      return { writtenBytes: r.writtenBytes };
    },
    release: () => discard(dir),
  };
}
