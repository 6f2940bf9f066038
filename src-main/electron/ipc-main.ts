/**
 * The backend carried over Electron IPC: one ipcMain handler per request channel of the
 * contract (requests from any page but the app's own are refused), and every backend event
 * sent to the open windows.
 */
import type { BrowserWindow, IpcMain, IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS, type Envelope } from '../common/contract.js';
import type { Backend } from '../ipc/backend.js';
import { isAppUrl } from './csp.js';

export function senderIsApp(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): boolean {
  const url = event.senderFrame?.url;
  return typeof url === 'string' && isAppUrl(url);
}

export function registerIpc(ipcMain: IpcMain, backend: Pick<Backend, 'dispatch'>): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<Envelope<unknown>> => {
      if (!senderIsApp(event)) {
        return {
          ok: false,
          error: { code: 'permission', message: 'request from a page that is not the app' },
        };
      }
      return backend.dispatch(channel, args);
    });
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel);
  };
}

export function forwardEvents(
  backend: Pick<Backend, 'subscribe'>,
  windows: () => BrowserWindow[],
): () => void {
  return backend.subscribe((channel, payload) => {
    for (const w of windows()) {
      if (!w.isDestroyed()) w.webContents.send(channel, payload);
    }
  });
}
