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
 *   - several cards are written at once; one failing card never stops the others;
 *   - a card smaller than an image whose last partition is an ext4 root gets an image made
 *     for it (fit_image.sh: the root's copy shrunk to end at the card's end, in the work dir; the
 *     image itself is only read), written the same way; a compressed image is decompressed into
 *     the work dir first (sparse). A card too small for the data is refused before any card is
 *     written, saying how much is needed.
 * Every card's identity is checked again right before it is opened, a disk holding the system,
 * the library or the image is refused, a mounted card is unmounted first, and a written card is
 * ejected.
 */
import { basename, dirname, join } from 'node:path';
import { AtlasError, toAtlasError } from '../errors.js';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import type { CardIdentity } from '../cards/card.js';
import { identifyRawCard } from '../card-io/card-reads.js';
import { neededBytes, preflight } from '../write/guards.js';
import { closeSource, openSource, sourceBytes, type WriteSource } from '../write/open-source.js';
import { writeImage } from '../write/write-pipeline.js';
import { assertPiLayout } from '../write/pi-layout.js';
import { ejectTarget, type ProtectedPlace, type TargetContext } from '../cards/target-guards.js';
import { cardPlatform } from '../cards/platform/index.js';
import type { Env } from './env.js';
import { discard, scratchDir } from '../library/files.js';
import { unpackImage } from '../write/unpack-image.js';
import { writeSteps } from './plan-steps.js';
import { lockCard, withJobLocks } from '../library/job-lock.js';
import { writeGuardPlaces } from '../library/places.js';
import { type CardFlashResult, type FlashResult } from '../../common/results.js';
export { type CardFlashResult, type FlashResult } from '../../common/results.js';

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
  /** Eject each card once written and verified (default true). */
  eject?: boolean;
  /** Write an image that is not a Raspberry Pi card image (pi-layout.ts) all the same. */
  force?: boolean;
}

/** As root on Linux a card device is opened here; otherwise (a Mac, a Linux desktop) the helper opens it. */
export const viaHelper = (card: CardIdentity): boolean =>
  card.kind === 'device' && !cardPlatform().opensCardsHere();

/** The guards of one card's write: the library, the archive, the image, the places given. */
function cardGuard(
  library: string | undefined,
  params: FlashParams,
  source: WriteSource,
  path: string,
  signal?: AbortSignal,
): TargetContext {
  const allow = params.allowUnusual;
  return {
    places: writeGuardPlaces(library, [
      { what: 'the source image', path: source.path },
      ...(params.places ?? []),
    ]),
    unusualConfirmed: allow === true || (Array.isArray(allow) && allow.includes(path)),
    ...(signal ? { signal } : {}),
  };
}

/** An image the card is smaller than may still fit: its root is shrunk for this card. */
const fitsShrunk = (card: CardIdentity, source: WriteSource) => card.bytes < neededBytes(source);

/**
 * What a flash would refuse, found before anything is asked or written (the CLI asks this before
 * its confirmation): the image (missing, truncated, not a Raspberry Pi image) and each card,
 * identified and checked as its write will check it, nothing unmounted. With several cards it
 * throws only when none of them could be written, as the flash itself goes on past a refused card.
 */
export async function checkFlash(library: string, params: FlashParams): Promise<void> {
  const source = await openSource(params.image, { map: false });
  try {
    await checkCards(library, params, source);
  } finally {
    await closeSource(source);
  }
}

async function checkCards(library: string, params: FlashParams, source: WriteSource): Promise<void> {
  assertPiLayout(params.image, source.layoutProblem, params.force === true);
  const refused: unknown[] = [];
  for (const path of params.cards) {
    try {
      const card = await identifyRawCard(path);
      await preflight(card, cardGuard(library, params, source, path), {
        source,
        ...(fitsShrunk(card, source) ? { neededBytes: 0 } : {}),
      });
    } catch (e) {
      refused.push(e);
    }
  }
  if (refused.length > 0 && refused.length === params.cards.length) throw refused[0];
}

