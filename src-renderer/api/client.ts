/**
 * The renderer's only way out: `window.atlas`, as exposed by the preload bridge. `call` unwraps
 * the result envelope and throws an ApiError that keeps the error's code, hint and next steps, so screens
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
} from '../../src-main/common/contract';
import type { NextStep } from '../../src-main/common/next-steps';

declare global {
  interface Window {
    atlas: AtlasApi;
  }
}

export class ApiError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly next: NextStep[] | undefined;

  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    this.hint = info.hint;
    this.next = info.next;
  }

  get info(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.next?.length ? { next: this.next } : {}),
    };
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
