/**
 * A card served as a block device (NBD) to a builder that cannot open it itself (the Lima VM on a
 * Mac): a card device through the raw-disk helper's "serve" request, its NBD stream on two named
 * pipes of our own (never a network port); an image file here, in this process. The caller
 * connects `fromCard`/`toCard` to the builder's nbd-client and calls `finish()` once the client
 * has disconnected (or to stop serving).
 */
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { handleBackend, serveNbd } from '../nbd/nbd-server.js';
import type { TargetContext } from './target-guards.js';
import { cardPlatform } from './platform/index.js';
import {
  expectOf,
  namedPipes,
  runHelper,
  unmountFirst,
  type RawCard,
  type RawDiskOptions,
} from './helper-client.js';

export interface ServedCard {
  bytes: number;
  /** The NBD stream from the server (to the client). */
  fromCard: Readable;
  /** The NBD stream to the server (from the client). */
  toCard: Writable;
  /** checkMaps: the partitions whose file system maps are damaged, and what else was noticed. */
  damaged: string[];
  notes: string[];
  /** Resolves when serving has ended (the client disconnected, or `stop()`), with the counts. */
  done: Promise<{ readBytes: number; writtenBytes: number }>;
  /** Stops serving now (the done promise then rejects as cancelled unless it had ended). */
  stop(): void;
}

export interface ServeOptions extends RawDiskOptions {
  writable: boolean;
  /** Cross-check the file system maps before serving (clone). */
  checkMaps?: boolean;
  guard?: TargetContext;
}

/** A context whose signal also fires on `stop()`; steps and progress go to the job's. */
function sessionContext(ctx: JobContext): { ctx: JobContext; stop: () => void } {
  const controller = new AbortController();
  const signal = AbortSignal.any([ctx.signal, controller.signal]);
  return {
    ctx: {
      ...ctx,
      signal,
      throwIfCancelled: () => ctx.throwIfCancelled(),
      step: ctx.step.bind(ctx),
      progress: ctx.progress.bind(ctx),
      log: ctx.log.bind(ctx),
    },
    stop: () => controller.abort(),
  };
}

export async function serveCard(card: RawCard, ctx: JobContext, opts: ServeOptions): Promise<ServedCard> {
  ctx.throwIfCancelled();
  const session = sessionContext(ctx);
  if (card.kind === 'file') return serveFile(card, session, opts);
  await unmountFirst(card, opts);
  const pipes = await namedPipes();
  const [dataIn, , dataOut] = pipes.args.slice(1);
  let serving: ((ev: { bytes: number; damaged?: string[]; notes?: string[] }) => void) | undefined;
  const started = new Promise<{ bytes: number; damaged?: string[]; notes?: string[] }>((r) => (serving = r));
  const guard = opts.guard;
  const label = `Serving ${card.path} to the builder`;
  const run = runHelper(
    {
      op: 'serve',
      device: cardPlatform(opts.platform).rawPath(card.path),
      expect: expectOf(card),
      writable: opts.writable,
      dataIn: dataIn!,
      dataOut: dataOut!,
      ...(opts.checkMaps ? { checkMaps: true } : {}),
      ...(opts.writable && guard?.places ? { places: guard.places } : {}),
      ...(opts.writable && guard?.unusualConfirmed ? { unusual: true } : {}),
    },
    session.ctx,
    'read',
    { read: label, write: label, verify: label },
    opts,
    card.path,
    (ev) => {
      if (ev.event === 'serving') serving?.(ev);
    },
  );
  const done = run
    .then((r) => ({ readBytes: r.readBytes ?? 0, writtenBytes: r.writtenBytes ?? 0 }))
    .finally(() => pipes.cleanup());
  done.catch(() => undefined);
  const first = await Promise.race([started, done.then(() => undefined)]);
  if (!first) {
    throw new AtlasError('tool-failed', `the raw-disk helper ended before serving ${card.path}`);
  }
  pipes.release(); // the helper holds its write end now: end-of-file means it is done
  return {
    bytes: first.bytes,
    fromCard: pipes.output,
    toCard: pipes.input,
    damaged: first.damaged ?? [],
    notes: first.notes ?? [],
    done,
    stop: session.stop,
  };
}

/** An image file the builder cannot see, served from this process. */
async function serveFile(
  card: RawCard,
  session: { ctx: JobContext; stop: () => void },
  opts: ServeOptions,
): Promise<ServedCard> {
  const fh = await open(card.path, opts.writable ? 'r+' : 'r');
  const fromCard = new PassThrough();
  const toCard = new PassThrough();
  const done = serveNbd(toCard, fromCard, handleBackend(fh, card.bytes), {
    writable: opts.writable,
    signal: session.ctx.signal,
  })
    .then(async (r) => {
      if (r.end === 'cancelled') throw new AtlasError('cancelled', `serving ${card.path} was stopped`);
      if (opts.writable) await fh.sync();
      return { readBytes: r.readBytes, writtenBytes: r.writtenBytes };
    })
    .finally(async () => {
      fromCard.end();
      await fh.close();
    });
  done.catch(() => undefined);
  return { bytes: card.bytes, fromCard, toCard, damaged: [], notes: [], done, stop: session.stop };
}
