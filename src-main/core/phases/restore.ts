/**
 * Phase 1 Restore: a clone set -> a card, root partition grown to fill it. The card's size is
 * checked against the clone before anything is written, and its identity right before writing.
 * A card smaller than the clone's card is restored when the data fits: restore_golden.sh restores
 * the root into a sparse file in the work dir, shrinks it to end at the card's end (refusing a
 * card too small for the data, before anything is written, with the size needed), writes its
 * used blocks and the table with the root ending there.
 * Before anything is restored the card's old table areas and the heads of the new partitions are
 * zeroed; through the VM (a Mac) the host writes the result with the write pipeline, table last.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { identifyRawCard } from '../card-io/raw-disk.js';
import { assertWritableCard, describeCard, recheckCard, type CardIdentity } from '../cards/card.js';
import {
  blocking,
  checkTarget,
  ejectTarget,
  prepareTarget,
  refusal,
  type ProtectedPlace,
  type TargetContext,
} from '../cards/target-guards.js';
import { CLONE_SET_FILES } from '../library/library.js';
import { writeGuardPlaces } from '../library/places.js';
import { refuseProtectedFile } from '../cards/protected-files.js';
import { dumpBytesBeforeRoot, dumpBytesNeeded, parsePartitionDump } from '../library/partition-dump.js';
import { locateSet } from './set-elsewhere.js';
import { findSet } from '../library/set-places.js';
import { builderReachesCard, restoreTarget } from './card-staging.js';
import { discard, scratchDir } from '../library/files.js';
import type { Env } from './env.js';
import { lockCard, withJobLocks } from '../library/job-lock.js';
import { type RestoreResult } from '../../common/results.js';
export { type RestoreResult } from '../../common/results.js';

export interface RestoreParams {
  card: string;
  set: string;
  /** The identity captured when the user picked the card (re-checked before writing). */
  expected?: CardIdentity;
  /** Places besides the library whose disks must not be written (staging, archive). */
  places?: ProtectedPlace[];
  /** The card was confirmed although unusual (larger than an SD card, or internal). */
  allowUnusual?: boolean;
  /** Eject the card once restored (default true). */
  eject?: boolean;
}

/** Bytes a card needs for this dump: the end of the last partition (+ the backup GPT). */
export function bytesNeededByDump(dump: string): number {
  return dumpBytesNeeded(parsePartitionDump(dump));
}

/** One job per card: a second one is refused, told which job holds it. */
export async function restore(env: Env, params: RestoreParams, ctx: JobContext): Promise<RestoreResult> {
  const card = params.expected?.path ?? params.card;
  return withJobLocks([() => lockCard(card, `restore ${params.set}`)], () => restoreLocked(env, params, ctx));
}

