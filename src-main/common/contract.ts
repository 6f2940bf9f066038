/**
 * The one IPC contract of Atlas Imager, shared by Electron main, the preload bridge and the
 * renderer: every request channel with the schema of its arguments and its result
 * (contract/channels.ts), the requests' schemas (contract/requests.ts), and the views and events
 * they carry (contract/views.ts).
 *
 * Results travel as data, never as thrown objects (VS Code style): `Envelope<T>` is either the
 * value or an error with its code, message, hint and next steps. Long operations are jobs:
 * `jobs:start` returns at once, `jobs:event` streams steps, progress, log lines and the outcome,
 * and `jobs:cancel` stops one.
 *
 * No Node here: the renderer compiles and bundles the contract as it is (with valibot, the schema
 * library, which is pure).
 */
import type { EventChannel, EventMap, InvokeArgs, InvokeChannel, InvokeResult } from './contract/channels.js';
import type { Envelope } from './contract/views.js';

export * from './contract/channels.js';
export * from './contract/requests.js';
export * from './contract/views.js';

/** Anything with a name: a DOM File in the renderer (kept structural so main compiles without DOM). */
export interface FileLike {
  readonly name: string;
}

/** `window.atlas`, exposed by the preload script (or by the e2e test bridge). Nothing else. */
export interface AtlasApi {
  invoke<K extends InvokeChannel>(channel: K, ...args: InvokeArgs<K>): Promise<Envelope<InvokeResult<K>>>;
  on<K extends EventChannel>(channel: K, listener: (payload: EventMap[K]) => void): () => void;
  /** The file system path of a file dropped on the window (Electron: webUtils.getPathForFile). */
  pathForFile(file: FileLike): string;
}
