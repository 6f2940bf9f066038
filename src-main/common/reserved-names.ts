/**
 * Names the library keeps for itself. Unfinished output ends in `.partial` (never listed, and
 * deleted by the next job on the same name); sidecars end in `.bmap`, `.sha256` and `.manifest.json`; job
 * locks end in `.lock`. A user-chosen name must not end in any of them, in any letter case (the
 * Mac's file system does not tell `.PARTIAL` from `.partial`).
 */
export const PARTIAL_SUFFIX = '.partial';

export const RESERVED_SUFFIXES = [PARTIAL_SUFFIX, '.bmap', '.sha256', '.manifest.json', '.lock'] as const;

/** The reserved suffix `name` ends with, if any. */
export function reservedSuffixOf(name: string): string | undefined {
  const lower = name.toLowerCase();
  return RESERVED_SUFFIXES.find((s) => lower.endsWith(s));
}

/** An unfinished job's output (a file or folder still named `*.partial`). */
export function isUnfinished(name: string): boolean {
  return name.toLowerCase().endsWith(PARTIAL_SUFFIX);
}
