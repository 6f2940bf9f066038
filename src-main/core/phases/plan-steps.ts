/**
 * The steps a phase announces before it starts (JobContext.plan), for the parts several phases
 * share: reading a card's used blocks, writing an image and reading it back. Each phase adds its
 * own steps and those of its builder script (lima/scripts, whose `atlas_step` ids they repeat).
 * The ids are those the steps then report; the bytes, where known in advance, weigh each step
 * in the job's one progress (a bound, such as the card's size for its used blocks, where only
 * that is known).
 */
import type { PlannedStep } from '../jobs/job.js';
import type { CardIdentity } from '../cards/card.js';
import { builderReachesCard } from './card-staging.js';
import type { Env } from './env.js';

/** readUsedCardToFile: an image file is mapped here, then copied; a card is read by the helper. */
export function readUsedSteps(card: CardIdentity): PlannedStep[] {
  if (card.kind === 'file') {
    return [
      { id: 'map-used', label: 'Reading the partition table and file system maps' },
      { id: 'read-used', label: 'Copying the used blocks of the card', bytes: card.bytes },
    ];
  }
  return [{ id: 'read-used', label: `Reading the used blocks of ${card.path}`, bytes: card.bytes }];
}

/**
 * stageCard: nothing when the builder reaches the card; else a used-block copy, unless the VM
 * attaches it as a block device (then the copy is skipped).
 */
export function stageSteps(env: Env, card: CardIdentity): PlannedStep[] {
  return builderReachesCard(env, card) ? [] : readUsedSteps(card);
}

/** writeImage / runPlan: the write, then (unless turned off) the read back, of `bytes` each. */
export function writeSteps(bytes: number | undefined, verify: boolean): PlannedStep[] {
  const b = bytes !== undefined && bytes > 0 ? { bytes } : {};
  return [
    { id: 'write', label: 'Writing the image to the card', ...b },
    ...(verify ? [{ id: 'verify', label: 'Verifying: reading the card back', ...b }] : []),
  ];
}
