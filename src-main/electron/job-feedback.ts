/**
 * Job feedback outside the window: the Dock icon's progress bar (the running jobs' share done,
 * indeterminate while they have no byte count yet) and a notification when a long job ends or
 * any job fails. A job the user cancelled gets no notification.
 */
import type { JobEventDto, JobSummary } from '../common/contract.js';

export interface FeedbackUi {
  /** 0..1, 2 for indeterminate, -1 to remove (BrowserWindow.setProgressBar semantics). */
  setProgress(value: number): void;
  setBadge(text: string): void;
  notify(title: string, body: string): void;
}

export interface FeedbackSource {
  subscribe(listener: (e: JobEventDto) => void): () => void;
  running(): JobSummary[];
  get(id: string): JobSummary | undefined;
}

export function dockProgress(running: JobSummary[]): number {
  if (running.length === 0) return -1;
  const fractions = running
    .map((j) => j.progress)
    .filter((p): p is NonNullable<typeof p> => p !== null && p.totalBytes > 0)
    .map((p) => Math.min(1, p.doneBytes / p.totalBytes));
  if (fractions.length === 0) return 2;
  return fractions.reduce((a, b) => a + b, 0) / fractions.length;
}

export function jobFeedback(source: FeedbackSource, ui: FeedbackUi, longMs = 10_000): () => void {
  let last = -1;
  const update = () => {
    const running = source.running();
    const value = dockProgress(running);
    if (value !== last) ui.setProgress(value);
    last = value;
    ui.setBadge(running.length > 0 ? String(running.length) : '');
  };
  return source.subscribe((e) => {
    if (e.type === 'progress' && e.progress.totalBytes > 0 && last >= 0 && last <= 1) {
      // Progress events are frequent: update the bar at most in 1% steps.
      const value = dockProgress(source.running());
      if (Math.abs(value - last) < 0.01) return;
    }
    update();
    if (e.type === 'done' || e.type === 'failed') {
      const job = source.get(e.jobId);
      if (!job) return;
      const took = Date.parse(e.endedAt) - Date.parse(job.startedAt);
      if (e.type === 'failed' && e.state === 'failed') {
        ui.notify(
          `Failed: ${job.title}`,
          e.error.hint ? `${e.error.message}. ${e.error.hint}` : e.error.message,
        );
      } else if (e.type === 'done' && took >= longMs) {
        ui.notify(`Done: ${job.title}`, `Finished in ${Math.round(took / 1000)} s.`);
      }
    }
  });
}
