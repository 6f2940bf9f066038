// The small Electron pieces, each on fakes: window options, the menu, IPC registration and
// event forwarding, Dock progress and notifications, quitting with running jobs, the dialogs.
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { windowOptions, createMainWindow } from '../../src-main/electron/window.js';
import { menuTemplate } from '../../src-main/electron/menu.js';

type MenuItem = ReturnType<typeof menuTemplate>[number];
import { forwardEvents, registerIpc, senderIsApp } from '../../src-main/electron/ipc-main.js';
import { dockProgress, jobFeedback, type FeedbackSource } from '../../src-main/electron/job-feedback.js';
import { guardQuit } from '../../src-main/electron/quit-guard.js';
import { startedSummary } from '../../src-main/app/job-summary.js';
import { electronHost } from '../../src-main/electron/electron-host.js';
import { unpackedRoot } from '../../src-main/electron/main-root.js';
import { INVOKE_CHANNELS, type JobEventDto, type JobSummary } from '../../src-main/common/contract.js';

vi.mock('electron', async () => (await import('./electron-fake.js')).electron);

function job(over: Partial<JobSummary>): JobSummary {
  return {
    ...startedSummary('j1', { kind: 'vm-start' }, 'Flash golden to sdc', '2026-01-01T10:00:00.000Z'),
    kind: 'flash',
    ...over,
  };
}

describe('window', () => {
  it('isolates and sandboxes the renderer and never navigates on a dropped file', () => {
    const o = windowOptions('/app/dist/preload/preload.cjs', 'darwin');
    expect(o.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
    });
    expect(o.titleBarStyle).toBe('hiddenInset');
    expect(windowOptions('/p', 'linux').titleBarStyle).toBeUndefined();
  });

  it('shows the window when it is ready, loading the app URL', () => {
    class Win extends EventEmitter {
      loadURL = vi.fn(async () => undefined);
      show = vi.fn();
      constructor(readonly opts: object) {
        super();
      }
    }
    const w = createMainWindow(
      Win as unknown as Parameters<typeof createMainWindow>[0],
      '/p.cjs',
      'linux',
    ) as unknown as Win;
    expect(w.loadURL).toHaveBeenCalledWith('atlas://app/index.html');
    expect(w.show).not.toHaveBeenCalled();
    w.emit('ready-to-show');
    expect(w.show).toHaveBeenCalled();
  });
});

describe('menu', () => {
  const navigate = vi.fn();
  it('has the macOS app menu and one Go item per screen with ⌘1…⌘7', () => {
    const t = menuTemplate('darwin', false, { navigate });
    expect(t[0]!.label).toBe('Atlas Imager');
    expect((t[0]!.submenu as MenuItem[]).map((i) => i.role).filter(Boolean)).toContain('quit');
    const go = t.find((m) => m.label === 'Go')!.submenu as MenuItem[];
    expect(go.map((i) => i.accelerator)).toEqual([
      'CmdOrCtrl+1',
      'CmdOrCtrl+2',
      'CmdOrCtrl+3',
      'CmdOrCtrl+4',
      'CmdOrCtrl+5',
      'CmdOrCtrl+6',
      'CmdOrCtrl+7',
    ]);
    go[1]!.click!({} as never, undefined, {} as never);
    expect(navigate).toHaveBeenCalledWith('insert');
  });

  it('offers DevTools and reload in development only', () => {
    const roles = (dev: boolean) =>
      (menuTemplate('linux', dev, { navigate }).find((m) => m.label === 'View')!.submenu as MenuItem[]).map(
        (i) => i.role,
      );
    expect(roles(true)).toContain('toggleDevTools');
    expect(roles(false)).not.toContain('toggleDevTools');
    expect(roles(false)).not.toContain('reload');
    expect(menuTemplate('linux', false, { navigate })[0]!.label).toBe('File');
  });
});

