import type { JobRequest, JobSummary } from '../common/contract.js';

/** The summary of a job that has just started: running, no steps, no log, no outcome yet. */
export function startedSummary(
  id: string,
  request: JobRequest,
  title: string,
  startedAt = new Date().toISOString(),
): JobSummary {
  return {
    id,
    kind: request.kind,
    title,
    request,
    state: 'running',
    startedAt,
    endedAt: null,
    steps: [],
    progress: null,
    log: [],
    outcome: null,
    error: null,
  };
}
