/**
 * A fake `electron` module for the unit tests of src-main/electron (the Electron binary cannot be
 * run here). It records what main and preload ask of Electron: windows and their options, IPC
 * handlers, protocol handlers, session hooks, menus, dialogs, notifications, the context bridge.
 * Use it with: vi.mock('electron', async () => (await import('./electron-fake.js')).electron).
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { ROOT } from '../helpers/fixtures.js';
import { SafeStorageDouble } from '../doubles/safe-storage.js';

const home = mkdtempSync(join(tmpdir(), 'atlas-electron-'));

class FakeWebContents extends EventEmitter {
  send = vi.fn();
  setWindowOpenHandler = vi.fn();
}

class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  static getAllWindows = () => FakeBrowserWindow.all;
  webContents = new FakeWebContents();
  loadURL = vi.fn(async () => undefined);
  show = vi.fn();
  focus = vi.fn();
  restore = vi.fn();
  isMinimized = vi.fn(() => false);
  isDestroyed = vi.fn(() => false);
  setProgressBar = vi.fn();
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.all.push(this);
  }
}

class FakeNotification {
  static shown: Array<{ title: string; body: string }> = [];
  static isSupported = vi.fn(() => true);
  constructor(readonly options: { title: string; body: string }) {}
  show = vi.fn(() => FakeNotification.shown.push(this.options));
}

const ipcHandlers = new Map<string, (...args: unknown[]) => unknown>();
const protocolHandlers = new Map<string, (request: Request) => Promise<Response>>();

export const electron = {
  app: Object.assign(new EventEmitter(), {
    isPackaged: false,
    requestSingleInstanceLock: vi.fn(() => true),
    quit: vi.fn(),
    isReady: vi.fn(() => true),
    whenReady: vi.fn(() => Promise.resolve()),
    getAppPath: vi.fn(() => ROOT),
    getPath: vi.fn((name: string) => join(home, name)),
    dock: { setBadge: vi.fn() },
  }),
  BrowserWindow: FakeBrowserWindow,
  ipcMain: {
    handlers: ipcHandlers,
    handle: vi.fn((channel: string, fn: (...args: unknown[]) => unknown) => ipcHandlers.set(channel, fn)),
    removeHandler: vi.fn((channel: string) => ipcHandlers.delete(channel)),
  },
  protocol: {
    handlers: protocolHandlers,
    registerSchemesAsPrivileged: vi.fn(),
    handle: vi.fn((scheme: string, fn: (request: Request) => Promise<Response>) =>
      protocolHandlers.set(scheme, fn),
    ),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      webRequest: { onBeforeRequest: vi.fn() },
    },
  },
  Menu: { buildFromTemplate: vi.fn((template: unknown) => ({ template })), setApplicationMenu: vi.fn() },
  dialog: {
    showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/Users/me/Downloads/base.img'] })),
    showMessageBox: vi.fn(async () => ({ response: 1 })),
  },
  shell: { showItemInFolder: vi.fn() },
  Notification: FakeNotification,
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: Object.assign(new EventEmitter(), {
    invoke: vi.fn(async (..._args: unknown[]) => ({ ok: true, value: null })),
  }),
  safeStorage: new SafeStorageDouble(),
  // The blockers held now, by id (Electron's powerSaveBlocker: start returns an id, stop takes it).
  powerSaveBlocker: Object.assign(
    { held: new Map<number, string>(), next: 1 },
    {
      start: vi.fn(function (this: void, type: string): number {
        const b = electron.powerSaveBlocker;
        const id = b.next++;
        b.held.set(id, type);
        return id;
      }),
      stop: vi.fn((id: number) => void electron.powerSaveBlocker.held.delete(id)),
      isStarted: vi.fn((id: number) => electron.powerSaveBlocker.held.has(id)),
    },
  ),
  webUtils: { getPathForFile: vi.fn((file: { name: string }) => `/Users/me/Downloads/${file.name}`) },
};

export type FakeElectron = typeof electron;
export { FakeBrowserWindow, FakeNotification, FakeWebContents };
