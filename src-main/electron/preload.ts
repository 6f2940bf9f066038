/**
 * The preload bridge: `window.atlas` and nothing else. It runs sandboxed (so it is bundled into
 * one CommonJS file, dist/preload/preload.cjs) and only forwards known channels to main, which
 * validates every argument again.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { createAtlasApi } from '../ipc/bridge.js';

contextBridge.exposeInMainWorld(
  'atlas',
  createAtlasApi({
    invoke: (channel, args) => ipcRenderer.invoke(channel, ...args),
    subscribe: (channel, listener) => {
      const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
      ipcRenderer.on(channel, handler);
      return () => {
        ipcRenderer.removeListener(channel, handler);
      };
    },
    pathForFile: (file) => webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0]),
  }),
);