describe('IPC in main', () => {
  it('registers every channel; requests from other pages never reach the backend', async () => {
    const handlers = new Map<string, (...a: unknown[]) => Promise<unknown>>();
    const ipcMain = {
      handle: (c: string, f: (...a: unknown[]) => Promise<unknown>) => handlers.set(c, f),
      removeHandler: (c: string) => handlers.delete(c),
    };
    const dispatch = vi.fn(async () => ({ ok: true as const, value: 1 }));
    const off = registerIpc(ipcMain as unknown as Parameters<typeof registerIpc>[0], { dispatch });
    expect([...handlers.keys()]).toEqual([...INVOKE_CHANNELS]);
    expect(
      await handlers.get('names:next-set')!({ senderFrame: { url: 'atlas://app/index.html' } }, 'FLASH'),
    ).toEqual({ ok: true, value: 1 });
    expect(dispatch).toHaveBeenCalledWith('names:next-set', ['FLASH']);
    expect(await handlers.get('app:info')!({ senderFrame: { url: 'file:///tmp/x.html' } })).toMatchObject({
      ok: false,
    });
    expect(await handlers.get('app:info')!({ senderFrame: null })).toMatchObject({ ok: false });
    expect(dispatch).toHaveBeenCalledTimes(1);
    off();
    expect(handlers.size).toBe(0);
    expect(senderIsApp({ senderFrame: { url: 'atlas://app/' } } as never)).toBe(true);
  });

  it('forwards backend events to every live window', () => {
    let listener: (c: string, p: unknown) => void = () => undefined;
    const live = { isDestroyed: () => false, webContents: { send: vi.fn() } };
    const closed = { isDestroyed: () => true, webContents: { send: vi.fn() } };
    forwardEvents(
      { subscribe: (l) => ((listener = l as typeof listener), () => true) },
      () => [live, closed] as unknown as ReturnType<Parameters<typeof forwardEvents>[1]>,
    );
    listener('library:changed', { reason: 'x' });
    expect(live.webContents.send).toHaveBeenCalledWith('library:changed', { reason: 'x' });
    expect(closed.webContents.send).not.toHaveBeenCalled();
  });
});

describe('Dock progress and notifications', () => {
  it('shows the running jobs share done, indeterminate without byte counts, nothing when idle', () => {
    expect(dockProgress([])).toBe(-1);
    expect(dockProgress([job({})])).toBe(2);
    expect(
      dockProgress([
        job({ progress: { stepId: 'w', doneBytes: 25, totalBytes: 100, bytesPerSecond: 1, etaSeconds: 1 } }),
        job({ progress: { stepId: 'w', doneBytes: 75, totalBytes: 100, bytesPerSecond: 1, etaSeconds: 1 } }),
      ]),
    ).toBe(0.5);
  });

  it('notifies when a long job ends or any job fails, not when the user cancelled', () => {
    let emit: (e: JobEventDto) => void = () => undefined;
    const jobs = new Map<string, JobSummary>();
    const source: FeedbackSource = {
      subscribe: (l) => ((emit = l), () => undefined),
      running: () => [...jobs.values()].filter((j) => j.state === 'running'),
      get: (id) => jobs.get(id),
    };
    const ui = { setProgress: vi.fn(), setBadge: vi.fn(), notify: vi.fn() };
    jobFeedback(source, ui, 10_000);
    jobs.set('long', job({ id: 'long' }));
    emit({ type: 'started', job: jobs.get('long')! });
    expect(ui.setBadge).toHaveBeenLastCalledWith('1');
    jobs.set('long', job({ id: 'long', state: 'done' }));
    emit({
      type: 'done',
      jobId: 'long',
      outcome: { kind: 'vm-start', result: {} as never },
      endedAt: '2026-01-01T10:05:00.000Z',
    });
    expect(ui.notify).toHaveBeenLastCalledWith('Done: Flash golden to sdc', 'Finished in 300 s.');
    expect(ui.setProgress).toHaveBeenLastCalledWith(-1);
    jobs.set('short', job({ id: 'short', state: 'done' }));
    emit({
      type: 'done',
      jobId: 'short',
      outcome: { kind: 'vm-start', result: {} as never },
      endedAt: '2026-01-01T10:00:02.000Z',
    });
    jobs.set('bad', job({ id: 'bad', state: 'failed' }));
    emit({
      type: 'failed',
      jobId: 'bad',
      state: 'failed',
      endedAt: '2026-01-01T10:00:01.000Z',
      error: { code: 'too-small', message: 'the card is too small', hint: 'use a larger card' },
    });
    expect(ui.notify).toHaveBeenLastCalledWith(
      'Failed: Flash golden to sdc',
      'the card is too small. use a larger card',
    );
    jobs.set('stop', job({ id: 'stop', state: 'cancelled' }));
    emit({
      type: 'failed',
      jobId: 'stop',
      state: 'cancelled',
      endedAt: '2026-01-01T10:09:00.000Z',
      error: { code: 'cancelled', message: 'x' },
    });
    expect(ui.notify).toHaveBeenCalledTimes(2);
  });
});

