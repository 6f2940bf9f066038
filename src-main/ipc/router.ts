/**
 * One entry point for every request, whatever carries it (Electron's ipcMain, the e2e test
 * server, the in-memory tests): check the channel and every argument, call the handler, and
 * return the result or the error as data.
 */
import { toAtlasError } from '../core/errors.js';
import type { Envelope, InvokeArgs, InvokeChannel, InvokeResult } from '../common/contract.js';
import { validateRequest } from './validate.js';

export type Handlers = {
  [K in InvokeChannel]: (...args: InvokeArgs<K>) => Promise<InvokeResult<K>>;
};

export type Dispatch = (channel: unknown, args: unknown) => Promise<Envelope<unknown>>;

export function createRouter(handlers: Handlers): Dispatch {
  return async (channel, args) => {
    try {
      const checked = validateRequest(channel, args);
      const handler = handlers[channel as InvokeChannel] as (...a: unknown[]) => Promise<unknown>;
      const value = await handler(...checked);
      return { ok: true, value: value === undefined ? null : value };
    } catch (e) {
      return { ok: false, error: toAtlasError(e).toJSON() };
    }
  };
}
