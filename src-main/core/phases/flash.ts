/**
 * Flash: an image (.img, .img.xz, .img.gz, .img.zst) -> one or more cards, each verified by
 * reading back what was written.
 *   - a plain image is written by its block map: the .bmap beside it (made by shrink) or the map
 *     of its partitions' used blocks, so free space never crosses the card reader;
 *   - a compressed image is decompressed on the fly and written whole;
 *   - the first 1 MiB (partition table) is written last, so an interrupted write never leaves a
 *     card that looks valid;
 *   - several cards are written at once; one failing card never stops the others.
 * Every card's identity is checked again right before it is opened.
 */
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { AtlasError, toAtlasError, type SerializedError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { assertWritableCard, describeCard, recheckCard, type CardIdentity } from '../cards/card.js';
import { detectCompression, decompress, uncompressedSize, type Compression } from '../images/compression.js';
import { copyStreamTo, hashRange, upToCardSize } from '../rawio/block-copy.js';
import { bmapByteRanges, readBmap, writeMappedToTarget, type Bmap } from '../rawio/bmap.js';
import { compareRanges } from '../rawio/compare-ranges.js';
import { handleReader } from '../rawio/used-blocks/byte-reader.js';
import { totalBytes, type ByteRange } from '../rawio/used-blocks/byte-ranges.js';
import { mapCard } from '../rawio/used-blocks/used-ranges.js';
import { runTool } from '../tools/run-tool.js';
import { writeImageToCard, identifyRawCard } from '../cards/raw-disk.js';
import {
  ejectTarget,
  openExclusive,
  prepareTarget,
  type EjectResult,
  type ProtectedPlace,
  type TargetContext,
} from '../cards/target-guards.js';
import { exists } from './common.js';
import type { Env } from './env.js';

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

interface Source {
  path: string;
  compression: Compression;
  bytes: number | undefined;
  mode: FlashResult['mode'];
  bmap?: Bmap;
  ranges?: ByteRange[];
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

async function openSource(image: string, ctx: JobContext): Promise<Source> {
  const st = await stat(image).catch(() => undefined);
  if (!st?.isFile()) throw new AtlasError('not-found', `no image at ${image}`);
  const compression = await detectCompression(image);
  if (compression !== 'none') {
    return { path: image, compression, bytes: await uncompressedSize(image, compression), mode: 'stream' };
  }
  const bmapPath = `${image}.bmap`;
  if (await exists(bmapPath)) {
    const bmap = await readBmap(bmapPath);
    if (bmap.imageSize === st.size) {
      return { path: image, compression, bytes: st.size, mode: 'bmap', bmap, ranges: bmapByteRanges(bmap) };
    }
    ctx.log(`${basename(bmapPath)} does not match the image size: using the image's own map`);
  }
  const fh = await open(image, 'r');
  try {
    const map = await mapCard(handleReader(fh, st.size), { align: 64 * 1024, keepTrailing: true });
    for (const f of map.fallbacks) ctx.log(`written in full: ${f}`);
    return { path: image, compression, bytes: st.size, mode: 'used-blocks', ranges: map.ranges };
  } finally {
    await fh.close();
  }
}

async function checkTarget(source: Source, card: CardIdentity, guard: TargetContext): Promise<void> {
  const st = await stat(source.path);
  if (card.kind === 'file' && card.node === st.ino) {
    throw new AtlasError('unsafe-target', 'the card and the image are the same file', 'pick another card');
  }
  if (await imageOnCard(source.path, card)) {
    throw new AtlasError(
      'unsafe-target',
      `${source.path} is stored on ${card.path}, the card to be written`,
      'copy the image elsewhere first',
    );
  }
  await assertWritableCard(card, source.bytes ?? 0);
  if (card.kind === 'device') await prepareTarget(card.path, guard);
}

/** Writes one card; `ctx` receives this card's progress (write, then verify). */
async function flashOne(
  source: Source,
  card: CardIdentity,
  verify: boolean,
  ctx: JobContext,
  steps: boolean,
  guard: TargetContext = {},
) {
  if (card.kind === 'device' && !(process.platform === 'linux' && process.getuid?.() === 0)) {
    // Not root (a Mac, or a Linux desktop): the privileged raw-disk helper writes the card.
    const r = await writeImageToCard(source.path, card, ctx, {
      verify,
      mapped: source.ranges !== undefined,
      guard: { ...(guard.places ? { places: guard.places } : {}), unusual: guard.unusualConfirmed === true },
    });
    return { writtenBytes: r.mappedBytes ?? r.bytes, verified: r.verified, sha256: r.sha256 || undefined };
  }
  if (steps)
    ctx.step(
      'write',
      `Writing ${basename(source.path)} to ${describeCard(card)}`,
      source.ranges ? totalBytes(source.ranges) : (source.bytes ?? 0),
    );
  await recheckCard(card);
  const fh = card.kind === 'device' ? await openExclusive(card.path) : await open(card.path, 'r+');
  let writtenBytes: number;
  let streamed: { bytes: number; sha256: string } | undefined;
  try {
    if (source.ranges) {
      const r = await writeMappedToTarget(source.path, source.bmap ?? source.ranges, fh, ctx, {
        targetBytes: card.bytes,
        firstBlockLast: true,
      });
      writtenBytes = r.writtenBytes;
    } else {
      const d = decompress(source.path, source.compression as Exclude<Compression, 'none'>);
      const limited = upToCardSize(d.stream, card.bytes, () => d.kill());
      const r = await copyStreamTo(limited, fh, { ctx, totalBytes: source.bytes ?? 0, firstBlockLast: true });
      await d.done;
      if (source.bytes !== undefined && r.bytes !== source.bytes) {
        throw new AtlasError(
          'verify-failed',
          `only ${r.bytes} of the image's ${source.bytes} bytes reached the card`,
          'the image could not be read to its end: check it (or download it again) and flash again',
        );
      }
      writtenBytes = r.writtenBytes;
      streamed = r;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (card.kind === 'device') await runTool('blockdev', ['--flushbufs', card.path]);
  if (!verify) return { writtenBytes, verified: false, sha256: streamed?.sha256 };
  if (steps)
    ctx.step(
      'verify',
      'Verifying: reading the card back',
      source.ranges ? totalBytes(source.ranges) : streamed!.bytes,
    );
  if (source.ranges) {
    const c = await compareRanges(source.path, card.path, source.ranges, ctx);
    if (!c.ok) {
      throw new AtlasError(
        'verify-failed',
        `verification failed: ${card.path} differs from the image at byte ${c.firstDifference}`,
        'the card may be failing or fake: try another card',
      );
    }
  } else {
    const back = await hashRange(card.path, streamed!.bytes, ctx);
    if (back !== streamed!.sha256) {
      throw new AtlasError(
        'verify-failed',
        `verification failed: what was read back from ${card.path} differs from the image`,
        'the card may be failing or fake: try another card',
      );
    }
  }
  return { writtenBytes, verified: true, sha256: streamed?.sha256 };
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

export async function flash(env: Env, params: FlashParams, ctx: JobContext): Promise<FlashResult> {
  if (params.cards.length === 0) throw new AtlasError('usage', 'no card to flash', 'name one or more cards');
  const verify = params.verify !== false;
  ctx.step('prepare', `Reading ${basename(params.image)}`);
  const source = await openSource(params.image, ctx);
  const mappedBytes = source.ranges ? totalBytes(source.ranges) : (source.bytes ?? 0);
  const results: CardFlashResult[] = [];
  const ready: CardIdentity[] = [];
  const guards = new Map<string, TargetContext>();
  for (const [i, path] of params.cards.entries()) {
    try {
      const card = params.expected?.[i] ?? (await identifyRawCard(path));
      const allow = params.allowUnusual;
      const guard: TargetContext = {
        places: [
          { what: 'the library', path: env.library },
          { what: 'the source image', path: params.image },
          ...(params.places ?? []),
        ],
        unusualConfirmed: allow === true || (Array.isArray(allow) && allow.includes(path)),
        ...(params.confirmHow ? { confirmHow: params.confirmHow } : {}),
        signal: ctx.signal,
      };
      await checkTarget(source, card, guard);
      guards.set(card.path, guard);
      ready.push(card);
    } catch (e) {
      // With one card, a refusal is the answer; with several, the others still get written.
      if (params.cards.length === 1) throw e;
      results.push({ card: path, ok: false, error: toAtlasError(e).toJSON() });
    }
  }
  let sha256: string | undefined;
  if (ready.length === 1 && params.cards.length === 1) {
    const r = await flashOne(source, ready[0]!, verify, ctx, true, guards.get(ready[0]!.path));
    sha256 = r.sha256;
    results.push({ card: ready[0]!.path, ok: true, writtenBytes: r.writtenBytes, verified: r.verified });
  } else if (ready.length > 0) {
    const perCard = mappedBytes * (verify ? 2 : 1);
    const slots = ready.map(() => 0);
    ctx.step('write', `Writing and verifying ${ready.length} cards`, perCard * ready.length);
    const settled = await Promise.allSettled(
      ready.map((card, i) =>
        flashOne(source, card, verify, cardContext(ctx, slots, i, perCard), false, guards.get(card.path)),
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