describe('quitting with running jobs', () => {
  function setup(response: number, running: number) {
    const app = Object.assign(new EventEmitter(), { quit: vi.fn() });
    const dialog = { showMessageBox: vi.fn(async () => ({ response, checkboxChecked: false })) };
    const stopAll = vi.fn(async () => undefined);
    guardQuit(app as never, dialog as unknown as Parameters<typeof guardQuit>[1], () => ({
      runningCount: () => running,
      stopAll,
    }));
    const event = { preventDefault: vi.fn() };
    app.emit('before-quit', event);
    return { app, dialog, stopAll, event };
  }

  it('asks first; "Cancel and quit" stops the jobs, then quits', async () => {
    const { app, dialog, stopAll, event } = setup(1, 2);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(dialog.showMessageBox.mock.calls[0]![0]).toMatchObject({ message: '2 jobs are still running' });
    await vi.waitFor(() => expect(app.quit).toHaveBeenCalled());
    expect(stopAll).toHaveBeenCalled();
    const again = { preventDefault: vi.fn() };
    app.emit('before-quit', again);
    expect(again.preventDefault).not.toHaveBeenCalled();
  });

  it('"Keep working" keeps the app and the jobs', async () => {
    const { app, stopAll, event } = setup(0, 1);
    expect(event.preventDefault).toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 10));
    expect(app.quit).not.toHaveBeenCalled();
    expect(stopAll).not.toHaveBeenCalled();
  });

  it('quits at once when nothing runs', () => {
    const { event, dialog } = setup(0, 0);
    expect(event.preventDefault).not.toHaveBeenCalled();
    expect(dialog.showMessageBox).not.toHaveBeenCalled();
  });
});

describe('native dialogs and Finder', () => {
  it('opens the dialog for the purpose and returns the chosen path or null', async () => {
    const dialog = {
      showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/Users/me/a.img'] })),
    };
    const shell = { showItemInFolder: vi.fn() };
    const host = electronHost(
      dialog as unknown as Parameters<typeof electronHost>[0],
      shell as unknown as Parameters<typeof electronHost>[1],
      () => null,
    );
    expect(await host.openFile('base-image')).toBe('/Users/me/a.img');
    expect(dialog.showOpenDialog.mock.calls[0]![0]).toMatchObject({
      properties: ['openFile'],
      filters: [{ extensions: ['img', 'xz', 'gz', 'zst'] }],
    });
    dialog.showOpenDialog.mockResolvedValueOnce({ canceled: true, filePaths: [] });
    expect(await host.openFolder('payload')).toBeNull();
    host.reveal('/Users/me/atlas-build/x.img');
    expect(shell.showItemInFolder).toHaveBeenCalledWith('/Users/me/atlas-build/x.img');
  });
});

describe('packaged paths', () => {
  it('finds the builder scripts outside the asar archive when packaged', () => {
    expect(unpackedRoot('/Applications/Atlas Imager.app/Contents/Resources/app.asar', true)).toBe(
      '/Applications/Atlas Imager.app/Contents/Resources/app.asar.unpacked',
    );
    expect(unpackedRoot('/work/main', false)).toBe('/work/main');
  });
});
