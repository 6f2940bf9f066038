/**
 * A fake `window.atlas` for component tests: answers requests from handlers given per test
 * (with defaults for what every screen asks on mount), records every call, and emits events
 * the way the preload bridge delivers them.
 */
import type {
  AppInfo,
  EventChannel,
  EventMap,
  InvokeArgs,
  InvokeChannel,
  InvokeResult,
  JobEventDto,
  JobRequest,
  JobSummary,
  LibraryView,
  SecretsStatus,
} from '../../src-main/common/contract';
import type { NextStep } from '../../src-main/common/next-steps';
import { startedSummary } from '../../src-main/app/job-summary';

type Handler<K extends InvokeChannel> = (
  ...args: InvokeArgs<K>
) => InvokeResult<K> | Promise<InvokeResult<K>>;
export type FakeHandlers = { [K in InvokeChannel]?: Handler<K> };

export const INFO: AppInfo = {
  appVersion: '0.1.0',
  platform: 'darwin',
  library: '/Users/me/atlas-build',
  builder: 'the atlas-build Lima VM (vz, aarch64)',
  builderKind: 'lima',
  stagingDir: '/Users/me/Desktop',
};

export const EMPTY_LIBRARY: LibraryView = {
  library: '/Users/me/atlas-build',
  items: [],
  elsewhere: [],
  unfinished: [],
  archive: { dir: '/Volumes/NVME_VAULT/golden-atlas-img', available: true },
  staging: { dir: '/Users/me/Desktop', staged: null },
};

export const NO_SECRETS: SecretsStatus = {
  stored: false,
  encryptionAvailable: true,
  protectedBy: 'the macOS Keychain',
  keys: [],
  hasRootPassword: false,
  importedAt: null,
  importedFrom: null,
  damaged: false,
};

export function summary(request: JobRequest, over: Partial<JobSummary> = {}): JobSummary {
  return { ...startedSummary(`job-${request.kind}`, request, `${request.kind} job`), ...over };
}

const DEFAULTS: FakeHandlers = {
  'app:info': () => INFO,
  'settings:get': () => ({
    payloadDir: null,
    archiveDir: '/Volumes/NVME_VAULT/golden-atlas-img',
  }),
  'library:list': () => EMPTY_LIBRARY,
  'secrets:status': () => NO_SECRETS,
  'jobs:list': () => [],
  'cards:list': () => [],
  'names:suggest': () => ({
    golden: { version: '9.1.8', tag: 'ORIGIN' },
    cloneImage: { version: '9.1.8', tag: 'FLASH' },
    lastSet: null,
    lastSetTag: null,
  }),
  'names:plan': (req) =>
    req.kind === 'clone-set'
      ? {
          name: `golden-clone-${req.name}`,
          path: `/Users/me/atlas-build/golden-clone-${req.name}`,
          exists: false,
        }
      : {
          name: `ods-atlas-${req.kind === 'golden-image' ? 'golden' : 'clone'}-v${req.version.split('.').join('-')}-${req.tag}.img${req.kind === 'clone-image' && req.compress ? `.${req.compress}` : ''}`,
          path: '/Users/me/atlas-build/x.img',
          exists: false,
        },
  'names:next-set': (tag) => ({ previous: null, next: `v1-0-0-${tag}` }),
  'jobs:start': (request) => summary(request),
  'jobs:cancel': () => null,
};

export interface FakeAtlas {
  calls: Array<{ channel: InvokeChannel; args: unknown[] }>;
  callsOf<K extends InvokeChannel>(channel: K): Array<InvokeArgs<K>>;
  emit<K extends EventChannel>(channel: K, payload: EventMap[K]): void;
  job(e: JobEventDto): void;
}

export function installFakeAtlas(handlers: FakeHandlers = {}): FakeAtlas {
  const all = { ...DEFAULTS, ...handlers } as Record<string, (...a: unknown[]) => unknown>;
  const calls: FakeAtlas['calls'] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  window.atlas = {
    invoke: (async (channel: InvokeChannel, ...args: unknown[]) => {
      calls.push({ channel, args });
      const h = all[channel];
      if (!h) return { ok: false, error: { code: 'not-found', message: `no fake for ${channel}` } };
      try {
        return { ok: true, value: await h(...args) };
      } catch (e) {
        const err = e as { code?: string; message: string; hint?: string; next?: NextStep[] };
        return {
          ok: false,
          error: {
            code: err.code ?? 'tool-failed',
            message: err.message,
            ...(err.hint ? { hint: err.hint } : {}),
            ...(err.next?.length ? { next: err.next } : {}),
          },
        };
      }
    }) as typeof window.atlas.invoke,
    on: ((channel: string, listener: (p: unknown) => void) => {
      const set = listeners.get(channel) ?? new Set();
      set.add(listener);
      listeners.set(channel, set);
      return () => set.delete(listener);
    }) as typeof window.atlas.on,
    pathForFile: (file) => `/Users/me/Downloads/${file.name}`,
  };
  const fake: FakeAtlas = {
    calls,
    callsOf: (channel) => calls.filter((c) => c.channel === channel).map((c) => c.args as never),
    emit: (channel, payload) => listeners.get(channel)?.forEach((l) => l(payload)),
    job: (e) => fake.emit('jobs:event', e),
  };
  return fake;
}
