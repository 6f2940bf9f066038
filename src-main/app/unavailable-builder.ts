/**
 * The builder and VM to use when no builder can be selected (a Mac before the atlas-build VM
 * backend is there): the app still opens, the library can be browsed, and every job that needs
 * the Linux tools fails with the reason the builder could not be selected and what to do.
 */
import { AtlasError, type SerializedError } from '../core/errors.js';
import type { Builder, ScriptOutcome } from '../core/builder/builder.js';
import type { VmBackend } from './vm-backend.js';

const UNAVAILABLE = new WeakSet<Builder>();

/** Is this the stand-in for a builder that could not be selected? */
export function isUnavailable(builder: Builder): boolean {
  return UNAVAILABLE.has(builder);
}

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
