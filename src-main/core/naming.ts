/**
 * Artifact names of the seed workflow, and how a name tells the phase that produced it:
 *   ods-atlas-golden-vN-P[-Q]-TAG.img    Phase 0 (Insert)   golden image
 *   golden-clone-NAME/                   Phase 1 (Clone)    clone set
 *   ods-atlas-clone-vN-P[-Q]-TAG.img     Phase 2 (Shrink)   flashable clone image
 *   ods-atlas-clone-vN-P[-Q]-TAG.img.xz|.img.zst                the same, as a distributable
 * An image's sidecars: NAME.manifest.json, the block map X.img.bmap (for X.img and X.img.zst
 * alike, where bmaptool looks for it) and, for a distributable, NAME.sha256.
 */
import { validateName, validateTag, validateVersion } from './validate.js';
import { type ArtifactKind, type Phase, type ParsedName } from '../common/artifacts.js';
export { type ArtifactKind, type Phase, type ParsedName } from '../common/artifacts.js';

export const PHASE_OF: Record<ArtifactKind, Phase> = { 'golden-image': 0, 'clone-set': 1, 'clone-image': 2 };

export function versionSlug(version: string): string {
  return `v${validateVersion(version).split('.').join('-')}`;
}

export function goldenImageName(version: string, tag: string): string {
  return `ods-atlas-golden-${versionSlug(version)}-${validateTag(tag)}.img`;
}

export function cloneImageName(version: string, tag: string): string {
  return `ods-atlas-clone-${versionSlug(version)}-${validateTag(tag)}.img`;
}

export const CLONE_SET_PREFIX = 'golden-clone-';

/** `my-backup` -> `golden-clone-my-backup`; a name that already has the prefix is kept. */
export function cloneSetDirName(name: string): string {
  validateName(name);
  return name.startsWith(CLONE_SET_PREFIX) ? name : `${CLONE_SET_PREFIX}${name}`;
}

const IMAGE_RE =
  /^ods-atlas-(golden|clone)-v(\d{1,3}(?:-\d{1,3}){0,2})-([A-Za-z][A-Za-z0-9_]{0,31})\.img(\.xz|\.zst)?$/;
const SET_VERSION_RE = /^v(\d{1,3}(?:-\d{1,3}){0,2})-([A-Za-z][A-Za-z0-9_]{0,31})$/;

export function parseArtifactName(fileName: string): ParsedName | undefined {
  const m = IMAGE_RE.exec(fileName);
  // Only a clone image is published compressed (a golden image is flashed and modified as .img).
  if (m && !(m[4] && m[1] === 'golden')) {
    const kind: ArtifactKind = m[1] === 'golden' ? 'golden-image' : 'clone-image';
    return { kind, phase: PHASE_OF[kind], version: m[2]!.split('-').join('.'), tag: m[3]! };
  }
  if (fileName.startsWith(CLONE_SET_PREFIX) || fileName === 'golden-clone') {
    const name = fileName.slice(CLONE_SET_PREFIX.length);
    const v = SET_VERSION_RE.exec(name);
    return v
      ? { kind: 'clone-set', phase: 1, name, version: v[1]!.split('-').join('.'), tag: v[2]! }
      : { kind: 'clone-set', phase: 1, name };
  }
  return undefined;
}

/** The safety-net name that follows the last one: v8-0-6-FLASH -> v8-0-7-TAG. */
export function suggestNextSetName(previous: string | undefined, tag: string): string {
  const v = previous ? SET_VERSION_RE.exec(previous.replace(CLONE_SET_PREFIX, '')) : null;
  if (!v) return `v1-0-0-${validateTag(tag)}`;
  const parts = v[1]!.split('-').map(Number);
  parts[parts.length - 1] = parts[parts.length - 1]! + 1;
  return `v${parts.join('-')}-${validateTag(tag)}`;
}

/** The block map and checksum file that belong to an image (they may not exist). */
export function imageSidecars(imagePath: string): { bmap: string; sha256: string } {
  return { bmap: `${imagePath.replace(/\.(xz|gz|zst)$/i, '')}.bmap`, sha256: `${imagePath}.sha256` };
}
