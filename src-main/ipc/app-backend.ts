/**
 * The app's services as the desktop app wires them: the builder of this machine and its VM
 * backend (app/builders.ts: picked at start, a stand-in when none can be selected, picked again
 * after a VM job), and the backend on top. Electron main calls this once; the end-to-end server
 * calls it too, so the browser test drives the app's own wiring.
 */
import type { Env } from '../core/phases/env.js';
import {
  builderProvider,
  envNow,
  pickAgainAfterVmJobs,
  pickBuilder,
  type BuilderProvider,
  type PickOptions,
} from '../app/builders.js';
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
  pickAgainAfterVmJobs(backend.jobs, builders, library, pick);
  return { backend, builders, env };
}
