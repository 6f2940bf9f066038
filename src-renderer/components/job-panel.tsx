/**
 * One job as it runs: its steps (job-steps.tsx), a progress bar with speed and ETA, its log, a cancel button,
 * and at the end its result, its error with the hint, or the cancellation.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import type { JobSummary } from '../../src-main/common/contract';
import { useStore } from '../store/store';
import { duration } from '../lib/format';
import { ErrorBox } from './error-box';
import { JobSteps } from './job-steps';
import { ProgressBar } from './progress-bar';

const STATE_TEXT: Record<JobSummary['state'], string> = {
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function elapsed(job: JobSummary): string {
  const end = job.endedAt ? Date.parse(job.endedAt) : Date.now();
  return duration((end - Date.parse(job.startedAt)) / 1000);
}

export function JobPanel({ jobId, children }: { jobId: string | null; children?: ReactNode }) {
  const job = useStore((s) => (jobId ? s.jobs[jobId] : undefined));
  const cancelJob = useStore((s) => s.cancelJob);
  const panel = useRef<HTMLElement>(null);
  // A job shown for the first time is brought to where the eye is, not left below the fold.
  useEffect(() => {
    if (jobId) panel.current?.scrollIntoView?.({ block: 'start', behavior: 'smooth' });
  }, [jobId, !!job]);
  if (!job) return null;
  const running = job.state === 'running';
  return (
    <section
      ref={panel}
      className={`job-panel state-${job.state}`}
      aria-label={`job: ${job.title}`}
      data-job-id={job.id}
      data-job-state={job.state}
    >
      <header className="job-header">
        <span className={`badge badge-${job.state}`}>{STATE_TEXT[job.state]}</span>
        <h3 className="job-title">{job.title}</h3>
        <span className="job-time">{elapsed(job)}</span>
        {running && (
          <button type="button" className="button danger small" onClick={() => void cancelJob(job.id)}>
            Cancel
          </button>
        )}
      </header>
      <JobSteps job={job} />
      {running && <ProgressBar job={job} />}
      {job.state === 'failed' && job.error && <ErrorBox error={job.error} title="The job failed" />}
      {job.state === 'cancelled' && (
        <p className="notice">
          {job.error ? `${job.error.message}.` : 'Cancelled: nothing half-written was kept.'}
        </p>
      )}
      {job.state === 'done' && children}
      {job.log.length > 0 && (
        <details className="job-log">
          <summary>Log ({job.log.length} lines)</summary>
          <pre>{job.log.join('\n')}</pre>
        </details>
      )}
    </section>
  );
}
