/**
 * Electron main: one window, one instance, the macOS menu, the backend on IPC, job feedback in
 * the Dock and in notifications. Everything else lives in the plain-Node backend (src-main/ipc)
 * and the core; this file only connects Electron's objects to it.
 */
import { join, resolve } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { toAtlasError } from '../core/errors.js';
import { DEFAULT_LIBRARY } from '../core/library/library.js';
import { selectBuilder } from '../core/lima/select-builder.js';
import type { Builder } from '../core/builder/builder.js';
import { createBackend, type Backend } from '../ipc/backend.js';
import { limaVm, type VmBackend } from '../ipc/handlers-vm-cards.js';
import { isUnavailable, unavailableBuilder, unavailableVm } from '../ipc/unavailable-builder.js';
import { serveRenderer } from './protocol.js';
import { guardContents, hardenSession } from './security.js';
import { createMainWindow } from './window.js';
import { menuTemplate } from './menu.js';
import { electronHost } from './electron-host.js';
import { forwardEvents, registerIpc } from './ipc-main.js';
import { jobFeedback } from './job-feedback.js';
import { guardQuit } from './quit-guard.js';
import { SecretVault } from '../core/secrets/secret-vault.js';
import { safeStorageCipher } from './secret-cipher.js';

/**
 * The builder of this machine and its VM backend: this host on Linux, the atlas-build Lima VM on
 * a Mac. When there is none (Lima missing, VM not set up), the app still opens, says why on the
 * VM screen, and sets the VM up from there.
 */
async function pickBuilder(library: string): Promise<{ builder: Builder; vm?: VmBackend }> {
  try {
    const builder = await selectBuilder(library);
    return builder.kind === 'lima' ? { builder, vm: limaVm(library) } : { builder };
  } catch (e) {
    const reason = toAtlasError(e).toJSON();
    const onMac = process.platform === 'darwin';
    return { builder: unavailableBuilder(reason), vm: onMac ? limaVm(library) : unavailableVm(reason) };
  }
}

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
    const { builder, vm } = await pickBuilder(library);
    const env = { builder, library };
    const vault = new SecretVault(
      join(app.getPath('userData'), 'atlas_secrets.vault'),
      safeStorageCipher(safeStorage, process.platform),
    );
    // Decrypted copies live only while an Insert runs; a crash mid-Insert may have left one.
    await vault.sweep();
    backend = createBackend({
      env,
      host: electronHost(dialog, shell, () => win),
      settingsFile: join(app.getPath('userData'), 'settings.json'),
      stagingDir: app.getPath('desktop'),
      vault,
      ...(vm ? { vm } : {}),
    });
    // Once the VM screen has set up or started the VM, the builder can be selected after all.
    backend.jobs.subscribe((e) => {
      const job = e.type === 'done' ? backend?.jobs.get(e.jobId) : undefined;
      if (!job || !job.kind.startsWith('vm-') || !isUnavailable(env.builder)) return;
      void pickBuilder(library).then((picked) => {
        if (!isUnavailable(picked.builder)) env.builder = picked.builder;
      });
    });
    registerIpc(ipcMain, backend);
    forwardEvents(backend, () => BrowserWindow.getAllWindows());
    jobFeedback(backend.jobs, {
      setProgress: (value) => win?.setProgressBar(value),
      setBadge: (text) => app.dock?.setBadge(text),
      notify: (title, body) => {
        if (Notification.isSupported()) new Notification({ title, body }).show();
      },
    });
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
