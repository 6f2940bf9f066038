/**
 * One progress for a whole job: the steps reached so far weighted by their bytes (a step that
 * moves no bytes weighs nothing), so the bar does not start again at every step; the time left
 * is the bytes still to move at the current speed. A job that announced its plan and moves no
 * bytes (the VM's setup and start) counts its steps instead.
 */
import type { JobSummary } from '../../src-main/ipc/contract';
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
  /** Seconds left for the bytes of every step reached; null while the speed is not known. */
  etaSeconds: number | null;
}

export function overallProgress(job: JobSummary): OverallProgress {
  const current = job.steps.at(-1);
  const progress = job.progress && current && job.progress.stepId === current.id ? job.progress : null;
  const currentTotal = Math.max(current?.totalBytes ?? 0, progress?.totalBytes ?? 0);
  const currentDone = Math.min(progress?.doneBytes ?? 0, currentTotal);
  const before = job.steps.slice(0, -1).reduce((sum, s) => sum + s.totalBytes, 0);
  const total = before + currentTotal;
  const done = before + currentDone;
  const plan = job.plan?.length ?? null;
  const planIndex = job.plan && current ? job.plan.findIndex((p) => p.id === current.id) : -1;
  const step = planIndex >= 0 ? planIndex + 1 : Math.max(1, job.steps.length);
  let pct: number | null = null;
  if (total > 0) pct = percent(done, total);
  else if (plan) pct = percent(step - 1, plan);
  const speed = progress?.bytesPerSecond ?? 0;
  return {
    percent: pct,
    step,
    steps: plan,
    label: current?.label ?? null,
    doneBytes: currentDone,
    totalBytes: currentTotal,
    bytesPerSecond: speed,
    etaSeconds: total > 0 && speed > 0 ? Math.round((total - done) / speed) : null,
  };
}
