/**
 * The one window: the renderer from atlas://app/ with the preload bridge, context isolation and
 * the sandbox on, no Node integration, no webviews, and no navigation by dropping a file (the
 * Insert screen handles drops itself).
 */
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions } from 'electron';
import { APP_URL } from './csp.js';

export function windowOptions(preload: string, platform: string): BrowserWindowConstructorOptions {
  return {
    width: 1240,
    height: 820,
    minWidth: 980,
    minHeight: 640,
    title: 'Atlas Imager',
    show: false,
    backgroundColor: '#0f1b2d',
    ...(platform === 'darwin' ? { titleBarStyle: 'hiddenInset' as const } : {}),
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

export function createMainWindow(
  BrowserWindow: typeof BrowserWindowType,
  preload: string,
  platform: string,
): BrowserWindowType {
  const win = new BrowserWindow(windowOptions(preload, platform));
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}
