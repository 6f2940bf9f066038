/**
 * A small library for the IPC tests, without root or disk tools: a golden image, a clone set and a
 * clone image with real manifests (made by the core's own manifest code) and random content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newManifest, writeManifest, manifestPathFor } from '../../src-main/core/library/manifest.js';
import { scratch } from '../helpers/fixtures.js';

export const GOLDEN = 'ods-atlas-golden-v9-1-7-ORIGIN.img';
export const SET = 'golden-clone-v8-0-6-FLASH';
export const CLONE_IMAGE = 'ods-atlas-clone-v9-1-7-FLASH.img';

export function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface TestLibrary {
  root: string;
  library: string;
  archive: string;
  desktop: string;
  golden: string;
  set: string;
  cloneImage: string;
}

async function image(library: string, name: string, kind: 'golden-image' | 'clone-image', bytes: number) {
  const path = join(library, name);
  writeFileSync(path, randomBytes(bytes));
  const m = newManifest({
    kind,
    phase: kind === 'golden-image' ? 0 : 2,
    name,
    version: '9.1.7',
    tag: kind === 'golden-image' ? 'ORIGIN' : 'FLASH',
    builder: 'test',
    source: { path: '/dev/null', kind: 'image', bytes },
    files: [{ name, bytes, sha256: sha(path) }],
    tools: {},
  });
  await writeManifest(manifestPathFor(path, kind), m);
  return path;
}

export async function makeLibrary(name: string): Promise<TestLibrary> {
  const root = scratch(name);
  const library = join(root, 'atlas-build');
  const archive = join(root, 'Volumes', 'NVME_VAULT', 'golden-atlas-img');
  const desktop = join(root, 'Desktop');
  for (const d of [library, join(root, 'Volumes', 'NVME_VAULT'), desktop]) mkdirSync(d, { recursive: true });
  const golden = await image(library, GOLDEN, 'golden-image', 3 * 1024 * 1024 + 17);
  const cloneImage = await image(library, CLONE_IMAGE, 'clone-image', 2 * 1024 * 1024);
  const set = join(library, SET);
  mkdirSync(set);
  const files = [
    'partition-table.dump',
    'sdc1-boot.partclone.gz',
    'sdc2-root.partclone.gz',
    'restore_golden.sh',
  ];
  for (const f of files) writeFileSync(join(set, f), randomBytes(40_000));
  await writeManifest(
    manifestPathFor(set, 'clone-set'),
    newManifest({
      kind: 'clone-set',
      phase: 1,
      name: SET,
      version: '8.0.6',
      tag: 'FLASH',
      builder: 'test',
      source: { path: '/dev/sdc', kind: 'card', bytes: 1 },
      files: files.map((f) => ({ name: f, bytes: 40_000, sha256: sha(join(set, f)) })),
      tools: {},
    }),
  );
  return { root, library, archive, desktop, golden, set, cloneImage };
}
