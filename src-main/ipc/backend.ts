/**
 * The app's backend, assembled once per process: the job registry, the handlers, the router and
 * the event stream. Electron main carries it over ipcMain; the e2e test server over HTTP; the
 * in-memory tests call `dispatch` directly. Nothing here imports Electron.
 */
import { AtlasError } from '../core/errors.js';
import type { Env } from '../core/phases/env.js';
import type { SecretVault } from '../core/secrets/secret-vault.js';
import { builderProvider, type BuilderProvider } from '../app/builders.js';
import type { Host } from '../app/host.js';
import { JobRegistry } from '../app/job-registry.js';
import { CHANGES_LIBRARY } from '../app/job-specs.js';
import { SettingsStore } from '../app/settings.js';
import { TerminalSessions } from '../app/terminal-sessions.js';
import { localHostVm, type VmBackend } from '../app/vm-backend.js';
import type { CardCandidate, EventChannel, EventMap } from '../common/contract.js';
import { createHandlers, type EventSink } from './handlers.js';
import { createRouter, type Dispatch, type Handlers } from './router.js';

export interface BackendOptions {
  /** The library, and the builder jobs run on unless `builders` is given. */
  env: Env;
  /** The builder of the moment, when it may be replaced while the app runs (see app/builders.ts). */
  builders?: BuilderProvider;
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
  const builders = opts.builders ?? builderProvider(opts.env.builder);
  const vm = opts.vm ?? localHostVm(builders.current());
  if (!opts.vm && builders.current().kind !== 'local') {
    throw new AtlasError('unsupported', 'a builder that is not this host needs its VM backend');
  }
  const settings = new SettingsStore(opts.settingsFile);
  const handlers = createHandlers({
    library: opts.env.library,
    builders,
    host: opts.host,
    settings,
    jobs,
    emit,
    stagingDir: opts.stagingDir,
    platform: opts.platform ?? process.platform,
    vm,
    vault: opts.vault,
    terminals,
    ...(opts.listCards ? { listCards: opts.listCards } : {}),
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
