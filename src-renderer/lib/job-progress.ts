/**
 * One progress for a whole job.
 *
 * A job that announced its plan is weighed by it: each planned step by the bytes the plan says it
 * will move (a step that moves none weighs nothing; a plan that names no bytes at all, as the VM's
 * setup and start, weighs every step alike). The weights are fixed when the plan is announced, so
 * a step whose size is learnt only when it starts never makes the bar start again: the percent
 * only ever grows. The steps the job reports are matched to the plan in order; a step the plan
 * does not name (an inner step of a planned one, or a path the plan did not foresee) counts as
 * part of the planned step before it. The time left is the planned bytes still to move at the
 * current speed.
 *
 * A job without a plan sums the bytes of the steps reached so far.
 */
import type { JobSummary, PlannedStepDto, StepDto } from '../../src-main/common/contract';
import { percent } from './format';

export interface OverallProgress {
  /** 0–100, or null when nothing says how far the job is. */
  percent: number | null;
  /** The step the job is on, from 1. */
  step: number;
  /** How many steps there will be, when the job announced them. */
  steps: number | null;
  label: string | null;
  /** The current step's bytes. */
  doneBytes: number;
  totalBytes: number;
  bytesPerSecond: number;
  /** Seconds left for the whole job (its planned bytes); null while the speed is not known. */
  etaSeconds: number | null;
}

/**
 * Where each reported step falls in the plan: its index, or -1 for a step the plan does not
 * name. Steps are matched in order, each to the first planned step at or after the last match
 * (a plan may name a step twice, as a flash that writes and verifies twice).
 */
export function placeSteps(plan: readonly PlannedStepDto[], steps: readonly StepDto[]): number[] {
  let cursor = 0;
  return steps.map((s) => {
    for (let i = cursor; i < plan.length; i++) {
      if (plan[i]!.id === s.id) {
        cursor = i + 1;
        return i;
      }
    }
    return -1;
  });
}

function currentStep(job: JobSummary) {
  const current = job.steps.at(-1);
  const progress = job.progress && current && job.progress.stepId === current.id ? job.progress : null;
  const total = Math.max(current?.totalBytes ?? 0, progress?.totalBytes ?? 0);
  const done = Math.min(progress?.doneBytes ?? 0, total);
  return { current, progress, total, done };
}

export function overallProgress(job: JobSummary): OverallProgress {
  if (job.plan && job.plan.length > 0) return plannedProgress(job, job.plan);
  const { current, progress, total: currentTotal, done: currentDone } = currentStep(job);
  const before = job.steps.slice(0, -1).reduce((sum, s) => sum + s.totalBytes, 0);
  const total = before + currentTotal;
  const done = before + currentDone;
  const speed = progress?.bytesPerSecond ?? 0;
  return {
    percent: total > 0 ? percent(done, total) : null,
    step: Math.max(1, job.steps.length),
    steps: null,
    label: current?.label ?? null,
    doneBytes: currentDone,
    totalBytes: currentTotal,
    bytesPerSecond: speed,
    etaSeconds: total > 0 && speed > 0 ? Math.round((total - done) / speed) : null,
  };
}

function plannedProgress(job: JobSummary, plan: readonly PlannedStepDto[]): OverallProgress {
  const { current, progress, total: currentTotal, done: currentDone } = currentStep(job);
  const byBytes = plan.some((p) => (p.bytes ?? 0) > 0);
  const weights = plan.map((p) => (byBytes ? Math.max(0, p.bytes ?? 0) : 1));
  const whole = weights.reduce((a, b) => a + b, 0);
  const places = placeSteps(plan, job.steps);
  const at = places.at(-1) ?? -1;
  // The furthest planned step reached (an unplanned step after it leaves it done).
  const furthest = Math.max(-1, ...places);
  let done: number;
  let remaining: number;
  if (at >= 0 && at === furthest) {
    const fraction = currentTotal > 0 ? currentDone / currentTotal : 0;
    done = sum(weights, 0, at) + weights[at]! * fraction;
    remaining = weights[at]! * (1 - fraction) + sum(weights, at + 1, plan.length);
  } else {
    done = sum(weights, 0, furthest + 1);
    remaining = sum(weights, furthest + 1, plan.length);
  }
  const speed = progress?.bytesPerSecond ?? 0;
  return {
    percent: whole > 0 ? percent(done, whole) : null,
    step: Math.max(1, furthest + 1),
    steps: plan.length,
    label: current?.label ?? null,
    doneBytes: currentDone,
    totalBytes: currentTotal,
    bytesPerSecond: speed,
    etaSeconds: byBytes && speed > 0 ? Math.round(remaining / speed) : null,
  };
}

function sum(values: readonly number[], from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += values[i]!;
  return s;
}
