/**
 * A builder is where the Linux disk tools run: the local Linux host (as root) or, on a Mac, the
 * atlas-build Lima VM. Both run the same scripts from lima/scripts with the same arguments; the
 * only difference is how a process is started and how host paths are seen from the builder.
 */
import type { Readable } from 'node:stream';
import type { JobContext } from '../jobs/job.js';
import type { ScriptEvent } from './script-events.js';
import type { RawCard } from '../card-io/card-reads.js';
import type { TargetContext } from '../cards/target-guards.js';

export type BuilderScript =
  | 'clone_card.sh'
  | 'check_set.sh'
  | 'restore_golden.sh'
  | 'inject_atlas.sh'
  | 'shrink_image.sh'
  | 'probe_root.sh'
  | 'inspect_card.sh'
  | 'tool_versions.sh'
  | 'nbd_card.sh'
  | 'erase_image.sh'
  | 'fit_image.sh'
  | 'compress_image.sh';

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
  /**
   * Runs a builder script; progress and log go to ctx; fails with the script's own reason. With
   * `stdin` the script reads that stream (a partclone image made on the host, say).
   */
  runScript(
    script: BuilderScript,
    args: string[],
    ctx: JobContext,
    options?: { stdin?: Readable },
  ): Promise<ScriptOutcome>;
  /**
   * Makes atlas_secrets.conf readable by the inject step and returns its path as the builder sees
   * it. The content never appears in a log or on a command line.
   */
  stageSecrets(hostFile: string, ctx: JobContext): Promise<string>;
  /**
   * For a builder that does not see host devices: the card attached inside the builder as a
   * block device, served by the host; undefined (the reason in the job log) when the builder
   * cannot attach one, and the card is then staged in the work dir instead.
   */
  attachCard?(card: RawCard, options: AttachOptions, ctx: JobContext): Promise<AttachedCard | undefined>;
}

export interface AttachOptions {
  writable: boolean;
  /** Cross-check the card's file system maps before attaching it (clone). */
  checkMaps?: boolean;
  /** What a writable card must not be (the library's disk…), as for a write. */
  guard?: TargetContext;
}

export interface AttachedCard {
  /** The block device as the builder sees it, e.g. /dev/nbd0. */
  device: string;
  /** checkMaps: partitions whose maps are damaged, and what else was noticed. */
  damaged: string[];
  notes: string[];
  /** Flushes and detaches the device; the bytes read from and written to the card through it. */
  release(): Promise<{ readBytes: number; writtenBytes: number }>;
}
