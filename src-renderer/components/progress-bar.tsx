/**
 * A running job's one progress: a bar for the whole job, which step of how many it is on, the
 * current step's bytes and speed, and one time left.
 */
import type { JobSummary } from '../../src-main/common/contract';
import { bytes, eta, speed } from '../lib/format';
import { overallProgress } from '../lib/job-progress';

export function ProgressBar({ job }: { job: JobSummary }) {
  const p = overallProgress(job);
  const known = p.percent !== null;
  return (
    <div className="progress job-progress">
      <div
        className={`progress-track${known ? '' : ' indeterminate'}`}
        role="progressbar"
        aria-label="Overall progress"
        aria-valuemin={0}
        aria-valuemax={100}
        {...(p.percent !== null ? { 'aria-valuenow': p.percent } : {})}
      >
        <div className="progress-fill" style={{ width: known ? `${p.percent}%` : '30%' }} />
      </div>
      <div className="progress-numbers">
        {known && <strong>{p.percent}%</strong>}
        <span className="progress-step">
          Step {p.step}
          {p.steps ? ` of ${p.steps}` : ''}
          {p.label ? `: ${p.label}` : ''}
        </span>
        {p.totalBytes > 0 ? (
          <>
            <span>
              {bytes(p.doneBytes)} of {bytes(p.totalBytes)}
            </span>
            <span>{speed(p.bytesPerSecond)}</span>
            <span>{eta(p.etaSeconds)}</span>
          </>
        ) : (
          !known && <span>working…</span>
        )}
      </div>
    </div>
  );
}
