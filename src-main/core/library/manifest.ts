/**
 * manifest.json: what an artifact was made from and how, written beside every artifact
 * (`<image>.manifest.json`, or `manifest.json` inside a clone set). Written before the artifact
 * gets its final name, so a finished-looking artifact always has one.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ArtifactKind } from '../naming.js';
import { MANIFEST_SCHEMA, type Manifest } from '../../common/artifacts.js';
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

export async function readManifest(path: string): Promise<Manifest | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    return m.schema === MANIFEST_SCHEMA ? m : undefined;
  } catch {
    return undefined;
  }
}
