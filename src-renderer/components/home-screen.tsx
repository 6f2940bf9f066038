/**
 * Home: the rule of the seed, the phase lifecycle with the library at each phase, recent jobs;
 * a recent job opens again with its steps, log and result.
 */
import { useState } from 'react';
import { useStore } from '../store/store';
import { date } from '../lib/format';
import { JobPanel } from './job-panel';
import { JobResult } from './job-result';
import { PhaseLifecycle } from './phase-lifecycle';
import { ScreenHeader } from './screen-header';

export function HomeScreen() {
  const library = useStore((s) => s.library);
  const jobs = useStore((s) => s.jobs);
  const [open, setOpen] = useState<string | null>(null);
  const recent = Object.values(jobs)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .slice(0, 5);
  const opened = open ? jobs[open] : undefined;
  return (
    <div className="screen">
      <ScreenHeader
        title="ODS Atlas image lifecycle"
        subtitle={library ? `Library: ${library.library}` : 'Reading the library…'}
      />
      <div className="rule">
        <strong>Rule:</strong> Insert creates Phase 0. Clone creates Phase 1. Never cross these.
      </div>
      <PhaseLifecycle />
      {library && (library.elsewhere?.length ?? 0) > 0 && (
        <p className="notice">
          {library.elsewhere.length} clone set{library.elsewhere.length > 1 ? 's' : ''} found outside the
          library, in {[...new Set(library.elsewhere.map((s) => s.place.path))].join(', ')}: see the Library
          screen to adopt them, or restore them as they are.
        </p>
      )}
      {library && library.unfinished.length > 0 && (
        <p className="notice">
          Unfinished output of interrupted jobs (not artifacts): {library.unfinished.join(', ')}
        </p>
      )}
      {recent.length > 0 && (
        <section className="panel">
          <h2>Recent jobs</h2>
          <ul className="recent-jobs">
            {recent.map((j) => (
              <li key={j.id}>
                <button
                  type="button"
                  className={`recent-job${open === j.id ? ' open' : ''}`}
                  aria-expanded={open === j.id}
                  onClick={() => setOpen(open === j.id ? null : j.id)}
                >
                  <span className={`badge badge-${j.state}`}>{j.state}</span> {j.title}
                  <span className="muted"> · {date(j.startedAt)}</span>
                </button>
              </li>
            ))}
          </ul>
          {opened && (
            <JobPanel jobId={opened.id}>{opened.outcome && <JobResult outcome={opened.outcome} />}</JobPanel>
          )}
        </section>
      )}
    </div>
  );
}
