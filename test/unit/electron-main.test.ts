// Electron main as a whole, on the fake electron module: one instance, the window's security
// settings, the renderer served from atlas://, every contract channel handled (and refused from
// any other page), the menu, and a second launch focusing the window.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { INVOKE_CHANNELS } from '../../src-main/common/contract.js';
import { ROOT, scratch } from '../helpers/fixtures.js';
import { electron, FakeBrowserWindow } from './electron-fake.js';

vi.mock('electron', async () => (await import('./electron-fake.js')).electron);

const library = join(scratch('electron-main'), 'atlas-build');
const fromApp = { senderFrame: { url: 'atlas://app/index.html' } };
// A decrypted secrets copy left in the temp folder by an Insert that was killed.
const staleSecrets = join(tmpdir(), `atlas-secrets-main-test-${process.pid}`);

/** Waits up to 30 s for `check`, as expect.poll does (the unit lane runs beside loaded disk lanes). */
async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 30_000;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

beforeAll(async () => {
  mkdirSync(library, { recursive: true });
  process.env.ATLAS_LIBRARY = library;
  mkdirSync(staleSecrets, { recursive: true });
  writeFileSync(join(staleSecrets, 'atlas_secrets.conf'), 'ROOT_PASSWORD="left-behind"\n', { mode: 0o600 });
  await import('../../src-main/electron/main.js');
  await until(() => FakeBrowserWindow.all.length === 1);
});

