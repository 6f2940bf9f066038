// The preload bridge, with a fake electron module: `window.atlas` is the only thing exposed, it
// forwards known channels to ipcRenderer and nothing else, and gives a dropped file its path.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AtlasApi } from '../../src-main/common/contract.js';
import { electron } from './electron-fake.js';

vi.mock('electron', async () => (await import('./electron-fake.js')).electron);

let api: AtlasApi;
beforeAll(async () => {
  await import('../../src-main/electron/preload.js');
  expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
  const [key, value] = electron.contextBridge.exposeInMainWorld.mock.calls[0]!;
  expect(key).toBe('atlas');
  api = value as AtlasApi;
});

describe('preload', () => {
  it('exposes exactly invoke, on and pathForFile', () => {
    expect(Object.keys(api).sort()).toEqual(['invoke', 'on', 'pathForFile']);
  });

  it('forwards a request to ipcRenderer.invoke with its arguments spread', async () => {
    electron.ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, value: { items: [] } });
    expect(await api.invoke('names:next-set', 'FEATURE')).toEqual({ ok: true, value: { items: [] } });
    expect(electron.ipcRenderer.invoke).toHaveBeenLastCalledWith('names:next-set', 'FEATURE');
  });

  it('refuses a channel that is not in the contract without reaching main', async () => {
    electron.ipcRenderer.invoke.mockClear();
    const r = await (api.invoke as (c: string) => Promise<unknown>)('child_process:exec');
    expect(r).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(electron.ipcRenderer.invoke).not.toHaveBeenCalled();
  });

  it('delivers event payloads without the IPC event object, and unsubscribes', () => {
    const seen: unknown[] = [];
    const off = api.on('jobs:event', (e) => seen.push(e));
    electron.ipcRenderer.emit('jobs:event', { sender: 'main' }, { type: 'log', jobId: 'j', line: 'hello' });
    expect(seen).toEqual([{ type: 'log', jobId: 'j', line: 'hello' }]);
    off();
    expect(electron.ipcRenderer.listenerCount('jobs:event')).toBe(0);
    expect(() => (api.on as (c: string, l: () => void) => void)('raw-ipc', () => undefined)).toThrow();
  });

  it('gives a dropped file its path through webUtils', () => {
    expect(api.pathForFile({ name: 'Armbian.img' })).toBe('/Users/me/Downloads/Armbian.img');
  });
});
