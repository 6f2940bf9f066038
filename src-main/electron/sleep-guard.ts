/**
 * Keeps the Mac awake while any job runs: a long clone or restore on battery could otherwise
 * idle-sleep the machine mid-write (the VM, the ssh stream carrying the card, the USB reader).
 * Electron's powerSaveBlocker with 'prevent-app-suspension' keeps the system active and still lets
 * the display sleep; it is released as soon as the last job ends, however it ends.
 */
import type { FeedbackSource } from './job-feedback.js';

export interface PowerBlocker {
  start(type: 'prevent-app-suspension'): number;
  stop(id: number): void;
}

export function holdAwakeWhileJobsRun(source: FeedbackSource, blocker: PowerBlocker): () => void {
  let held: number | undefined;
  const update = () => {
    const busy = source.running().length > 0;
    if (busy && held === undefined) held = blocker.start('prevent-app-suspension');
    if (!busy && held !== undefined) {
      blocker.stop(held);
      held = undefined;
    }
  };
  const unsubscribe = source.subscribe((e) => {
    if (e.type !== 'progress' && e.type !== 'log') update();
  });
  return () => {
    unsubscribe();
    if (held !== undefined) blocker.stop(held);
    held = undefined;
  };
}