describe('Electron main', () => {
  it('takes the single-instance lock and registers the atlas:// scheme before ready', () => {
    expect(electron.app.requestSingleInstanceLock).toHaveBeenCalled();
    expect(electron.protocol.registerSchemesAsPrivileged).toHaveBeenCalledWith([
      expect.objectContaining({ scheme: 'atlas', privileges: expect.objectContaining({ secure: true }) }),
    ]);
    expect(process.env.ATLAS_IMAGER_ROOT).toBe(ROOT);
    // Electron accepts privileged schemes only before ready: registered before anything waits for it.
    expect(electron.protocol.registerSchemesAsPrivileged.mock.invocationCallOrder[0]).toBeLessThan(
      electron.app.whenReady.mock.invocationCallOrder[0]!,
    );
  });

  it('opens one window: sandboxed, isolated, no Node, the bundled preload, the app URL', () => {
    const win = FakeBrowserWindow.all[0]!;
    expect(win.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      preload: join(ROOT, 'dist', 'preload', 'preload.cjs'),
    });
    expect(win.loadURL).toHaveBeenCalledWith('atlas://app/index.html');
    win.emit('ready-to-show');
    expect(win.show).toHaveBeenCalled();
  });

  it('hardens the session and serves the renderer', () => {
    expect(electron.session.defaultSession.setPermissionRequestHandler).toHaveBeenCalled();
    expect(electron.session.defaultSession.webRequest.onBeforeRequest).toHaveBeenCalled();
    expect(electron.protocol.handlers.has('atlas')).toBe(true);
  });

  it('handles every channel of the contract, for the app page only', async () => {
    expect([...electron.ipcMain.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    const info = electron.ipcMain.handlers.get('app:info')!;
    expect(await info(fromApp)).toMatchObject({ ok: true, value: { library, builderKind: 'local' } });
    expect(await info({ senderFrame: { url: 'https://evil.example/' } })).toMatchObject({
      ok: false,
      error: { code: 'permission' },
    });
    const reveal = electron.ipcMain.handlers.get('library:reveal')!;
    expect(await reveal(fromApp, 'not/absolute')).toMatchObject({ ok: false, error: { code: 'bad-input' } });
  });

  it('guards every web contents it creates', () => {
    const contents = Object.assign(new EventEmitter(), { setWindowOpenHandler: vi.fn() });
    electron.app.emit('web-contents-created', {}, contents);
    const event = { preventDefault: vi.fn() };
    contents.emit('will-navigate', event, 'https://example.com');
    expect(event.preventDefault).toHaveBeenCalled();
  });

  it('installs the menu with the wizard screens', () => {
    const template = electron.Menu.buildFromTemplate.mock.calls[0]![0] as Array<{ label?: string }>;
    expect(template.map((m) => m.label)).toContain('Go');
    expect(electron.Menu.setApplicationMenu).toHaveBeenCalled();
  });

  it('focuses the window when the app is launched again', () => {
    const win = FakeBrowserWindow.all[0]!;
    win.isMinimized.mockReturnValueOnce(true);
    electron.app.emit('second-instance');
    expect(win.restore).toHaveBeenCalled();
    expect(win.focus).toHaveBeenCalled();
    expect(FakeBrowserWindow.all).toHaveLength(1);
  });

  it('sends backend events to the window', async () => {
    const win = FakeBrowserWindow.all[0]!;
    const start = electron.ipcMain.handlers.get('jobs:start')!;
    const r = (await start(fromApp, { kind: 'stage', path: join(library, 'nothing.img') })) as {
      ok: boolean;
    };
    expect(r.ok).toBe(false);
    const del = electron.ipcMain.handlers.get('library:delete-request')!;
    expect(await del(fromApp, join(library, 'x.img'))).toMatchObject({
      ok: false,
      error: { code: 'not-found' },
    });
    const settings = electron.ipcMain.handlers.get('settings:set')!;
    expect(await settings(fromApp, { archiveDir: '/Volumes/NVME_VAULT/golden-atlas-img' })).toMatchObject({
      ok: true,
    });
    // A job's events reach the window: a failing inspect of a missing file ends quickly.
    await start(fromApp, { kind: 'inspect', path: join(library, 'missing.img') });
    await until(() =>
      win.webContents.send.mock.calls.some(([ch, e]) => ch === 'jobs:event' && e.type === 'failed'),
    );
  });

  it('keeps the Mac from sleeping while a job runs, and lets it sleep again when none does', async () => {
    const blocker = electron.powerSaveBlocker;
    const before = blocker.start.mock.calls.length;
    const start = electron.ipcMain.handlers.get('jobs:start')!;
    await start(fromApp, { kind: 'inspect', path: join(library, 'missing-too.img') });
    await until(() => blocker.start.mock.calls.length > before);
    expect(blocker.start.mock.calls.at(-1)).toEqual(['prevent-app-suspension']);
    // The job fails quickly: the blocker is released, nothing is left held.
    await until(() => blocker.held.size === 0);
    expect(blocker.stop).toHaveBeenCalled();
  });

  it('keeps imported secrets encrypted with safeStorage in the app data folder, and sweeps stale copies', async () => {
    expect(existsSync(staleSecrets)).toBe(false);
    const source = join(scratch('electron-secrets'), 'atlas_secrets.conf');
    writeFileSync(source, 'ROOT_PASSWORD="main-test-pw"\n');
    const encrypts = electron.safeStorage.calls.encryptAsync;
    const imp = electron.ipcMain.handlers.get('secrets:import')!;
    expect(await imp(fromApp, source)).toMatchObject({
      ok: true,
      value: { stored: true, keys: ['ROOT_PASSWORD'], encryptionAvailable: true },
    });
    // Through safeStorage's asynchronous call (the synchronous ones are deprecated).
    expect(electron.safeStorage.calls.encryptAsync).toBe(encrypts + 1);
    expect(electron.safeStorage.calls.encrypt).toBe(0);
    const vault = join(electron.app.getPath('userData'), 'atlas_secrets.vault');
    expect(readFileSync(vault, 'utf8')).not.toContain('main-test-pw');
    expect(statSync(vault).mode & 0o777).toBe(0o600);
    expect(await imp({ senderFrame: { url: 'https://evil.example/' } }, source)).toMatchObject({
      ok: false,
      error: { code: 'permission' },
    });
  });

  it('quits when the last window closes (except on macOS)', () => {
    electron.app.emit('window-all-closed');
    expect(electron.app.quit).toHaveBeenCalledTimes(process.platform === 'darwin' ? 0 : 1);
  });
});
