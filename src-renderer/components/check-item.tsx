/** One line of a ticks-and-crosses list: a tick, a cross or a warning mark, then what it is about. */
import type { ReactNode } from 'react';

export type CheckState = 'ok' | 'warn' | 'bad';

const MARK: Record<CheckState, string> = { ok: '✓', warn: '!', bad: '✕' };

/** The state of a check that passed, or failed at this severity (a failed warning is a warning). */
export function checkState(ok: boolean, severity?: string): CheckState {
  return ok ? 'ok' : severity === 'warn' ? 'warn' : 'bad';
}

export function CheckItem({
  state,
  markLabel,
  children,
}: {
  state: CheckState;
  /** What the mark says to a screen reader; without it the mark is hidden from one. */
  markLabel?: string;
  children: ReactNode;
}) {
  return (
    <li className={state}>
      <span className="tick" aria-hidden={markLabel ? undefined : true} aria-label={markLabel}>
        {MARK[state]}
      </span>
      {children}
    </li>
  );
}
