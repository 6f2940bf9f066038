/**
 * Builds `window.atlas` from a transport. Shared by the preload script (transport: ipcRenderer)
 * and the e2e test bridge (transport: HTTP + Server-Sent Events), so both expose exactly the same
 * narrow API: known request channels, known event channels, the path of a dropped file. Main
 * checks every argument again; this side only refuses what is plainly not part of the contract.
 */
import {
  isEventChannel,
  isInvokeChannel,
  type AtlasApi,
  type Envelope,
  type EventChannel,
  type EventMap,
  type FileLike,
} from '../common/contract.js';

export interface BridgeTransport {
  invoke(channel: string, args: unknown[]): Promise<unknown>;
  subscribe(channel: string, listener: (payload: unknown) => void): () => void;
  pathForFile(file: FileLike): string;
}

export function createAtlasApi(t: BridgeTransport): AtlasApi {
  const api: AtlasApi = {
    invoke(channel, ...args) {
      if (!isInvokeChannel(channel)) {
        const refused: Envelope<never> = {
          ok: false,
          error: { code: 'bad-input', message: `unknown request channel ${String(channel)}` },
        };
        return Promise.resolve(refused);
      }
      return t.invoke(channel, args) as ReturnType<AtlasApi['invoke']>;
    },
    on<K extends EventChannel>(channel: K, listener: (payload: EventMap[K]) => void) {
      if (!isEventChannel(channel)) throw new Error(`unknown event channel ${String(channel)}`);
      if (typeof listener !== 'function') throw new Error('a listener must be a function');
      return t.subscribe(channel, (payload) => listener(payload as EventMap[K]));
    },
    pathForFile(file) {
      return t.pathForFile(file);
    },
  };
  return Object.freeze(api);
}
