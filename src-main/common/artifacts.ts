/**
 * The artifacts of the workflow as every side sees them: their kinds and phases, the names they
 * carry, their manifests and library entries. Plain data only.
 */

export type ArtifactKind = 'golden-image' | 'clone-set' | 'clone-image';

export type Phase = 0 | 1 | 2;

export interface ParsedName {
  kind: ArtifactKind;
  phase: Phase;
  version?: string;
  tag?: string;
  name?: string;
}

export const MANIFEST_SCHEMA = 'atlas-imager/manifest@1';

export interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA;
  kind: ArtifactKind;
  phase: Phase;
  name: string;
  version?: string;
  tag?: string;
  createdAt: string;
  createdBy: { app: 'atlas-imager'; appVersion: string; host: string; builder: string };
  source: {
    path: string;
    kind: 'image' | 'card' | 'clone-set';
    bytes: number;
    sha256?: string;
    description?: string;
  };
  files: ManifestFile[];
  injected?: Array<{ path: string; what: string }>;
  layout?: Record<string, number | string>;
  /** Clone sets: how the partclone images were compressed (plain gzip either way). */
  compression?: { codec: string; level: number };
  /** The phase the source looked like when it was read (from its root file system). */
  sourceState?: string;
  tools: Record<string, string>;
  notes?: string[];
}

export interface LibraryEntry {
  name: string;
  path: string;
  kind: ArtifactKind;
  phase: Phase;
  version?: string;
  tag?: string;
  bytes: number;
  modifiedAt: string;
  hasManifest: boolean;
  manifest?: Manifest;
  /** Clone sets only: the seed's files that are missing. */
  missing?: string[];
  /** Why the entry cannot be trusted as it is (its manifest is damaged: not a file, too large, wrong types). */
  damaged?: string;
}
