/**
 * A builder is where the Linux disk tools run: the local Linux host (as root) or, on a Mac, the
 * atlas-build Lima VM. Both run the same scripts from lima/scripts with the same arguments; the
 * only difference is how a process is started and how host paths are seen from the builder.
 */
import type { JobContext } from '../jobs/job.js';
import type { ScriptEvent } from './script-events.js';

export type BuilderScript =
  | 'clone_card.sh'
  | 'restore_golden.sh'
  | 'inject_atlas.sh'
  | 'shrink_image.sh'
  | 'probe_root.sh'
  | 'inspect_card.sh'
  | 'tool_versions.sh'
  | 'erase_image.sh'
  | 'fit_image.sh';

export interface ScriptOutcome {
  events: ScriptEvent[];
  results: Map<string, string[]>;
  log: string[];
}

export interface Builder {
  readonly kind: 'local' | 'lima';
  /**
   * Whether the builder can open the host's block devices itself. The local builder can; the
   * Lima VM cannot (no Lima release passes a Mac's card reader through), so the host reads the
   * card into the shared work dir first and writes results back to the card afterwards.
   */
  readonly seesHostDevices: boolean;
  /** A human description, e.g. "this Linux host (root)". */
  describe(): string;
  /** The path under which the builder sees a host path; throws when it cannot see it. */
  toBuilderPath(hostPath: string): string;
  /** Runs a builder script; progress and log go to ctx; fails with the script's own reason. */
  runScript(script: BuilderScript, args: string[], ctx: JobContext): Promise<ScriptOutcome>;
  /**
   * Makes atlas_secrets.conf readable by the inject step and returns its path as the builder sees
   * it. The content never appears in a log or on a command line.
   */
  stageSecrets(hostFile: string, ctx: JobContext): Promise<string>;
}
