/**
 * Flash: an image (.img, .img.xz, .img.gz, .img.zst) -> one or more cards, each verified by
 * reading back what was written.
 *   - a plain image is written by its block map: the .bmap beside it (made by shrink) or the map
 *     of its partitions' used blocks, so free space never crosses the card reader;
 *   - a compressed image is decompressed on the fly and written whole;
 *   - an image whose partition table points past its end is refused before anything is written;
 *   - each card goes through the write pipeline (src-main/core/write): its old table areas are
 *     made invalid first and the first 1 MiB (partition table) is written last, so an
 *     interrupted write never leaves a card that looks valid;
 *   - several cards are written at once; one failing card never stops the others.
 * Every card's identity is checked again right before it is opened, a disk holding the system,
 * the library or the image is refused, a mounted card is unmounted first, and a written card is
 * ejected.
 */
import { basename, resolve } from 'node:path';
import { AtlasError, toAtlasError, type SerializedError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { assertWritableCard, type CardIdentity } from '../cards/card.js';
import { identifyRawCard } from '../cards/raw-disk.js';
import { beforeWrite, neededBytes } from '../write/guards.js';
import { openSource, sourceBytes, type WriteSource } from '../write/open-source.js';
import { writeImage } from '../write/write-pipeline.js';
import { targetFor } from '../write/write-target.js';
import {
  ejectTarget,
  type EjectResult,
  type ProtectedPlace,
  type TargetContext,
} from '../cards/target-guards.js';
import type { Env } from './env.js';
import { lockCard, withJobLocks } from '../library/job-lock.js';

export interface FlashParams {
  image: string;
  cards: string[];
  verify?: boolean;
  /** Identities captured when the user picked the cards (re-checked before writing). */
  expected?: CardIdentity[];
  /** Places besides the library and the image whose disks must not be written (staging, archive). */
  places?: ProtectedPlace[];
  /** Cards confirmed although unusual (larger than an SD card, or internal): true for all. */
  allowUnusual?: boolean | string[];
  /** How an unusual card is confirmed, for the refusal's hint. */
  confirmHow?: string;
  /** Eject each card once written and verified (default true). */
  eject?: boolean;
}

export interface CardFlashResult {
  card: string;
  ok: boolean;
  writtenBytes?: number;
  verified?: boolean;
  /** Devices: ejected after the write, or why not. */
  eject?: EjectResult;
  error?: SerializedError;
}

export interface FlashResult {
  image: string;
  imageBytes: number;
  /** 'bmap': the .bmap beside the image; 'used-blocks': the image's own map; 'stream': whole image. */
  mode: 'bmap' | 'used-blocks' | 'stream';
  mappedBytes: number;
  sha256?: string;
  cards: CardFlashResult[];
  failed: number;
}

/** As root on Linux a card device is opened here; otherwise (a Mac, a Linux desktop) the helper opens it. */
export const viaHelper = (card: CardIdentity): boolean =>
  card.kind === 'device' && !(process.platform === 'linux' && process.getuid?.() === 0);

/** Writes one card through the write pipeline; `ctx` receives this card's progress. */
async function flashOne(
  source: WriteSource,
  card: CardIdentity,
  verify: boolean,
  ctx: JobContext,
  guard: TargetContext,
) {
  const r = await writeImage(source, card, ctx, { verify, viaHelper: viaHelper(card), guard });
  return { writtenBytes: r.writtenBytes, verified: r.verified, sha256: r.sha256 || undefined };
}

/** A JobContext for one of several cards: its progress feeds the job's combined progress. */
function cardContext(parent: JobContext, slots: number[], i: number, perCard: number): JobContext {
  let base = 0;
  let last = 0;
  return {
    signal: parent.signal,
    throwIfCancelled: parent.throwIfCancelled,
    log: (line) => parent.log(line),
    step: () => {
      base += last;
      last = 0;
    },
    progress: (done) => {
      last = done;
      slots[i] = Math.min(perCard, base + done);
      parent.progress(
        slots.reduce((a, b) => a + b, 0),
        perCard * slots.length,
      );
    },
  };
}

/** One job per card: a flash to a card another job holds is refused, told which job holds it. */
export async function flash(env: Env, params: FlashParams, ctx: JobContext): Promise<FlashResult> {
  const job = `flash ${basename(params.image)}`;
  const cards = params.cards.map((c, i) => params.expected?.[i]?.path ?? c);
  return withJobLocks(
    cards.map((c) => () => lockCard(c, job)),
    () => flashLocked(env, params, ctx),
  );
}

async function flashLocked(env: Env, params: FlashParams, ctx: JobContext): Promise<FlashResult> {
  if (params.cards.length === 0) throw new AtlasError('usage', 'no card to flash', 'name one or more cards');
  const verify = params.verify !== false;
  ctx.step('prepare', `Reading ${basename(params.image)}`);
  const source = await openSource(params.image, { log: (l) => ctx.log(l) });
  const mappedBytes = sourceBytes(source);
  const results: CardFlashResult[] = [];
  const ready: CardIdentity[] = [];
  const guards = new Map<string, TargetContext>();
  for (const [i, path] of params.cards.entries()) {
    try {
      const card = params.expected?.[i] ?? (await identifyRawCard(path));
      const allow = params.allowUnusual;
      const guard: TargetContext = {
        places: [
          ...(env.library ? [{ what: 'the library', path: resolve(env.library) }] : []),
          { what: 'the source image', path: source.path },
          ...(params.places ?? []).map((pl) => ({ ...pl, path: resolve(pl.path) })),
        ],
        unusualConfirmed: allow === true || (Array.isArray(allow) && allow.includes(path)),
        ...(params.confirmHow ? { confirmHow: params.confirmHow } : {}),
        signal: ctx.signal,
      };
      // Refused before any card is written (and before the helper's authorization dialog).
      await beforeWrite(source, targetFor(card, { viaHelper: viaHelper(card) }), guard);
      guards.set(card.path, guard);
      await assertWritableCard(card, neededBytes(source));
      ready.push(card);
    } catch (e) {
      // With one card, a refusal is the answer; with several, the others still get written.
      if (params.cards.length === 1) throw e;
      results.push({ card: path, ok: false, error: toAtlasError(e).toJSON() });
    }
  }
  let sha256: string | undefined;
  if (ready.length === 1 && params.cards.length === 1) {
    const r = await flashOne(source, ready[0]!, verify, ctx, guards.get(ready[0]!.path)!);
    sha256 = r.sha256;
    results.push({ card: ready[0]!.path, ok: true, writtenBytes: r.writtenBytes, verified: r.verified });
  } else if (ready.length > 0) {
    const perCard = mappedBytes * (verify ? 2 : 1);
    const slots = ready.map(() => 0);
    ctx.step('write', `Writing and verifying ${ready.length} cards`, perCard * ready.length);
    const settled = await Promise.allSettled(
      ready.map((card, i) =>
        flashOne(source, card, verify, cardContext(ctx, slots, i, perCard), guards.get(card.path)!),
      ),
    );
    settled.forEach((s, i) => {
      const card = ready[i]!.path;
      if (s.status === 'fulfilled') {
        sha256 ??= s.value.sha256;
        results.push({ card, ok: true, writtenBytes: s.value.writtenBytes, verified: s.value.verified });
      } else {
        ctx.log(`${card}: ${toAtlasError(s.reason).message}`);
        results.push({ card, ok: false, error: toAtlasError(s.reason).toJSON() });
      }
    });
    ctx.throwIfCancelled();
  }
  if (params.eject !== false) {
    for (const r of results) {
      const card = ready.find((c) => c.path === r.card);
      if (r.ok && card?.kind === 'device') {
        r.eject = await ejectTarget(card.path, { signal: ctx.signal });
        ctx.log(`${card.path}: ${r.eject.message}`);
      }
    }
  }
  const order = new Map(params.cards.map((c, i) => [c, i]));
  results.sort((a, b) => (order.get(a.card) ?? 0) - (order.get(b.card) ?? 0));
  return {
    image: params.image,
    imageBytes: source.bytes ?? 0,
    mode: source.mode,
    mappedBytes,
    ...(sha256 ? { sha256 } : {}),
    cards: results,
    failed: results.filter((r) => !r.ok).length,
  };
}
