/**
 * Which builder the app's next job runs on. The desktop app replaces it while it runs (a VM job
 * has made the atlas-build Lima builder usable); a job reads `current()` once, when it starts,
 * into the Env it runs with, and keeps that builder to its end. The CLI needs none of this: its
 * one Env holds its one builder.
 */
import type { Builder } from '../core/builder/builder.js';
import type { Env } from '../core/phases/env.js';

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
