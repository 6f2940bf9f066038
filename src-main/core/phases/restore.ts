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
import { lstat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { AtlasError } from '../errors.js';
import { formatBytes } from '../../common/format-bytes.js';
import { SECTOR_BYTES, WORK_RESERVE_BYTES, tableTailSectors } from '../../common/card-layout.js';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import { identifyRawCard } from '../card-io/card-reads.js';
import { describeCard, type CardIdentity } from '../cards/card.js';
import {
  ejectTarget,
  releaseAndCheck,
  type ProtectedPlace,
  type TargetContext,
} from '../cards/target-guards.js';
import { preflight } from '../write/guards.js';
import { CLONE_SET_FILES } from '../library/library.js';
import { writeGuardPlaces } from '../library/places.js';
import {
  dumpBytesBeforeRoot,
  dumpBytesNeeded,
  parsePartitionDump,
  type PartitionDump,
} from '../library/partition-dump.js';
import { fsBytes, readPartcloneHead, usedBytes, type PartcloneHead } from '../library/partclone-head.js';
import { readRegularFile } from '../library/regular-file.js';
import { locateSet } from './set-elsewhere.js';
import { findSet } from '../library/set-places.js';
import { builderReachesCard, restoreTarget } from './card-staging.js';
import { writeSteps } from './plan-steps.js';
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
    const s = await lstat(join(set, f)).catch(() => undefined);
    if (s && !s.isFile()) {
      throw new AtlasError(
        'bad-input',
        `the clone set's ${f} is ${s.isSymbolicLink() ? 'a link' : 'not a regular file'}; a clone set holds regular files only, and nothing of it was read`,
        SET_HINT,
      );
    }
    if (!s || s.size === 0)
      throw new AtlasError('bad-input', `the clone set is incomplete: ${f} is missing in ${set}`);
  }
  const dumpPath = join(set, 'partition-table.dump');
  const dump = (await readRegularFile(dumpPath, 64 * 1024, 'partition-table.dump')).toString('utf8');
  const parsed = parsePartitionDump(dump, dumpPath);
  const needed = dumpBytesNeeded(parsed);
  // The images' headers say how large their file systems are and how much data they hold: read
  // from the first bytes of each stream, before anything is decompressed or written.
  const heads = {
    boot: await readPartcloneHead(join(set, 'sdc1-boot.partclone.gz'), 'sdc1-boot.partclone.gz'),
    root: await readPartcloneHead(join(set, 'sdc2-root.partclone.gz'), 'sdc2-root.partclone.gz'),
  };
  refuseImagesOutsideDump(parsed, heads);
  const card = params.expected ?? (await identifyRawCard(params.card));
  // Smaller than the clone's card: the script shrinks root to fit, or refuses before writing.
  const fit = card.bytes < needed;
  ctx.plan?.(restorePlan(env, card, parsed, fit));
  ctx.step('check', `Checking ${describeCard(card)}`);
  const guard: TargetContext = {
    places: writeGuardPlaces(env.library, params.places),
    unusualConfirmed: params.allowUnusual === true,
    signal: ctx.signal,
  };
  // The write's preflight; a card identified at the pick is read again, before anything on it is
  // touched (even unmounted).
  await preflight(card, guard, {
    neededBytes: fit ? dumpBytesBeforeRoot(parsed) : needed,
    recheck: params.expected !== undefined,
  });
  refuseCardTooSmallForData(card.bytes, parsed, heads.root);
  if (fit) await refuseWorkFolderTooSmall(env.library, heads.root);
  // The builder may write the card directly: its volumes are unmounted now.
  if (card.kind === 'device') await releaseAndCheck(card.path, guard);
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
        // The write's last check (in the target or the raw-disk helper) re-reads the card first.
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

/**
 * restore_golden.sh's steps (a smaller card: the root restored into the work folder and shrunk
 * first), then, where the builder cannot write the card itself, the host's write of the image it
 * restored into (skipped when the VM writes the card as a block device). The partitions weigh
 * their sizes in the dump (a fitted root: up to the card's end).
 */
