/**
 * The builder of this machine and its VM backend: this host on Linux, the atlas-build Lima VM on
 * a Mac. Never fails: when none can be selected (Lima missing, VM not set up), an unavailable
 * builder says why when a job uses it, and a Mac still gets the Lima VM backend to set the VM up.
 */
import { toAtlasError } from '../core/errors.js';
import { selectBuilder } from '../core/lima/select-builder.js';
import type { Builder } from '../core/builder/builder.js';
import { limaVm, type VmBackend } from './vm-backend.js';
import { unavailableBuilder, unavailableVm } from './unavailable-builder.js';

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
