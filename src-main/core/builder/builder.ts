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
  | 'tool_versions.sh';

export interface ScriptOutcome {
  events: ScriptEvent[];
  results: Map<string, string[]>;
  log: string[];
}

export interface Builder {
  readonly kind: 'local' | 'lima';
  /** A human description, e.g. "this Linux host (root)". */
  describe(): string;
  /** The path under which the builder sees a host path; throws when it cannot see it. */
  toBuilderPath(hostPath: string): string;
  /** Runs a builder script; progress and log go to ctx; fails with the script's own reason. */
  runScript(script: BuilderScript, args: string[], ctx: JobContext): Promise<ScriptOutcome>;
}
