/**
 * manifest.json: what an artifact was made from and how, written beside every artifact
 * (`<image>.manifest.json`, or `manifest.json` inside a clone set). Written before the artifact
 * gets its final name, so a finished-looking artifact always has one.
 */
import { rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { ArtifactKind } from '../naming.js';
import { MANIFEST_SCHEMA, type Manifest } from '../../common/artifacts.js';
import { checkManifest } from '../../common/manifest-schema.js';
import { shownExcerpt } from '../../common/shown-text.js';
import { readRegularFile } from './regular-file.js';
export { MANIFEST_SCHEMA, type ManifestFile, type Manifest } from '../../common/artifacts.js';

export const APP_VERSION = '0.1.0';

export function manifestPathFor(artifactPath: string, kind: ArtifactKind): string {
  return kind === 'clone-set' ? join(artifactPath, 'manifest.json') : `${artifactPath}.manifest.json`;
}

export function newManifest(
  fields: Omit<Manifest, 'schema' | 'createdAt' | 'createdBy'> & { builder: string },
): Manifest {
  const { builder, ...rest } = fields;
  return {
    schema: MANIFEST_SCHEMA,
    ...rest,
    createdAt: new Date().toISOString(),
    createdBy: { app: 'atlas-imager', appVersion: APP_VERSION, host: hostname(), builder },
  };
}

/** Writes atomically: a temporary file, then a rename. */
export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  const tmp = `${path}.partial`;
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

/** A manifest is small: a larger file is not read. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

/**
 * The manifest at `path` as it was read: none (no file there), a manifest that passed its checks,
 * or why it is damaged (not a regular file, too large, not JSON, a value of the wrong type).
 * The reason quotes nothing of the file but the name of the field that failed.
 */
export async function loadManifest(path: string): Promise<{ manifest?: Manifest; damaged?: string }> {
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MANIFEST_MAX_BYTES, basename(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { damaged: e instanceof Error ? e.message : String(e) };
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { damaged: `${basename(path)} is not JSON` };
  }
  const r = checkManifest(value);
  if (!r.ok) return { damaged: `${basename(path)}: ${shownExcerpt(r.why, 160)}` };
  return { manifest: r.manifest };
}

/** The manifest at `path`, or undefined when there is none or it is damaged. */
export async function readManifest(path: string): Promise<Manifest | undefined> {
  return (await loadManifest(path)).manifest;
}
