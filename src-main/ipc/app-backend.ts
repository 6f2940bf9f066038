/**
 * The app's services as the desktop app wires them: the builder of this machine (this host on
 * Linux, the atlas-build Lima VM on a Mac), its VM backend, and the backend on top. Electron main
 * calls this once; the end-to-end server calls it too, so the browser test drives the app's own
 * wiring. When no builder can be selected (Lima missing, VM not set up), the app still opens,
 * says why on the VM screen, and switches to the real builder once a VM job has made one.
 */
import { toAtlasError } from '../core/errors.js';
import { selectBuilder } from '../core/lima/select-builder.js';
import type { Builder } from '../core/builder/builder.js';
import type { Env } from '../core/phases/env.js';
import { createBackend, type Backend, type BackendOptions } from './backend.js';
import { limaVm, type VmBackend } from './handlers-vm-cards.js';
import { isUnavailable, unavailableBuilder, unavailableVm } from './unavailable-builder.js';

export interface PickOptions {
  /** Defaults to the running platform: a Mac gets the Lima VM backend even without a builder. */
  platform?: NodeJS.Platform;
  /** local or lima; default ATLAS_BUILDER, else by platform (see select-builder.ts). */
  preference?: string;
}

/** The builder and its VM backend; never fails (an unavailable builder says why when used). */
export async function pickBuilder(
  library: string,
  opts: PickOptions = {},
): Promise<{ builder: Builder; vm?: VmBackend }> {
  try {
    const builder = await selectBuilder(library, opts.preference ?? process.env.ATLAS_BUILDER);
    return builder.kind === 'lima' ? { builder, vm: limaVm(library) } : { builder };
  } catch (e) {
    const reason = toAtlasError(e).toJSON();
    const onMac = (opts.platform ?? process.platform) === 'darwin';
    return { builder: unavailableBuilder(reason), vm: onMac ? limaVm(library) : unavailableVm(reason) };
  }
}

export type AppBackendOptions = Omit<BackendOptions, 'env' | 'vm'> & PickOptions & { library: string };

export async function createAppBackend(opts: AppBackendOptions): Promise<{ backend: Backend; env: Env }> {
  const { library, platform, preference, ...rest } = opts;
  const pick = { ...(platform ? { platform } : {}), ...(preference ? { preference } : {}) };
  const { builder, vm } = await pickBuilder(library, pick);
  // One env object, shared with every handler: replacing its builder switches the whole backend.
  const env: Env = { builder, library };
  const backend = createBackend({ ...rest, env, ...(vm ? { vm } : {}) });
  // A VM job changes what the builder knows (a Lima builder read the VM's shared folders when it
  // was made, maybe before the VM existed): pick it again once one ends, which also selects a
  // builder that could not be selected before. Running jobs keep the builder they started with.
  backend.jobs.subscribe((e) => {
    const job = e.type === 'done' || e.type === 'failed' ? backend.jobs.get(e.jobId) : undefined;
    if (!job || !job.kind.startsWith('vm-')) return;
    void pickBuilder(library, pick).then((picked) => {
      if (!isUnavailable(picked.builder)) env.builder = picked.builder;
    });
  });
  return { backend, env };
}
