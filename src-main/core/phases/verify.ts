/** Phase 2 Verify: the pre-shrink checklist, evaluated offline against the card's root file system. */
import { join, resolve } from 'node:path';
import type { JobContext, PlannedStep } from '../jobs/job.js';
import type { CardIdentity } from '../cards/card.js';
import { identifyRawCard } from '../card-io/card-reads.js';
import { evaluate, loadChecklist, probesFor } from '../checklist/checklist.js';
import { userChecklist } from '../checklist/thresholds.js';
import { RESOURCES_DIR } from '../paths.js';
import { runProbes } from './root-probes.js';
import { stageCard } from './card-staging.js';
import { stageSteps } from './plan-steps.js';
import type { Env } from './env.js';
import { type VerifyReport } from '../../common/results.js';
export { type VerifyReport } from '../../common/results.js';

export const DEFAULT_CHECKLIST = join(RESOURCES_DIR, 'verify-checklist.json');

/** The job Verify: its plan (the probe, and a used-block copy where the builder cannot reach the card), then the checklist. */
export async function verify(
  env: Env,
  params: { card: string; checklist?: string },
  ctx: JobContext,
): Promise<VerifyReport> {
  return verifyCard(env, params, ctx, (card) => ctx.plan?.(verifyPlan(env, card)));
}

export function verifyPlan(env: Env, card: CardIdentity): PlannedStep[] {
  return [{ id: 'probe', label: 'Reading the root file system (read-only)' }, ...stageSteps(env, card)];
}

/** The checklist on a card, as a step of another job (Shrink), which announced its own plan. */
export async function verifyCard(
  env: Env,
  params: { card: string; checklist?: string },
  ctx: JobContext,
  planned?: (card: CardIdentity) => void,
): Promise<VerifyReport> {
  const checklistFile = resolve(params.checklist ?? (await userChecklist(env.library)) ?? DEFAULT_CHECKLIST);
  const checklist = await loadChecklist(checklistFile);
  const card = await identifyRawCard(params.card);
  planned?.(card);
  ctx.step('probe', 'Reading the root file system (read-only)');
  const probes = probesFor(checklist.checks);
  const staged = await stageCard(env, card, ctx);
  let facts;
  try {
    facts = await runProbes(env, staged, probes, ctx);
  } finally {
    await staged.release();
  }
  const checks = evaluate(checklist, probes, facts);
  const failed = checks.filter((c) => !c.ok && c.severity === 'error').length;
  const warnings = checks.filter((c) => !c.ok && c.severity === 'warn').length;
  return {
    card: card.path,
    title: checklist.title,
    checklistFile,
    ok: failed === 0,
    failed,
    warnings,
    checks,
  };
}
