/** A progress bar with the numbers beside it: percent, bytes done of total, speed and ETA. */
import type { ProgressDto } from '../../src-main/ipc/contract';
import { bytes, eta, percent, speed } from '../lib/format';

export function ProgressBar({ progress }: { progress: ProgressDto | null }) {
  const known = progress !== null && progress.totalBytes > 0;
  const pct = known ? percent(progress.doneBytes, progress.totalBytes) : 0;
  return (
    <div className="progress">
      <div
        className={`progress-track${known ? '' : ' indeterminate'}`}
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        {...(known ? { 'aria-valuenow': pct } : {})}
      >
        <div className="progress-fill" style={{ width: known ? `${pct}%` : '30%' }} />
      </div>
      <div className="progress-numbers">
        {known ? (
          <>
            <strong>{pct}%</strong>
            <span>
              {bytes(progress.doneBytes)} of {bytes(progress.totalBytes)}
            </span>
            <span>{speed(progress.bytesPerSecond)}</span>
            <span>{eta(progress.etaSeconds)}</span>
          </>
        ) : (
          <span>working…</span>
        )}
      </div>
    </div>
  );
}
