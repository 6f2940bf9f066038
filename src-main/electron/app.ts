/**
 * Electron main: one window, one instance, the macOS menu, the backend on IPC, job feedback in
 * the Dock and in notifications. Everything else lives in plain Node: the app's services
 * (src-main/app), their transport (src-main/ipc) and the core; this file only connects
 * Electron's objects to it.
 */
import { join, resolve } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  powerSaveBlocker,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { DEFAULT_LIBRARY } from '../core/library/library.js';
import type { Backend } from '../ipc/backend.js';
import { createAppBackend } from '../ipc/app-backend.js';
import { serveRenderer } from './protocol.js';
import { guardContents, hardenSession } from './security.js';
import { createMainWindow } from './window.js';
import { menuTemplate } from './menu.js';
import { electronHost } from './electron-host.js';
import { forwardEvents, registerIpc } from './ipc-main.js';
import { jobFeedback } from './job-feedback.js';
import { holdAwakeWhileJobsRun } from './sleep-guard.js';
import { guardQuit } from './quit-guard.js';
import { SecretVault } from '../core/secrets/secret-vault.js';
import { safeStorageCipher } from './secret-cipher.js';

export function startApp(appRoot: string): void {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('web-contents-created', (_event, contents) => guardContents(contents));

  let win: BrowserWindow | null = null;
  let backend: Backend | undefined;

  const openWindow = () => {
    win = createMainWindow(BrowserWindow, join(appRoot, 'dist', 'preload', 'preload.cjs'), process.platform);
    win.on('closed', () => {
      win = null;
      backend?.terminals.closeAll();
    });
  };

  app.on('second-instance', () => {
    if (!win) return openWindow();
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  app.on('activate', () => {
    if (!win && app.isReady()) openWindow();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  guardQuit(app, dialog, () =>
    backend
      ? { runningCount: () => backend!.jobs.running().length, stopAll: () => backend!.dispose() }
      : undefined,
  );

  void app.whenReady().then(async () => {
    hardenSession(session.defaultSession);
    serveRenderer(protocol, join(appRoot, 'dist', 'renderer'));
    const library = resolve(process.env.ATLAS_LIBRARY ?? DEFAULT_LIBRARY);
    const vault = new SecretVault(
      join(app.getPath('userData'), 'atlas_secrets.vault'),
      safeStorageCipher(safeStorage, process.platform),
    );
    // Decrypted copies live only while an Insert runs; a crash mid-Insert may have left one.
    await vault.sweep();
    const made = await createAppBackend({
      library,
      host: electronHost(dialog, shell, () => win),
      settingsFile: join(app.getPath('userData'), 'settings.json'),
      stagingDir: app.getPath('desktop'),
      vault,
    });
    backend = made.backend;
    registerIpc(ipcMain, backend);
    forwardEvents(backend, () => BrowserWindow.getAllWindows());
    jobFeedback(backend.jobs, {
      setProgress: (value) => win?.setProgressBar(value),
      setBadge: (text) => app.dock?.setBadge(text),
      notify: (title, body) => {
        if (Notification.isSupported()) new Notification({ title, body }).show();
      },
    });
    holdAwakeWhileJobsRun(backend.jobs, powerSaveBlocker);
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate(process.platform, !app.isPackaged, {
          navigate: (screen) => win?.webContents.send('menu:navigate', { screen }),
        }),
      ),
    );
    openWindow();
  });
}
