/**
 * The app's services as the desktop app wires them: the builder of this machine (this host on
 * Linux, the atlas-build Lima VM on a Mac), its VM backend, and the backend on top. Electron main
 * calls this once; the end-to-end server calls it too, so the browser test drives the app's own
 * wiring. When no builder can be selected (Lima missing, VM not set up), the app still opens,
 * says why on the VM screen, and switches to the real builder once a VM job has made one.
 */
import type { Env } from '../core/phases/env.js';
import { builderProvider, envNow, type BuilderProvider } from '../app/builders.js';
import { pickBuilder, type PickOptions } from '../app/pick-builder.js';
import { isUnavailable } from '../app/unavailable-builder.js';
import { createBackend, type Backend, type BackendOptions } from './backend.js';

export type AppBackendOptions = Omit<BackendOptions, 'env' | 'vm' | 'builders'> &
  PickOptions & { library: string };

export interface AppBackend {
  backend: Backend;
  /** The builder the next job runs on (replaced when a VM job has made a better one). */
  builders: BuilderProvider;
  /** The library and the builder picked at start. */
  env: Env;
}

export async function createAppBackend(opts: AppBackendOptions): Promise<AppBackend> {
  const { library, platform, preference, ...rest } = opts;
  const pick = { ...(platform ? { platform } : {}), ...(preference ? { preference } : {}) };
  const { builder, vm } = await pickBuilder(library, pick);
  const builders = builderProvider(builder);
  const env = envNow(builders, library);
  const backend = createBackend({ ...rest, env, builders, ...(vm ? { vm } : {}) });
  // A VM job changes what the builder knows (a Lima builder read the VM's shared folders when it
  // was made, maybe before the VM existed): pick it again once one ends, which also selects a
  // builder that could not be selected before. Running jobs keep the builder they started with.
  backend.jobs.subscribe((e) => {
    const job = e.type === 'done' || e.type === 'failed' ? backend.jobs.get(e.jobId) : undefined;
    if (!job || !job.kind.startsWith('vm-')) return;
    void pickBuilder(library, pick).then((picked) => {
      if (!isUnavailable(picked.builder)) builders.replace(picked.builder);
    });
  });
  return { backend, builders, env };
}
