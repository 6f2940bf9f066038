/**
 * Which builder the app's jobs run on, all in this file. The core decides which builder this
 * machine has (core/lima/select-builder.ts: this host on Linux, the atlas-build Lima VM on a Mac,
 * ATLAS_BUILDER=local|lima overriding); the app holds that choice while it runs:
 *
 * - at start, the builder of this machine and its VM backend (`pickBuilder`);
 * - when none can be selected (Lima missing, VM not set up), a stand-in that says why when a job
 *   uses it, and a Mac still gets the Lima VM backend to set the VM up (`unavailableBuilder`,
 *   `unavailableVm`); the app still opens and the library can be browsed;
 * - the builder of the moment (`BuilderProvider`): a job reads `current()` once, when it starts,
 *   into the Env it runs with, and keeps that builder to its end;
 * - picked again once a VM job ends (`pickAgainAfterVmJobs`), which replaces it for the jobs
 *   that start from then on.
 *
 * The CLI needs none of this: its one Env holds the one builder selectBuilder gave it.
 */
import { AtlasError, toAtlasError, type SerializedError } from '../core/errors.js';
import type { Builder, ScriptOutcome } from '../core/builder/builder.js';
import { selectBuilder } from '../core/lima/select-builder.js';
import type { Env } from '../core/phases/env.js';
import type { JobRegistry } from './job-registry.js';
import { limaVm, type VmBackend } from './vm-backend.js';

// --- the builder of the moment ---------------------------------------------------------------

export interface BuilderProvider {
  /** The builder a job starting now runs on. */
  current(): Builder;
  /** The builder for the jobs that start from now on; running jobs keep theirs. */
  replace(builder: Builder): void;
}

export function builderProvider(initial: Builder): BuilderProvider {
  let builder = initial;
  return {
    current: () => builder,
    replace(next) {
      builder = next;
    },
  };
}

/** The Env of a job starting now: the library and the builder of the moment, fixed for the job. */
export function envNow(builders: BuilderProvider, library: string): Env {
  return { builder: builders.current(), library };
}

// --- the builder of this machine -------------------------------------------------------------

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

/**
 * A VM job changes what the builder knows (a Lima builder read the VM's shared folders when it
 * was made, maybe before the VM existed): pick it again once one ends, which also selects a
 * builder that could not be selected before. Running jobs keep the builder they started with.
 * Returns a function that stops following the jobs.
 */
export function pickAgainAfterVmJobs(
  jobs: JobRegistry,
  builders: BuilderProvider,
  library: string,
  opts: PickOptions = {},
): () => void {
  return jobs.subscribe((e) => {
    const job = e.type === 'done' || e.type === 'failed' ? jobs.get(e.jobId) : undefined;
    if (!job || !job.kind.startsWith('vm-')) return;
    void pickBuilder(library, opts).then((picked) => {
      if (!isUnavailable(picked.builder)) builders.replace(picked.builder);
    });
  });
}

// --- when no builder can be selected ---------------------------------------------------------

const UNAVAILABLE = new WeakSet<Builder>();

/** Is this the stand-in for a builder that could not be selected? */
export function isUnavailable(builder: Builder): boolean {
  return UNAVAILABLE.has(builder);
}

/** A builder whose every script fails with the reason no builder could be selected. */
export function unavailableBuilder(reason: SerializedError): Builder {
  const fail = (): never => {
    throw AtlasError.from(reason);
  };
  const builder: Builder = {
    kind: 'local',
    seesHostDevices: false,
    describe: () => `no builder (${reason.message})`,
    toBuilderPath: (p: string) => p,
    runScript: async (): Promise<ScriptOutcome> => fail(),
    stageSecrets: async (): Promise<string> => fail(),
  };
  UNAVAILABLE.add(builder);
  return builder;
}

/** The VM screen's view of the same situation: not available, with the reason and the way out. */
export function unavailableVm(reason: SerializedError): VmBackend {
  const fail = async (): Promise<never> => {
    throw AtlasError.from(reason);
  };
  return {
    status: async () => ({
      needed: true,
      name: 'atlas-build',
      state: 'unknown',
      detail: reason.hint ? `${reason.message} — ${reason.hint}` : reason.message,
      terminal: false,
    }),
    doctor: async () => ({
      ok: false,
      findings: [
        {
          id: 'builder',
          ok: false,
          severity: 'error',
          message: reason.message,
          ...(reason.hint ? { hint: reason.hint } : {}),
          ...(reason.next ? { next: reason.next } : {}),
        },
      ],
    }),
    setup: fail,
    upgrade: fail,
    recreate: fail,
    recreatePreview: fail,
    start: fail,
    stop: fail,
    shell: fail,
  };
}
