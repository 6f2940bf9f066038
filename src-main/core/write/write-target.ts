/**
 * Where a write goes. Every target carries out the same write plan (run-plan.ts):
 *   - 'file': an image file standing in for a card, written by this process;
 *   - 'device': a card device this process may open itself (root on Linux), opened exclusively;
 *   - 'helper': a card device opened by the raw-disk helper, which checks the card's identity
 *     again, receives the plan (what to invalidate, which ranges to copy) and runs it.
 * The last check of a write (guards.ts) runs inside the target, right before the card is opened:
 * here for 'file' and 'device', in the helper for 'helper' (after its volumes are unmounted here).
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { toAtlasError } from '../errors.js';
import type { JobContext } from '../jobs/job.js';
import { describeCard } from '../cards/card.js';
import { openExclusive, type TargetContext } from '../cards/target-guards.js';
import { cardPlatform } from '../cards/platform/index.js';
import {
  expectOf,
  runHelper,
  unmountFirst,
  type RawCard,
  type RawDiskOptions,
} from '../cards/helper-client.js';
import { totalBytes } from '../rawio/used-blocks/byte-ranges.js';
import { lastCheck } from './guards.js';
import type { WriteSource } from './open-source.js';
import { runPlan, type PlanResult, type PlanSource } from './run-plan.js';
import type { WritePlan } from './write-plan.js';

export interface WriteTarget {
  readonly kind: 'file' | 'device' | 'helper';
  readonly card: RawCard;
  run(source: WriteSource, plan: WritePlan, ctx: JobContext): Promise<PlanResult>;
}

/** The options of a write (write-pipeline.ts writeImage), the one set every caller passes. */
export interface WriteOptions extends RawDiskOptions {
  /** Read the card back after writing. */
  verify: boolean;
  /** An image given by its path is written by its block map (default), or whole (false). */
  map?: boolean;
  /** For a device: write it through the raw-disk helper (default) or from this process. */
  viaHelper?: boolean;
  /** What the card must not hold (the library, the image…) and whether an unusual disk was confirmed. */
  guard?: TargetContext;
  /** The caller ran preflight (guards.ts) for this card and image already, early. */
  preflighted?: boolean;
}

const planSource = (s: WriteSource): PlanSource => ({
  name: s.path,
  path: s.path,
  handle: s.handle,
  compression: s.compression,
  bytes: s.bytes,
});

/** Opens a card in this process: a device exclusively on Linux (no one else may hold it). */
async function openLocal(card: RawCard): Promise<FileHandle> {
  if (card.kind === 'device') return openExclusive(card.path);
  try {
    return await open(card.path, constants.O_RDWR);
  } catch (e) {
    throw toAtlasError(e);
  }
}

function local(kind: 'file' | 'device', card: RawCard, opts: WriteOptions): WriteTarget {
  return {
    kind,
    card,
    async run(source, plan, ctx) {
      await lastCheck(card, opts.guard, opts.unmount === false ? { unmount: false } : {});
      const flush = cardPlatform().flush;
      const handle = await openLocal(card);
      try {
        return await runPlan(
          planSource(source),
          plan,
          {
            handle,
            path: card.path,
            label: kind === 'file' ? card.path : describeCard(card),
            bytes: card.bytes,
            ...(kind === 'device' && flush ? { flush: () => flush(card.path) } : {}),
          },
          ctx,
        );
      } finally {
        await handle.close();
      }
    },
  };
}

/** The plan as the helper's write request carries it (compact pairs; see raw-disk-helper.ts). */
export function planFields(plan: WritePlan) {
  return {
    invalidate: plan.invalidate.map((r): [number, number] => [r.start, r.end]),
    ...(plan.ranges
      ? {
          ranges: plan.ranges.map((r): [number, number] | [number, number, string] =>
            r.checksum ? [r.start, r.end, r.checksum] : [r.start, r.end],
          ),
        }
      : {}),
    ...(plan.checksumType ? { checksumType: plan.checksumType } : {}),
    ...(plan.minBytes !== undefined ? { minBytes: plan.minBytes } : {}),
  };
}

function helper(card: RawCard, opts: WriteOptions): WriteTarget {
  return {
    kind: 'helper',
    card,
    async run(source, plan, ctx) {
      // The helper checks the card itself (identity, holders, places) once its volumes are unmounted.
      await unmountFirst(card, opts);
      const labels = {
        read: '',
        write: `Writing ${source.path} to ${card.path}`,
        verify: `Verifying: reading ${card.path} back`,
      };
      ctx.step('write', labels.write, 0);
      const r = await runHelper(
        {
          op: 'write',
          device: cardPlatform(opts.platform).rawPath(card.path),
          expect: expectOf(card),
          source: source.path,
          verify: plan.verify,
          ...planFields(plan),
          ...(opts.guard?.places ? { places: opts.guard.places } : {}),
          ...(opts.guard?.unusualConfirmed ? { unusual: true } : {}),
        },
        ctx,
        'write',
        labels,
        opts,
        card.path,
      );
      return {
        bytes: r.bytes,
        sha256: r.sha256,
        verified: r.verified,
        writtenBytes: r.mappedBytes ?? r.bytes,
        invalidatedBytes: totalBytes(plan.invalidate),
        ...(plan.ranges ? { mappedBytes: totalBytes(plan.ranges) } : {}),
      };
    },
  };
}

export function targetFor(card: RawCard, opts: WriteOptions): WriteTarget {
  if (card.kind === 'file') return local('file', card, opts);
  return opts.viaHelper === false ? local('device', card, opts) : helper(card, opts);
}