export function restorePlan(env: Env, card: CardIdentity, dump: PartitionDump, fit: boolean): PlannedStep[] {
  const [boot, root] = [dump.partitions[0]!, dump.partitions[1]!];
  const rootBytes = fit ? Math.max(0, card.bytes - root.start * 512) : root.size * 512;
  return [
    { id: 'check', label: `Checking ${describeCard(card)}` },
    ...(fit
      ? [
          {
            id: 'fit-restore',
            label: 'Restoring the root file system into the work folder (partclone.ext4)',
            bytes: root.size * 512,
          },
          { id: 'fit-check', label: 'Checking the restored root file system (e2fsck -f)' },
          { id: 'fit-shrink', label: 'Shrinking the root file system to fit the card (resize2fs)' },
        ]
      : []),
    { id: 'unmount', label: 'Unmounting the target' },
    { id: 'invalidate', label: 'Clearing the old partition table' },
    { id: 'restore-boot', label: 'Restoring the boot partition (partclone.fat32)', bytes: boot.size * 512 },
    {
      id: 'restore-root',
      label: fit
        ? 'Writing the shrunk root partition (partclone.ext4, used blocks)'
        : 'Restoring the root partition (partclone.ext4)',
      bytes: rootBytes,
    },
    { id: 'table', label: 'Restoring the partition table' },
    { id: 'grow', label: 'Growing the root partition to fill the card' },
    ...(builderReachesCard(env, card) ? [] : writeSteps(boot.size * 512 + rootBytes, true)),
  ];
}

const SET_HINT = 'use a clone set made by this app, with its files as they were written';

/** Room the work folder keeps after a root restored into it for fitting (never filled to the last block). */
const WORK_RESERVE = WORK_RESERVE_BYTES;

/** Refuses images whose file systems are larger than their partitions in the dump. */
function refuseImagesOutsideDump(
  dump: PartitionDump,
  heads: { boot: PartcloneHead; root: PartcloneHead },
): void {
  const parts = [
    ['sdc1-boot.partclone.gz', heads.boot, dump.partitions[0]!],
    ['sdc2-root.partclone.gz', heads.root, dump.partitions[1]!],
  ] as const;
  for (const [name, head, part] of parts) {
    if (fsBytes(head) > part.size * 512) {
      throw new AtlasError(
        'bad-input',
        `${name} holds a file system of ${formatBytes(fsBytes(head))} (its partclone header), larger than partition ${part.n} in partition-table.dump (${formatBytes(part.size * 512)})`,
        SET_HINT,
      );
    }
  }
}

/**
 * The root's data (its used blocks, from the partclone header) must fit between the root's start
 * and the card's end: else no restore can succeed, and the card is refused in a second.
 */
function refuseCardTooSmallForData(cardBytes: number, dump: PartitionDump, root: PartcloneHead): void {
  const rootStart = dump.partitions[1]!.start;
  const least = (rootStart + tableTailSectors(dump.label)) * SECTOR_BYTES + usedBytes(root);
  if (cardBytes >= least) return;
  throw new AtlasError(
    'too-small',
    `the card is too small for this clone's data: it has ${formatBytes(cardBytes)}, the data needs at least ${formatBytes(least)} (the root file system's used blocks, ${root.usedBlocks} of ${root.blockSize} bytes by its partclone header, from sector ${rootStart}); nothing was written (use a card of at least ${Math.ceil(least / 1e6)} MB)`,
    'use a larger card',
  );
}

/**
 * A root fitted to a smaller card is first restored into the work folder (in the library): its
 * data must fit there, with room to spare, or the library's disk would be filled.
 */
async function refuseWorkFolderTooSmall(library: string, root: PartcloneHead): Promise<void> {
  const fs = await statfs(library);
  const free = fs.bavail * fs.bsize;
  const need = usedBytes(root) + WORK_RESERVE;
  if (free >= need) return;
  throw new AtlasError(
    'no-space',
    `the library ${library} has ${formatBytes(free)} free; fitting this clone to a smaller card restores its root file system there first, which needs ${formatBytes(need)} (its ${formatBytes(usedBytes(root))} of data by its partclone header, and ${formatBytes(WORK_RESERVE)} to spare); nothing was decompressed or written`,
    "free space in the library, or use a card as large as the clone's card (then nothing is restored into the library)",
  );
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
  // A set may come from anyone: the folder and its files are looked at without following links,
  // and only regular files are read (a link could lead to a secret, a pipe could block forever).
  const st = await lstat(set).catch(() => undefined);
  if (st?.isSymbolicLink()) {
    throw new AtlasError('bad-input', `the clone set ${set} is a link; links are not followed`, SET_HINT);
  }
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
  await preflight(card, {
    places: writeGuardPlaces(library, params.places),
    unusualConfirmed: params.allowUnusual === true,
  });
}
