/**
 * The process groups this process has started and not yet seen end (every tool runs in a group
 * of its own, see run-tool.ts). A job lock records them, so a lock whose holder died is not
 * taken over while something the holder started still runs (a script still writing the card).
 */
import { readdirSync, readFileSync } from 'node:fs';

const live = new Set<number>();
const listeners = new Set<(groups: readonly number[]) => void>();

function changed(): void {
  const now = [...live];
  for (const l of listeners) l(now);
}

export function addChildGroup(pgid: number): void {
  live.add(pgid);
  changed();
}

export function removeChildGroup(pgid: number): void {
  if (live.delete(pgid)) changed();
}

export function childGroups(): number[] {
  return [...live];
}

/** Calls `listener` with the live groups whenever they change; returns the unsubscribe. */
export function onChildGroups(listener: (groups: readonly number[]) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The processes of group `pgid` that still run (zombies, which run nothing, do not count). On
 * Linux read from /proc, with their pids; elsewhere only whether any is left (kill 0), as [pgid].
 */
export function groupMembers(pgid: number): number[] {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return [];
  if (process.platform === 'linux') {
    const pids: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      // state ppid pgrp …, after the command name (in parentheses, which may hold anything).
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') pids.push(Number(name));
    }
    return pids;
  }
  try {
    process.kill(-pgid, 0);
    return [pgid];
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? [pgid] : [];
  }
}
