/**
 * Quitting while jobs run asks first. If the user goes on, the jobs are cancelled and their
 * cleanup runs (partial output removed, loop devices detached) before the app really quits.
 */
import type { App, Dialog } from 'electron';

export interface QuitJobs {
  runningCount(): number;
  /** Cancels every running job and resolves when their cleanup is done. */
  stopAll(): Promise<void>;
}

export function guardQuit(
  app: Pick<App, 'on' | 'quit'>,
  dialog: Pick<Dialog, 'showMessageBox'>,
  jobs: () => QuitJobs | undefined,
): void {
  let confirmed = false;
  app.on('before-quit', (event) => {
    const running = jobs()?.runningCount() ?? 0;
    if (confirmed || running === 0) return;
    event.preventDefault();
    void dialog
      .showMessageBox({
        type: 'warning',
        buttons: ['Keep working', 'Cancel and quit'],
        defaultId: 0,
        cancelId: 0,
        message: `${running} job${running > 1 ? 's are' : ' is'} still running`,
        detail: 'Quitting cancels them; their unfinished output is removed.',
      })
      .then(async ({ response }) => {
        if (response !== 1) return;
        await jobs()?.stopAll();
        confirmed = true;
        app.quit();
      });
  });
}