/** Writes one card (preflight done) through the write pipeline; `ctx` receives this card's progress. */
async function flashOne(
  source: WriteSource,
  card: CardIdentity,
  verify: boolean,
  ctx: JobContext,
  guard: TargetContext,
) {
  const r = await writeImage(source, card, ctx, {
    verify,
    viaHelper: viaHelper(card),
    guard,
    preflighted: true,
  });
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

/** An image a card is smaller than: the image made for that card size (fit_image.sh). */
interface Fitted {
  source: WriteSource;
  minBytes: number;
}

/**
 * Makes the image for a card of `bytes` from `source` (in the work dir; the image is only read).
 * A compressed image is decompressed there first: fit_image.sh reads a plain one.
 */
async function fitImage(env: Env, source: WriteSource, bytes: number, ctx: JobContext): Promise<Fitted> {
  const dir = await scratchDir(env.library);
  try {
    const out = join(dir, 'fitted.img');
    let plain = source.path;
    if (source.compression !== 'none') {
      plain = join(dir, 'image.img');
      await unpackImage(
        {
          path: source.path,
          handle: source.handle,
          compression: source.compression,
          bytes: source.bytes,
          ...(source.ranges ? { dataBytes: sourceBytes(source) } : {}),
        },
        plain,
        dir,
        ctx,
      );
    }
    const b = env.builder;
    const r = await b.runScript(
      'fit_image.sh',
      [b.toBuilderPath(plain), b.toBuilderPath(out), String(bytes)],
      ctx,
    );
    if (plain !== source.path) await discard(plain);
    const fitted = await openSource(out, { log: (l) => ctx.log(l) });
    return { source: fitted, minBytes: Number(r.results.get('min-bytes')?.[0] ?? 0) };
  } catch (e) {
    await discard(dir);
    throw e;
  }
}

async function flashLocked(env: Env, params: FlashParams, ctx: JobContext): Promise<FlashResult> {
  const fits = new Map<number, Promise<Fitted>>();
  try {
    return await flashCards(env, params, ctx, fits);
  } finally {
    for (const f of fits.values()) {
      const fitted = await f.catch(() => undefined);
      if (fitted) {
        await closeSource(fitted.source);
        await discard(dirname(fitted.source.path));
      }
    }
  }
}

async function flashCards(
  env: Env,
  params: FlashParams,
  ctx: JobContext,
  fits: Map<number, Promise<Fitted>>,
): Promise<FlashResult> {
  if (params.cards.length === 0) throw new AtlasError('usage', 'no card to flash', 'name one or more cards');
  const verify = params.verify !== false;
  ctx.step('prepare', `Reading ${basename(params.image)}`);
  const source = await openSource(params.image, { log: (l) => ctx.log(l) });
  try {
    return await flashSource(env, params, ctx, fits, source, verify);
  } finally {
    await closeSource(source);
  }
}

/**
 * Reading the image, then for each size of card smaller than the image the image made for it
 * (decompressed first when compressed, then fit_image.sh's steps), then the write and the read
 * back of the image's mapped bytes: one step each for one card, one step for several together.
 */
export function flashPlan(
  image: string,
  source: WriteSource,
  cards: readonly (CardIdentity | undefined)[],
  verify: boolean,
): PlannedStep[] {
  const mapped = sourceBytes(source);
  const smaller = new Set(cards.flatMap((c) => (c && fitsShrunk(c, source) ? [c.bytes] : [])));
  const fitting = [...smaller].flatMap((bytes): PlannedStep[] => [
    ...(source.compression !== 'none'
      ? [
          {
            id: 'unpack',
            label: `Decompressing ${basename(image)} into the work folder`,
            bytes: source.bytes ?? 0,
          },
        ]
      : []),
    {
      id: 'fit-copy',
      label: 'Copying the root file system into the work folder (partclone.ext4)',
      bytes: neededBytes(source),
    },
    { id: 'fit-check', label: 'Checking the copy of the root file system (e2fsck -f)' },
    { id: 'fit-shrink', label: 'Shrinking the root file system to fit the card (resize2fs)' },
    { id: 'fit-build', label: 'Building the image for this card', bytes },
  ]);
  const writing: PlannedStep[] =
    cards.length > 1
      ? [
          {
            id: 'write',
            label: `Writing and verifying ${cards.length} cards`,
            bytes: mapped * (verify ? 2 : 1) * cards.length,
          },
        ]
      : writeSteps(mapped, verify);
  return [{ id: 'prepare', label: `Reading ${basename(image)}` }, ...fitting, ...writing];
}

async function flashSource(
  env: Env,
  params: FlashParams,
  ctx: JobContext,
  fits: Map<number, Promise<Fitted>>,
  source: WriteSource,
  verify: boolean,
): Promise<FlashResult> {
  assertPiLayout(params.image, source.layoutProblem, params.force === true);
  const mappedBytes = sourceBytes(source);
  const results: CardFlashResult[] = [];
  const ready: CardIdentity[] = [];
  const guards = new Map<string, TargetContext>();
  // The cards as far as they can be identified now (one that cannot is refused below, as it is).
  const known = await Promise.all(
    params.cards.map(async (path, i) => params.expected?.[i] ?? identifyRawCard(path).catch(() => undefined)),
  );
  ctx.plan?.(flashPlan(params.image, source, known, verify));
  for (const [i, path] of params.cards.entries()) {
    try {
      const card = known[i] ?? (await identifyRawCard(path));
      const guard = cardGuard(env.library, params, source, path, ctx.signal);
      const fit = fitsShrunk(card, source);
      // Refused before any card is written (and before the helper's authorization dialog); a card
      // identified at the pick is read again here, once, and once more by the write's last check.
      await preflight(card, guard, {
        source,
        recheck: params.expected?.[i] !== undefined,
        ...(fit ? { neededBytes: 0 } : {}),
      });
      guards.set(card.path, guard);
      if (fit) {
        if (!fits.has(card.bytes)) fits.set(card.bytes, fitImage(env, source, card.bytes, ctx));
        const f = await fits.get(card.bytes)!;
        ctx.log(
          `${card.path} is smaller than the image: its root was shrunk to fit (the data needs ${f.minBytes} bytes)`,
        );
      }
      ready.push(card);
    } catch (e) {
      // With one card, a refusal is the answer; with several, the others still get written.
      if (params.cards.length === 1) throw e;
      results.push({ card: path, ok: false, error: toAtlasError(e).toJSON() });
    }
  }
  let sha256: string | undefined;
  const fittedFor = async (card: CardIdentity) =>
    card.bytes < neededBytes(source) ? await fits.get(card.bytes) : undefined;
  const one = async (card: CardIdentity, c: JobContext): Promise<CardFlashResult & { sha256?: string }> => {
    const f = await fittedFor(card);
    const r = await flashOne(f?.source ?? source, card, verify, c, guards.get(card.path)!);
    return {
      card: card.path,
      ok: true,
      writtenBytes: r.writtenBytes,
      verified: r.verified,
      ...(f ? { shrunkToFit: true, minBytes: f.minBytes } : { sha256: r.sha256 }),
    };
  };
  if (ready.length === 1 && params.cards.length === 1) {
    const { sha256: sum, ...r } = await one(ready[0]!, ctx);
    sha256 = sum;
    results.push(r);
  } else if (ready.length > 0) {
    const perCard = mappedBytes * (verify ? 2 : 1);
    const slots = ready.map(() => 0);
    ctx.step('write', `Writing and verifying ${ready.length} cards`, perCard * ready.length);
    const settled = await Promise.allSettled(
      ready.map((card, i) => one(card, cardContext(ctx, slots, i, perCard))),
    );
    settled.forEach((s, i) => {
      const card = ready[i]!.path;
      if (s.status === 'fulfilled') {
        const { sha256: sum, ...r } = s.value;
        sha256 ??= sum;
        results.push(r);
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
