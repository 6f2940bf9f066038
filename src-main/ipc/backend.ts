/**
 * The app's backend, assembled once per process: the job registry, the handlers, the router and
 * the event stream. Electron main carries it over ipcMain; the e2e test server over HTTP; the
 * in-memory tests call `dispatch` directly. Nothing here imports Electron.
 */
import { AtlasError } from '../core/errors.js';
import type { Env } from '../core/phases/env.js';
import type { SecretVault } from '../core/secrets/secret-vault.js';
import type { CardCandidate, EventChannel, EventMap } from './contract.js';
import { createHandlers, type EventSink } from './handlers.js';
import { createVmCardsHandlers, localHostVm, type VmBackend } from './handlers-vm-cards.js';
import type { Host } from './host.js';
import { JobRegistry } from './job-registry.js';
import { CHANGES_LIBRARY } from './job-specs.js';
import { createRouter, type Dispatch, type Handlers } from './router.js';
import { SettingsStore } from './settings.js';
import { protectedPlaces } from './cards.js';
import { resolve } from 'node:path';
import { TerminalSessions } from './terminal-sessions.js';

export interface BackendOptions {
  env: Env;
  host: Host;
  settingsFile: string;
  stagingDir: string;
  /** atlas_secrets.conf, encrypted at rest (Electron: safeStorage). */
  vault: SecretVault;
  platform?: string;
  /** The VM backend; a Linux build host (local builder) needs none and gets `localHostVm`. */
  vm?: VmBackend;
  listCards?: () => Promise<CardCandidate[]>;
  progressIntervalMs?: number;
}

export type EventListener = <K extends EventChannel>(channel: K, payload: EventMap[K]) => void;

export interface Backend {
  dispatch: Dispatch;
  handlers: Handlers;
  jobs: JobRegistry;
  terminals: TerminalSessions;
  /** Every event for the renderer; returns a function that stops listening. */
  subscribe(listener: EventListener): () => void;
  /** Cancels running jobs (their cleanup removes partial output) and closes terminals. */
  dispose(): Promise<void>;
}

export function createBackend(opts: BackendOptions): Backend {
  const listeners = new Set<EventListener>();
  const emit: EventSink = (channel, payload) => {
    for (const l of listeners) {
      try {
        l(channel, payload);
      } catch {
        // One closed window or connection must not stop the others.
      }
    }
  };
  const jobs = new JobRegistry(
    opts.progressIntervalMs !== undefined ? { progressIntervalMs: opts.progressIntervalMs } : {},
  );
  jobs.subscribe((e) => {
    emit('jobs:event', e);
    if (e.type === 'done' || e.type === 'failed') {
      const job = jobs.get(e.jobId);
      if (job && CHANGES_LIBRARY.has(job.kind))
        emit('library:changed', { reason: `${job.title}: ${job.state}` });
    }
  });
  const terminals = new TerminalSessions(emit);
  const vm = opts.vm ?? localHostVm(opts.env.builder);
  if (!opts.vm && opts.env.builder.kind !== 'local') {
    throw new AtlasError('unsupported', 'a builder that is not this host needs its VM backend');
  }
  const settings = new SettingsStore(opts.settingsFile);
  const handlers = createHandlers({
    env: opts.env,
    host: opts.host,
    settings,
    jobs,
    emit,
    stagingDir: opts.stagingDir,
    platform: opts.platform ?? process.platform,
    vm,
    vault: opts.vault,
    vmCards: createVmCardsHandlers({
      vm,
      terminals,
      ...(opts.listCards ? { listCards: opts.listCards } : {}),
      places: async () =>
        protectedPlaces({
          library: resolve(opts.env.library),
          archiveDir: (await settings.get()).archiveDir,
          stagingDir: opts.stagingDir,
        }),
    }),
  });
  return {
    dispatch: createRouter(handlers),
    handlers,
    jobs,
    terminals,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async dispose() {
      terminals.closeAll();
      await jobs.cancelAll();
    },
  };
}
