/**
 * The renderer's only way out: `window.atlas`, as exposed by the preload bridge. `call` unwraps
 * the result envelope and throws an ApiError that keeps the error's code and hint, so screens
 * can say what happened and what to do next.
 */
import type {
  AtlasApi,
  ErrorInfo,
  EventChannel,
  EventMap,
  FileLike,
  InvokeArgs,
  InvokeChannel,
  InvokeResult,
} from '../../src-main/ipc/contract';

declare global {
  interface Window {
    atlas: AtlasApi;
  }
}

export class ApiError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    this.hint = info.hint;
  }

  get info(): ErrorInfo {
    return this.hint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, hint: this.hint };
  }
}

function atlas(): AtlasApi {
  if (!window.atlas) throw new ApiError({ code: 'unsupported', message: 'the app bridge is missing' });
  return window.atlas;
}

export async function call<K extends InvokeChannel>(
  channel: K,
  ...args: InvokeArgs<K>
): Promise<InvokeResult<K>> {
  const r = await atlas().invoke(channel, ...args);
  if (!r.ok) throw new ApiError(r.error);
  return r.value;
}

export function on<K extends EventChannel>(channel: K, listener: (payload: EventMap[K]) => void): () => void {
  return atlas().on(channel, listener);
}

export function pathForFile(file: FileLike): string {
  return atlas().pathForFile(file);
}

/** Any thrown value as ErrorInfo, for display. */
export function errorInfo(e: unknown): ErrorInfo {
  if (e instanceof ApiError) return e.info;
  return { code: 'tool-failed', message: e instanceof Error ? e.message : String(e) };
}