async function restoreLocked(env: Env, params: RestoreParams, ctx: JobContext): Promise<RestoreResult> {
  const set = await locateSet(env, params.set, ctx);
  await assertSetFolder(params.set, set);
  for (const f of CLONE_SET_FILES) {
    const s = await stat(join(set, f)).catch(() => undefined);
    if (!s || s.size === 0)
      throw new AtlasError('bad-input', `the clone set is incomplete: ${f} is missing in ${set}`);
  }
  const dump = await readFile(join(set, 'partition-table.dump'), 'utf8');
  const parsed = parsePartitionDump(dump, join(set, 'partition-table.dump'));
  const needed = dumpBytesNeeded(parsed);
  const card = params.expected ?? (await identifyRawCard(params.card));
  ctx.step('check', `Checking ${describeCard(card)}`);
  // Smaller than the clone's card: the script shrinks root to fit, or refuses before writing.
  const fit = card.bytes < needed;
  await assertWritableCard(card, fit ? dumpBytesBeforeRoot(parsed) : needed);
  // The card is the one picked before anything on it is touched (even unmounted).
  await recheckCard(card);
  const guard: TargetContext = {
    places: writeGuardPlaces(env.library, params.places),
    unusualConfirmed: params.allowUnusual === true,
    signal: ctx.signal,
  };
  if (card.kind === 'file') await refuseProtectedFile(card.path, guard.places ?? []);
  if (card.kind === 'device') await prepareTarget(card.path, guard);
  const done = async (r: RestoreResult): Promise<RestoreResult> => {
    if (card.kind !== 'device' || params.eject === false) return r;
    const eject = await ejectTarget(card.path, { signal: ctx.signal });
    ctx.log(`${card.path}: ${eject.message}`);
    return { ...r, eject };
  };

  const b = env.builder;
  // Where a shrunk root is restored first (inside the library, so the VM sees it too).
  const work = fit ? await scratchDir(env.library) : undefined;
  /** The script's arguments, for the card as the builder sees it. */
  const args = (target: string) => [
    target,
    '--set-dir',
    b.toBuilderPath(set),
    ...(work ? ['--work-dir', b.toBuilderPath(work)] : []),
  ];
  try {
    if (!builderReachesCard(env, card)) {
      // The VM writes the card through a block device attached in it (NBD, served by the host)
      // when it can; the script clears the old table areas first and writes the table last, as on
      // a card it sees. The device is flushed and detached before the restore counts as done.
      const attached = await b.attachCard?.(card, { writable: true, guard }, ctx);
      if (attached) {
        let out;
        try {
          out = await b.runScript('restore_golden.sh', args(attached.device), ctx);
        } catch (e) {
          await attached.release().catch(() => undefined);
          throw e;
        }
        const w = await attached.release();
        ctx.log(`card access: ${w.writtenBytes} bytes written to the card through ${attached.device}`);
        return done({ ...restoreResult(card, set, needed, out.results), writtenBytes: w.writtenBytes });
      }
      // Else the VM restores into a card-sized sparse image; the host then writes its used blocks.
      const target = await restoreTarget(env, card, guard);
      try {
        const out = await b.runScript('restore_golden.sh', args(target.builderPath), ctx);
        await recheckCard(card);
        const w = await target.finish(ctx);
        return done({ ...restoreResult(card, set, needed, out.results), writtenBytes: w.writtenBytes });
      } finally {
        await target.release();
      }
    }
    // The script writes the card in place; it clears the old table areas first and writes the new
    // table last, so an interrupted restore is never taken for a finished one.
    const out = await b.runScript('restore_golden.sh', args(b.toBuilderPath(card.path)), ctx);
    return done(restoreResult(card, set, needed, out.results));
  } finally {
    if (work) await discard(work);
  }
}

function restoreResult(
  card: CardIdentity,
  set: string,
  needed: number,
  results: Map<string, string[]>,
): RestoreResult {
  const one = (k: string) => results.get(k)?.[0] ?? '';
  const shrunk = one('shrunk-to') !== '';
  return {
    card: card.path,
    set,
    neededBytes: needed,
    rootStart: Number(one('root-start')),
    rootSectors: Number(one('root-sectors')),
    grown: one('grown') === 'yes',
    shrunkToFit: shrunk,
    ...(shrunk ? { minBytes: Number(one('min-bytes')) } : {}),
    ...(one('headroom') === 'low' ? { lowHeadroom: true } : {}),
    fsckFixed: results.get('fsck-fixed') ?? [],
  };
}

async function assertSetFolder(name: string, set: string): Promise<void> {
  const st = await stat(set).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new AtlasError('not-found', `no clone set ${name} (looked for ${set})`, undefined, {
      next: [{ do: 'list-sets' }],
    });
  }
}

/**
 * What a restore would refuse, found before anything is asked or written (the CLI asks this
 * before its confirmation): a set that is not there, a card that must never be written (a system
 * disk, a disk holding a protected place, a file the library keeps, a read-only card). Whether the
 * card is large enough is the job's to judge, from the set's files. Nothing is unmounted.
 */
export async function checkRestore(library: string, params: RestoreParams): Promise<void> {
  await assertSetFolder(params.set, (await findSet(library, params.set)).path);
  const card = await identifyRawCard(params.card);
  await assertWritableCard(card, 0);
  const guard: TargetContext = {
    places: writeGuardPlaces(library, params.places),
    unusualConfirmed: params.allowUnusual === true,
  };
  if (card.kind === 'file') await refuseProtectedFile(card.path, guard.places ?? []);
  if (card.kind === 'device') {
    const stop = blocking(await checkTarget(card.path, guard), guard);
    if (stop) throw refusal(card.path, stop);
  }
}
