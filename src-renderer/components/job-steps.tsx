/**
 * A job's steps. A job that announced its plan (every long phase, the VM's setup and start) shows
 * every step from the start: done, the current one with its latest log line under it, those still
 * to come, and a bar saying which step of how many it is on (progress-bar.tsx), as Rancher Desktop
 * shows its start; a step the plan did not name is shown where it happened. Other jobs list their
 * steps as they reach them.
 */
import type { JobSummary } from '../../src-main/common/contract';
import { placeSteps } from '../lib/job-progress';

type RowState = 'done' | 'current' | 'stopped' | 'pending' | 'skipped';

const ICON: Record<RowState, string> = {
  done: '✓',
  current: '●',
  stopped: '✕',
  pending: '○',
  skipped: '–',
};

interface Row {
  key: string;
  label: string;
  state: RowState;
}

function rows(job: JobSummary): Row[] {
  const running = job.state === 'running';
  const last = job.steps.length - 1;
  const reachedState = (i: number): RowState =>
    i < last ? 'done' : running ? 'current' : job.state === 'done' ? 'done' : 'stopped';
  if (!job.plan) {
    return job.steps.map((s, i) => ({ key: `${s.id}-${i}`, label: s.label, state: reachedState(i) }));
  }
  const plan = job.plan;
  const places = placeSteps(plan, job.steps);
  // The furthest planned step reached: planned steps before it that never started were skipped.
  const furthest = Math.max(-1, ...places);
  /** The steps reported at each planned step, and the unplanned ones that followed it. */
  const reached = plan.map(() => ({ at: -1, after: [] as number[] }));
  const before: number[] = [];
  let slot = -1;
  places.forEach((p, i) => {
    if (p >= 0) {
      slot = p;
      reached[p]!.at = i;
    } else if (slot >= 0) reached[slot]!.after.push(i);
    else before.push(i);
  });
  const reportedRow = (i: number): Row => ({
    key: `${job.steps[i]!.id}-${i}`,
    label: job.steps[i]!.label,
    state: reachedState(i),
  });
  const out: Row[] = before.map(reportedRow);
  plan.forEach((p, i) => {
    const { at, after } = reached[i]!;
    const state: RowState =
      at >= 0 ? reachedState(at) : i < furthest || job.state === 'done' ? 'skipped' : 'pending';
    // A step reached is shown by its own words (they name the card or the file); one to come by the plan's.
    out.push({ key: `${p.id}-plan-${i}`, label: at >= 0 ? job.steps[at]!.label : p.label, state });
    out.push(...after.map(reportedRow));
  });
  return out;
}

export function JobSteps({ job }: { job: JobSummary }) {
  const list = rows(job);
  const detail = job.state === 'running' && job.plan ? job.log.at(-1) : undefined;
  return (
    <ol className="job-steps" aria-label="Steps">
      {list.map((r) => (
        <li key={r.key} className={r.state}>
          <span className="step-icon" aria-hidden>
            {ICON[r.state]}
          </span>
          {r.label}
          {r.state === 'current' && detail && <div className="step-detail mono">{detail}</div>}
        </li>
      ))}
    </ol>
  );
}
