/**
 * Every job the backend runs, kept up to date from the `jobs:event` stream (applied with
 * setState from outside React, see events.ts). Screens start jobs here and keep their ids.
 */
import type { StateCreator } from 'zustand';
import type { ErrorInfo, JobEventDto, JobRequest, JobSummary } from '../../src-main/common/contract';
import { call, errorInfo } from '../api/client';
import type { Store } from './store';

const LOG_LINES = 300;

export interface JobsSlice {
  jobs: Record<string, JobSummary>;
  /** Why the last start or cancel was refused (before any job existed). */
  jobError: ErrorInfo | null;
  applyJobEvent(e: JobEventDto): void;
  loadJobs(): Promise<void>;
  /** Starts a job; returns its id, or null when it was refused (jobError says why). */
  startJob(request: JobRequest): Promise<string | null>;
  cancelJob(id: string): Promise<void>;
}

function withJob(jobs: Record<string, JobSummary>, id: string, change: (j: JobSummary) => JobSummary) {
  const job = jobs[id];
  return job ? { jobs: { ...jobs, [id]: change(job) } } : {};
}

/** The current step's size as its progress learns it (a step may start before its size is known). */
function withStepTotal(
  steps: JobSummary['steps'],
  p: NonNullable<JobSummary['progress']>,
): JobSummary['steps'] {
  const last = steps.at(-1);
  if (!last || last.id !== p.stepId || last.totalBytes === p.totalBytes) return steps;
  return [...steps.slice(0, -1), { ...last, totalBytes: p.totalBytes }];
}

export function reduceJobEvent(jobs: Record<string, JobSummary>, e: JobEventDto): Record<string, JobSummary> {
  if (e.type === 'started') return { ...jobs, [e.job.id]: e.job };
  const next = withJob(jobs, e.jobId, (j) => {
    switch (e.type) {
      case 'plan':
        return { ...j, plan: e.steps };
      case 'step':
        return { ...j, steps: [...j.steps, e.step], progress: null };
      case 'progress':
        return { ...j, steps: withStepTotal(j.steps, e.progress), progress: e.progress };
      case 'log':
        return { ...j, log: [...j.log, e.line].slice(-LOG_LINES) };
      case 'done':
        return { ...j, state: 'done', outcome: e.outcome, endedAt: e.endedAt };
      case 'failed':
        return { ...j, state: e.state, error: e.error, endedAt: e.endedAt };
    }
  });
  return next.jobs ?? jobs;
}

export const createJobsSlice: StateCreator<Store, [], [], JobsSlice> = (set) => ({
  jobs: {},
  jobError: null,
  applyJobEvent: (e) => set((s) => ({ jobs: reduceJobEvent(s.jobs, e) })),
  loadJobs: async () => {
    try {
      const list = await call('jobs:list');
      set({ jobs: Object.fromEntries(list.map((j) => [j.id, j])) });
    } catch (e) {
      set({ jobError: errorInfo(e) });
    }
  },
  startJob: async (request) => {
    try {
      const job = await call('jobs:start', request);
      // The 'started' event may arrive before or after this answer: keep the more advanced copy.
      set((s) => ({ jobs: s.jobs[job.id] ? s.jobs : { ...s.jobs, [job.id]: job }, jobError: null }));
      return job.id;
    } catch (e) {
      set({ jobError: errorInfo(e) });
      return null;
    }
  },
  cancelJob: async (id) => {
    try {
      await call('jobs:cancel', id);
    } catch (e) {
      set({ jobError: errorInfo(e) });
    }
  },
});
