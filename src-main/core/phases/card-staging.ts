/**
 * Where a builder script works on a card. The local builder opens the card itself (partclone then
 * reads only used blocks). A builder that cannot see the host's devices (the Lima VM on a Mac)
 * gets a used-block copy of the card in the shared work dir, read by the host through the
 * privileged raw-disk helper: the card reader carries used blocks only, never free space.
 */
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import type { CardIdentity } from '../cards/card.js';
import type { TargetContext } from '../cards/target-guards.js';
import { readUsedCardToFile, writeImageToCard } from '../card-io/raw-disk.js';
import { discard, scratchDir } from './common.js';
import type { Env } from './env.js';

export interface StagedCard {
  /** The path to hand to the builder (host path; the builder translates it). */
  path: string;
  staged: boolean;
  /** Bytes read from the card to stage it (used blocks only). */
  readBytes?: number;
  fallbacks: string[];
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

export async function stageCard(env: Env, card: CardIdentity, ctx: JobContext): Promise<StagedCard> {
  if (builderReachesCard(env, card)) {
    return { path: card.path, staged: false, fallbacks: [], release: async () => undefined };
  }
  const dir = await scratchDir(env);
  const path = join(dir, 'card.img');
  try {
    const r = await readUsedCardToFile(card, path, ctx);
    for (const f of r.fallbacks) ctx.log(`read in full: ${f}`);
    return {
      path,
      staged: true,
      readBytes: r.mappedBytes,
      fallbacks: r.fallbacks,
      release: () => discard(dir),
    };
  } catch (e) {
    await discard(dir);
    throw e;
  }
}

/**
 * For a restore the builder cannot do on the card: an empty, sparse, card-sized image in the
 * work dir for the builder to restore into, and a way to put its used blocks onto the card.
 */
export async function restoreTarget(
  env: Env,
  card: CardIdentity,
  guard: TargetContext = {},
): Promise<{
  path: string;
  finish(ctx: JobContext): Promise<{ writtenBytes: number }>;
  release(): Promise<void>;
}> {
  const dir = await scratchDir(env);
  const path = join(dir, 'restore.img');
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'wx', 0o600);
  await fh.truncate(card.bytes);
  await fh.close();
  return {
    path,
    finish: async (ctx) => {
      const r = await writeImageToCard(path, card, ctx, { verify: true, mapped: true, guard });
      return { writtenBytes: r.mappedBytes ?? r.bytes };
    },
    release: () => discard(dir),
  };
}
