/**
 * A job's steps. A job that announced its plan (VM setup and start) shows every step from the
 * start: done, the current one with Lima's latest line under it, those still to come, and a bar
 * saying which step of how many it is on (progress-bar.tsx), as Rancher Desktop shows its start. Other jobs list
 * their steps as they reach them.
 */
import type { JobSummary } from '../../src-main/ipc/contract';

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
  const lastIndexOf = (id: string) => job.steps.map((s) => s.id).lastIndexOf(id);
  const planned = new Set(job.plan.map((p) => p.id));
  // The furthest planned step reached: planned steps before it that never started were skipped.
  const furthest = Math.max(-1, ...job.plan.map((p, i) => (lastIndexOf(p.id) >= 0 ? i : -1)));
  const out: Row[] = job.plan.map((p, i) => {
    const at = lastIndexOf(p.id);
    const state: RowState =
      at >= 0 ? reachedState(at) : i < furthest || job.state === 'done' ? 'skipped' : 'pending';
    return { key: p.id, label: p.label, state };
  });
  job.steps.forEach((s, i) => {
    if (!planned.has(s.id)) out.push({ key: `${s.id}-${i}`, label: s.label, state: reachedState(i) });
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
