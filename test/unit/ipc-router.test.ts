// The router: every request is validated before its handler runs, and every failure comes back
// as data (code, message, hint), never as a thrown object.
import { describe, expect, it, vi } from 'vitest';
import { AtlasError } from '../../src-main/core/errors.js';
import { createRouter, type Handlers } from '../../src-main/ipc/router.js';

function handlers(overrides: Partial<Handlers>): Handlers {
  return new Proxy(overrides as Handlers, {
    get: (target, key) => (target as Record<string | symbol, unknown>)[key] ?? vi.fn(async () => null),
  });
}

describe('createRouter', () => {
  it('calls the handler with the validated arguments and wraps its value', async () => {
    const reveal = vi.fn(async () => null);
    const dispatch = createRouter(handlers({ 'library:reveal': reveal }));
    expect(await dispatch('library:reveal', ['/lib/a.img'])).toEqual({ ok: true, value: null });
    expect(reveal).toHaveBeenCalledWith('/lib/a.img');
  });

  it('never calls a handler with arguments that failed validation', async () => {
    const start = vi.fn();
    const dispatch = createRouter(handlers({ 'jobs:start': start as unknown as Handlers['jobs:start'] }));
    const r = await dispatch('jobs:start', [{ kind: 'insert', base: 'base.img' }]);
    expect(r).toMatchObject({ ok: false, error: { code: 'bad-input' } });
    expect(start).not.toHaveBeenCalled();
  });

  it('turns thrown errors into data with their code and hint', async () => {
    const dispatch = createRouter(
      handlers({
        'library:list': async () => {
          throw new AtlasError('no-space', 'the disk is full', 'free some space');
        },
        'app:info': async () => {
          throw new TypeError('boom');
        },
      }),
    );
    expect(await dispatch('library:list', [])).toEqual({
      ok: false,
      error: { code: 'no-space', message: 'the disk is full', hint: 'free some space' },
    });
    expect(await dispatch('app:info', [])).toEqual({
      ok: false,
      error: { code: 'tool-failed', message: 'boom' },
    });
  });
});
