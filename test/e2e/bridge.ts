/**
 * `window.atlas` for the end-to-end run, injected by Playwright before the renderer loads: the
 * same createAtlasApi as the preload script, over the test server's HTTP + Server-Sent Events
 * transport. A dropped file's path is looked up by its name among the files the test registered.
 */
import { createAtlasApi } from '../../src-main/ipc/bridge';
import type { AtlasApi } from '../../src-main/common/contract';

interface E2eConfig {
  token: string;
  files: Record<string, string>;
}

const w = window as unknown as { __ATLAS_E2E__: E2eConfig; atlas: AtlasApi };
const config = w.__ATLAS_E2E__;
const listeners = new Map<string, Set<(payload: unknown) => void>>();
const events = new EventSource(`/__atlas/events?token=${encodeURIComponent(config.token)}`);
events.onmessage = (m: MessageEvent<string>) => {
  const { channel, payload } = JSON.parse(m.data) as { channel: string; payload: unknown };
  for (const l of listeners.get(channel) ?? []) l(payload);
};

async function post(channel: string, args: unknown): Promise<unknown> {
  const r = await fetch('/__atlas/invoke', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-atlas-token': config.token },
    body: JSON.stringify({ channel, args }),
  });
  return r.json();
}

// Electron delivers IPC messages in order; separate HTTP requests may overtake each other. Terminal
// keystrokes are sent one after another, as ipcRenderer would deliver them.
let terminalQueue: Promise<unknown> = Promise.resolve();

w.atlas = createAtlasApi({
  invoke(channel, args) {
    if (channel !== 'terminal:input') return post(channel, args);
    const next = terminalQueue.then(() => post(channel, args));
    terminalQueue = next.catch(() => undefined);
    return next;
  },
  subscribe(channel, listener) {
    const set = listeners.get(channel) ?? new Set();
    set.add(listener);
    listeners.set(channel, set);
    return () => set.delete(listener);
  },
  pathForFile: (file) => config.files[file.name] ?? '',
});
